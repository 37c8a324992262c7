/**
 * Timeouts fire live as in replay: when an actor's deadline passes with
 * nothing else happening, the host records a host.tick, and the router fires
 * the timeout on it; replaying the same records gives the same transitions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { ZERO_HASH } from '../../machines/events/record.ts';
import type { MachineBinding } from '../../machines/host/binding.ts';
import { replay } from '../../machines/host/replay.ts';
import { FakeXen } from './fake-helper.ts';
import { LiveHost } from './host.ts';
import { CollectingSink, tempDir, until } from './test-support.ts';

/** Waits 1000 ms (record clock) after /local/domain/0/wait is written, then times out. */
const waiter = setup({
  types: { context: {} as { deadline: number | undefined }, events: {} as { type: string; ts: number; seq: number } },
  guards: { isDue: ({ context, event }) => context.deadline !== undefined && event.ts >= context.deadline },
  actions: {
    startWaiting: assign({ deadline: ({ event }) => event.ts + 1000 }),
    stopWaiting: assign({ deadline: undefined }),
  },
}).createMachine({
  id: 'waiter',
  context: { deadline: undefined },
  initial: 'idle',
  states: {
    idle: { on: { 'wait.start': { target: 'waiting', actions: 'startWaiting' } } },
    waiting: { on: { 'clock.tick': { guard: 'isDue', target: 'timedOut', actions: 'stopWaiting' } } },
    timedOut: {},
  },
});

const waiterBinding: MachineBinding = {
  kind: 'waiter',
  version: '1',
  machine: waiter,
  route: (rec) =>
    rec.type === 'xs.write' && (rec.data as { path: string }).path === '/local/domain/0/wait'
      ? [{ id: 'waiter:00000000-0000-0000-0000-000000000000', uuid: '00000000-0000-0000-0000-000000000000', input: {}, event: { type: 'wait.start', ts: rec.ts } }]
      : [],
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('host.tick', () => {
  it('records a tick once a deadline has passed, and the timeout fires on it, live and in replay', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    let now = 1_000_000;
    const xen = new FakeXen();
    const host = new LiveHost({ dataDir: t.dir, launch: () => xen.launch(), user: 'alice', bindings: [waiterBinding], now: () => now, tickMs: 10, dominfoPollMs: 0 });
    cleanups.push(() => host.stop());
    const sink = new CollectingSink();
    await host.start();
    host.connect(sink, { seq: 0, hash: ZERO_HASH });
    await host.whenReady();
    xen.write('/local/domain/0/wait', '1');
    await until(() => host.view().actors.some((a) => a.state === 'waiting'), 'the actor to wait');
    // Nothing is due yet: no tick however often the host looks.
    now += 999;
    host.tick();
    host.flush();
    expect(sink.ofType('host.tick')).toEqual([]);
    now += 1;
    await until(() => host.view().actors.some((a) => a.state === 'timedOut'), 'the timeout to fire');
    host.flush();
    const ticks = sink.ofType('host.tick');
    expect(ticks).toHaveLength(1);
    expect(ticks[0].ts).toBe(1_001_000);
    // No more ticks once nothing waits.
    host.tick();
    host.flush();
    expect(sink.ofType('host.tick')).toHaveLength(1);
    const r = replay(sink.records, [waiterBinding]);
    expect(r.mismatch).toBeNull();
    expect(r.view.actors.map((a) => a.state)).toEqual(['timedOut']);
  });
});
