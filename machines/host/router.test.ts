import { describe, it, expect } from 'vitest';
import { assign, setup } from 'xstate';
import fc from 'fast-check';
import { HostRouter } from './router.ts';
import { Replayer, replay } from './replay.ts';
import { Recorder, uuidOfActor } from './recorder.ts';
import { stateString, type MachineBinding } from './binding.ts';
import type { Observation, XRecord } from '../events/record.ts';

/** A toy device: waits 10 s for state 4 after state 2, else stalls. */
type Ev = { type: 'state'; v: string; ts: number; seq: number } | { type: 'clock.tick'; ts: number; seq: number } | { type: 'boom'; ts: number; seq: number };
const toy = setup({
  types: { context: {} as { deadline?: number; since: number }, events: {} as Ev, input: {} as { since: number } },
  guards: {
    isWaiting: ({ event }) => event.type === 'state' && event.v === '2',
    isUp: ({ event }) => event.type === 'state' && event.v === '4',
    isPastDeadline: ({ context, event }) => context.deadline !== undefined && event.ts >= context.deadline,
  },
  actions: {
    armTimer: assign({ deadline: ({ event }) => event.ts + 10_000 }),
    clearTimer: assign({ deadline: () => undefined }),
    explode: () => {
      throw new Error('kaboom');
    },
  },
}).createMachine({
  id: 'toy',
  context: ({ input }) => ({ since: input.since, deadline: undefined }),
  initial: 'init',
  states: {
    init: { on: { state: [{ guard: 'isWaiting', target: 'waiting', actions: 'armTimer' }, { guard: 'isUp', target: 'up' }] } },
    waiting: { on: { state: { guard: 'isUp', target: 'up', actions: 'clearTimer' }, 'clock.tick': { guard: 'isPastDeadline', target: 'stalled', actions: 'clearTimer' } } },
    stalled: { on: { state: { guard: 'isUp', target: 'up' } } },
    up: { on: { boom: { actions: 'explode' } } },
  },
});
const toyBinding: MachineBinding = {
  kind: 'toy',
  version: '1',
  machine: toy,
  route(rec, ctx) {
    if (rec.type === 'xs.write') {
      const m = /^\/local\/domain\/(\d+)\/device\/toy\/(\d+)\/state$/.exec((rec.data as { path: string }).path);
      if (!m) return [];
      const uuid = ctx.uuidOf(Number(m[1]));
      if (!uuid) return [];
      return [{ id: `toy:${uuid}:toy/${m[2]}`, uuid, input: { since: rec.seq }, event: { type: 'state', v: (rec.data as { value: string }).value, ts: rec.ts } }];
    }
    if (rec.type === 'sim.step' && rec.uuid) return [{ id: `toy:${rec.uuid}:toy/0`, uuid: rec.uuid, event: { type: 'boom', ts: rec.ts } }];
    return [];
  },
  incident(t) {
    return t.to === 'stalled' ? { kind: 'handshake-stall', summary: `${t.actor} stalled`, start: t.context.since } : null;
  },
};

const U = '11111111-2222-3333-4444-555555555555';
const obs = (ts: number, path: string, value: string): Observation => ({ ts, src: 'xs', type: 'xs.write', data: { path, value } });
const script: Observation[] = [
  obs(1000, '/local/domain/7/vm', `/vm/${U}`),
  obs(1100, '/local/domain/7/device/toy/0/state', '1'),
  obs(1200, '/local/domain/7/device/toy/0/state', '2'),
  obs(5000, '/local/domain/7/data/x', 'y'),
  obs(12_000, '/local/domain/7/data/x', 'z'),
  obs(13_000, '/local/domain/7/device/toy/0/state', '4'),
];

function record(list: Observation[]): XRecord[] {
  const r = new Recorder([toyBinding]);
  return list.flatMap((o) => r.observe(o));
}

