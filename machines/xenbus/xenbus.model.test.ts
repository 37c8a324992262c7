import { describe, expect, it } from 'vitest';
import { getShortestPaths, createTestModel } from 'xstate/graph';
import { createActor } from 'xstate';
import { stateString } from '../host/binding.ts';
import { xenbusMachine } from './xenbus.machine.ts';
import { LINK_STATES, XENBUS_STATE_NAMES, type XenbusContext, type XenbusEvent } from './xenbus.types.ts';

const INPUT = { uuid: 'u', domid: 3, kind: 'vbd', devid: 51712 };

/** The events the model may send from a state: every state value on each side, key writes, removals, the clock. */
function events(snap: { context: XenbusContext }): XenbusEvent[] {
  const base = { ts: 1000, seq: 1, domid: 3 };
  const be = { backendKind: 'vbd', backendDomid: 0 };
  const out: XenbusEvent[] = [];
  for (let s = 0; s <= 8; s++) {
    out.push({ type: 'xenbus.write', ...base, side: 'frontend', key: 'state', value: String(s) });
    out.push({ type: 'xenbus.write', ...base, side: 'backend', key: 'state', value: String(s), ...be });
  }
  out.push({ type: 'xenbus.write', ...base, side: 'backend', key: 'hotplug-status', value: 'connected', ...be });
  out.push({ type: 'xenbus.write', ...base, side: 'backend', key: 'hotplug-status', value: 'error', ...be });
  out.push({ type: 'xenbus.write', ...base, side: 'backend', key: 'online', value: '0', ...be });
  out.push({ type: 'xenbus.rm', ...base, side: 'frontend', key: '' });
  out.push({ type: 'xenbus.rm', ...base, side: 'backend', key: '' });
  if (snap.context.deadline !== undefined) out.push({ type: 'clock.tick', ts: snap.context.deadline, seq: 1 });
  return out;
}

/** Bounded key: the state value plus the context facts that decide what can happen next. */
function key(snap: any): string {
  const c = snap.context as XenbusContext;
  return JSON.stringify([snap.value, c.everConnected, !!c.removingSince, c.phase, c.frontend.gone, c.backend.gone]);
}

const paths = getShortestPaths(xenbusMachine, { events, serializeState: key, input: INPUT } as any);
/** Every leaf seen along every shortest path (a path's prefixes reach the states on the way). */
const reached = new Set(paths.flatMap((p) => [p.state, ...p.steps.map((s) => s.state)]).flatMap((s) => stateString(s.value).split(',')));

describe('xenbus model: every state is reachable', () => {
  const leaves = [
    ...XENBUS_STATE_NAMES.map((n) => `frontend.${n}`),
    ...XENBUS_STATE_NAMES.map((n) => `backend.${n}`),
    ...LINK_STATES.map((n) => `link.${n}`),
  ];
  it.each(leaves)('reaches %s', (leaf) => {
    expect(reached.has(leaf)).toBe(true);
  });
});

/** Scripted journeys through the model, each checked state by state. */
const B = { backendKind: 'vbd', backendDomid: 0 };
const w = (side: 'frontend' | 'backend', k: string, value: string, ts = 1000): XenbusEvent =>
  ({ type: 'xenbus.write', ts, seq: 1, domid: 3, side, key: k, value, ...(side === 'backend' ? B : {}) }) as XenbusEvent;
const rm = (side: 'frontend' | 'backend'): XenbusEvent => ({ type: 'xenbus.rm', ts: 60_000, seq: 1, domid: 3, side, key: '' });
const tick = (ts: number): XenbusEvent => ({ type: 'clock.tick', ts, seq: 1 });
const JOURNEYS: Record<string, XenbusEvent[]> = {
  'connect, close, remove': [w('frontend', 'state', '1'), w('backend', 'state', '1'), w('backend', 'state', '2'), w('backend', 'hotplug-status', 'connected'),
    w('frontend', 'state', '3'), w('backend', 'state', '4'), w('frontend', 'state', '4'), w('backend', 'online', '0', 5000), w('backend', 'state', '5', 5000),
    w('frontend', 'state', '6', 5100), w('backend', 'state', '6', 5200), rm('frontend'), rm('backend')],
  'InitWait stall then recovery': [w('frontend', 'state', '1'), w('backend', 'state', '1'), tick(11_000), w('backend', 'state', '2', 12_000),
    w('backend', 'hotplug-status', 'connected', 12_500), w('backend', 'state', '4', 13_000), w('frontend', 'state', '4', 13_000)],
  'hotplug stall then error': [w('frontend', 'state', '1'), w('backend', 'state', '1'), w('backend', 'state', '2', 2000), tick(42_000),
    w('backend', 'hotplug-status', 'error', 43_000)],
  'close stall on removal': [w('frontend', 'state', '4'), w('backend', 'state', '4'), w('backend', 'online', '0', 5000), tick(15_000)],
  'reconfigure while connected': [w('frontend', 'state', '4'), w('backend', 'state', '4'), w('frontend', 'state', '7'), w('backend', 'state', '8'), w('frontend', 'state', '4')],
};

describe('xenbus model: journeys hold the per-state invariants', () => {
  const model = createTestModel(xenbusMachine);
  /** A journey as a test path: the snapshot after each event, in order. */
  const pathOf = (evs: XenbusEvent[]) => {
    const actor = createActor(xenbusMachine, { input: INPUT }).start();
    const steps = [{ state: actor.getSnapshot(), event: { type: 'xstate.init' } }];
    for (const e of evs) {
      actor.send(e);
      steps.push({ state: actor.getSnapshot(), event: e as any });
    }
    return { state: actor.getSnapshot(), steps, weight: steps.length };
  };
  const states = {
    'link.stalled': (s: any) => {
      expect(s.context.stall).toBeDefined();
      expect(s.context.deadline).toBeUndefined();
    },
    'link.failed': (s: any) => expect(s.context.failure).toBeDefined(),
    'link.removed': (s: any) => {
      expect(s.context.frontend.present || s.context.backend.present).toBe(false);
      expect(s.context.deadline).toBeUndefined();
    },
    'link.connected': (s: any) => expect(s.context.everConnected).toBe(true),
    'link.waiting': (s: any) => expect(s.context.stall ?? s.context.failure).toBeUndefined(),
    'link.closing': (s: any) => expect([s.context.frontend.state, s.context.backend.state].some((x: number) => x === 5 || x === 6)).toBe(true),
  };
  it.each(Object.entries(JOURNEYS))('%s', async (_name, evs) => {
    const path = pathOf(evs);
    const seen: string[] = [];
    await model.testPath(path as any, { states: { ...states, '*': () => undefined }, events: {} } as any);
    for (const step of path.steps) {
      const c = step.state.context as XenbusContext;
      const v = step.state.value as Record<string, string>;
      expect(v.frontend).toBe(XENBUS_STATE_NAMES[c.frontend.state]);
      expect(v.backend).toBe(XENBUS_STATE_NAMES[c.backend.state]);
      seen.push(v.link!);
    }
    expect(seen.length).toBe(evs.length + 1);
  });
});