describe('host router', () => {
  it('learns uuid from /local/domain/<id>/vm and creates actors from the first delivery', () => {
    const r = new HostRouter([toyBinding]);
    const recs = record(script.slice(0, 2)).filter((x) => x.type !== 'machine.transition');
    const ts = recs.flatMap((x) => r.apply(x));
    expect(r.uuidOf(7)).toBe(U);
    expect(ts).toEqual([{ actor: `toy:${U}:toy/0`, from: '-', to: 'init', cause: recs[1].seq }]);
  });

  it('fires deadlines on the record clock, before the record that passes them', () => {
    const recs = record(script);
    const { view, transitions } = replay(recs, [toyBinding]);
    const late = recs.find((x) => x.type === 'xs.write' && (x.data as { value: string }).value === 'z')!;
    expect(transitions.map((t) => `${t.from}>${t.to}@${t.cause}`)).toContain(`waiting>stalled@${late.seq}`);
    expect(view.actors.find((a) => a.id === `toy:${U}:toy/0`)?.state).toBe('up');
    expect(view.incidents).toEqual([expect.objectContaining({ kind: 'handshake-stall', from: 2, to: late.seq, uuid: U })]);
  });

  it('keeps the mirror as of before each record for routes, and after it for the next', () => {
    const r = new HostRouter([toyBinding]);
    for (const x of record(script)) r.apply(x);
    expect(r.read('/local/domain/7/data/x')).toBe('z');
    expect(r.children('/local/domain/7')).toEqual(['data', 'device', 'vm']);
  });

  it('a machine that throws is recorded as a fault and the router carries on', () => {
    const recs = record([...script, { ts: 14_000, src: 'sim', type: 'sim.step', uuid: U, data: { step: {} } }, obs(15_000, '/local/domain/7/device/toy/1/state', '4')]);
    const { view } = replay(recs, [toyBinding]);
    expect(view.faults[0]).toMatchObject({ actor: `toy:${U}:toy/0` });
    expect(view.faults[0].message).toMatch(/kaboom/);
    expect(view.actors.find((a) => a.id === `toy:${U}:toy/1`)?.state).toBe('up');
  });

  it('a snapshot restores to the same state as a full replay, and continues identically', () => {
    const recs = record(script);
    const cut = 4;
    const a = new HostRouter([toyBinding]);
    recs.filter((x) => x.seq <= cut).forEach((x) => a.apply(x));
    const b = HostRouter.restore([toyBinding], a.snapshot());
    const rest = recs.filter((x) => x.seq > cut);
    const ta = rest.flatMap((x) => a.apply(x));
    const tb = rest.flatMap((x) => b.apply(x));
    expect(tb).toEqual(ta);
    expect(b.view()).toEqual(a.view());
  });

  it('verify-style replay reproduces recorded transitions, and notices one that was changed', () => {
    const recs = record(script);
    const ok = new Replayer([toyBinding]);
    recs.forEach((x) => ok.push(x));
    expect(ok.finish()).toBeNull();
    expect(ok.recordedCount).toBeGreaterThan(0);
    const bad = recs.map((x) => (x.type === 'machine.transition' && (x.data as { to: string }).to === 'stalled' ? { ...x, data: { ...x.data, to: 'up' } } : x));
    const rb = new Replayer([toyBinding]);
    bad.forEach((x) => rb.push(x));
    expect(rb.finish()?.message).toMatch(/records toy:.*waiting → up.*but replay produced .*waiting → stalled/);
  });

  it('replaying any prefix twice gives identical state (property)', () => {
    const recs = record(script);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: recs.length }), (n) => {
        const one = replay(recs.slice(0, n), [toyBinding]).view;
        const two = replay(recs.slice(0, n), [toyBinding]).view;
        expect(two).toEqual(one);
      }),
    );
  });

  it('helper gaps are incidents', () => {
    const r = new Recorder([toyBinding]);
    r.observe({ ts: 1, src: 'helper', type: 'helper.status', data: { state: 'down', gap: true } });
    r.observe({ ts: 2, src: 'helper', type: 'helper.status', data: { state: 'resynced', gap: true } });
    expect(r.router.incidents).toEqual([expect.objectContaining({ kind: 'helper-gap', from: 1, to: 2 })]);
  });
});

describe('stateString and actor ids', () => {
  it('joins nested states with dots and parallel regions with commas', () => {
    expect(stateString('running')).toBe('running');
    expect(stateString({ shutdown: 'crash' })).toBe('shutdown.crash');
    expect(stateString({ frontend: 'Connected', backend: { closing: 'wait' } })).toBe('backend.closing.wait,frontend.Connected');
  });
  it('finds the uuid in an actor id', () => {
    expect(uuidOfActor(`xenbus:${U}:vbd/51712`)).toBe(U);
    expect(uuidOfActor('helper')).toBeUndefined();
  });
});
