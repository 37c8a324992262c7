import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { createTestModel, getShortestPaths } from 'xstate/graph';
import { stateString } from '../host/binding.ts';
import { ninepfsMachine } from './ninepfs.machine.ts';
import { DAEMON_STATES, VERDICTS, type NinepfsContext, type NinepfsEvent, type Side } from './ninepfs.types.ts';

const INPUT = { uuid: 'u', domid: 5, devid: 0 };
const w = (side: Side, key: string, value: string): NinepfsEvent =>
  ({ type: 'ninepfs.write', ts: 1000, seq: 1, domid: 5, side, key, value, ...(side === 'backend' ? { backendDomid: 0 } : {}) }) as NinepfsEvent;
const rm = (side: Side, key: string): NinepfsEvent => ({ type: 'ninepfs.rm', ts: 1000, seq: 1, domid: 5, side, key });

/** What toolstack, xen-9pfsd (right or wrong) and the guest may write. */
const EVENTS: NinepfsEvent[] = [
  w('backend', 'security_model', 'none'),
  w('backend', 'security_model', 'mapped'),
  w('backend', 'path', '/srv/share'),
  ...['2', '4', '6'].map((s) => w('backend', 'state', s)),
  w('frontend', 'num-rings', '1'),
  ...['1', '3', '5'].map((s) => w('frontend', 'state', s)),
  rm('frontend', 'state'),
  rm('backend', ''),
];

function key(snap: any): string {
  const c = snap.context as NinepfsContext;
  return JSON.stringify([snap.value, c.daemonFrontendState, c.failedBy, c.fe['state'], c.fe['num-rings'], c.be['state'], c.be['security_model'], !!c.be['path'], c.be['max-rings']]);
}

/** A guest that already wrote its ring keys (one ring), so num-rings decides the frontend checks. */
const fromState = (() => {
  const actor = createActor(ninepfsMachine, { input: INPUT }).start();
  for (const [k, v] of [['version', '1'], ['event-channel-0', '17'], ['ring-ref0', '8'], ['num-rings', '5']]) actor.send(w('frontend', k!, v!));
  return actor.getSnapshot();
})();
const paths = getShortestPaths(ninepfsMachine, { events: EVENTS, serializeState: key, fromState } as any);
const reached = new Set(paths.flatMap((p) => [p.state, ...p.steps.map((s) => s.state)]).flatMap((s) => stateString(s.value).split(',')));

describe('ninepfs model: every state is reachable', () => {
  it.each([...DAEMON_STATES.map((s) => `daemon.${s}`), ...VERDICTS.map((v) => `observed.${v}`)])('reaches %s', (leaf) => {
    expect(reached.has(leaf)).toBe(true);
  });
});

const GOOD_FE = [w('frontend', 'state', '1'), w('frontend', 'version', '1'), w('frontend', 'num-rings', '1'), w('frontend', 'event-channel-0', '17'), w('frontend', 'ring-ref0', '8')];
const PROBE = [w('backend', 'state', '1'), w('backend', 'security_model', 'none'), w('backend', 'path', '/srv/share')];
const PUBLISH = [w('backend', 'versions', '1'), w('backend', 'max-rings', '4'), w('backend', 'max-ring-page-order', '9'), w('backend', 'state', '2')];
const JOURNEYS: Record<string, NinepfsEvent[]> = {
  'connect then guest closes': [...GOOD_FE, ...PROBE, ...PUBLISH, w('frontend', 'state', '3'), w('backend', 'state', '4'), w('frontend', 'state', '4'),
    w('frontend', 'state', '5'), w('backend', 'state', '5'), w('frontend', 'state', '6'), w('backend', 'state', '6'), rm('backend', '')],
  'bad num-rings closed as required': [...GOOD_FE, w('frontend', 'num-rings', '5'), ...PROBE, ...PUBLISH, w('frontend', 'state', '3'), w('backend', 'state', '6')],
  'bad num-rings but backend connects': [...GOOD_FE, w('frontend', 'num-rings', '5'), ...PROBE, ...PUBLISH, w('frontend', 'state', '3'), w('backend', 'state', '4')],
  'refused security model': [...GOOD_FE, w('backend', 'state', '1'), w('backend', 'security_model', 'mapped'), w('backend', 'path', '/srv/share')],
  'frontend state vanishes': [...GOOD_FE, ...PROBE, ...PUBLISH, rm('frontend', 'state'), w('backend', 'state', '6')],
};

describe('ninepfs model: journeys hold the per-state invariants', () => {
  const model = createTestModel(ninepfsMachine);
  const pathOf = (evs: NinepfsEvent[]) => {
    const actor = createActor(ninepfsMachine, { input: INPUT }).start();
    const steps = [{ state: actor.getSnapshot(), event: { type: 'xstate.init' } }];
    for (const e of evs) {
      actor.send(e);
      steps.push({ state: actor.getSnapshot(), event: e as any });
    }
    return { state: actor.getSnapshot(), steps, weight: steps.length };
  };
  const states = {
    'daemon.refused': (s: any) => expect(s.context.failedBy).toBe('probe'),
    'daemon.closed': (s: any) => expect(s.context.closeReason).toBeDefined(),
    'daemon.closing': (s: any) => expect(s.context.daemonFrontendState).toBe(5),
    'daemon.connected': (s: any) => {
      expect(s.context.daemonFrontendState === 3 || s.context.daemonFrontendState === 4 || s.context.fe.state === '3').toBe(true);
      expect(s.context.closeReason).toBeUndefined();
    },
    'observed.deviated': (s: any) => expect(s.context.deviation).toBeDefined(),
    'observed.complied': (s: any) => expect(s.context.deviation).toBeUndefined(),
    '*': () => undefined,
  };
  it.each(Object.entries(JOURNEYS))('%s', async (_name, evs) => {
    const path = pathOf(evs);
    await model.testPath(path as any, { states, events: {} } as any);
    for (const step of path.steps) {
      const c = step.state.context as NinepfsContext;
      expect(step.state.value).toEqual({ daemon: c.expect, observed: c.verdict });
    }
  });

  it('ends each journey where xen-9pfsd says it must', () => {
    const end = (name: string) => stateString(pathOf(JOURNEYS[name]!).state.value);
    expect(end('connect then guest closes')).toBe('daemon.removed,observed.complied');
    expect(end('bad num-rings closed as required')).toBe('daemon.closed,observed.complied');
    expect(end('bad num-rings but backend connects')).toBe('daemon.closed,observed.deviated');
    expect(end('refused security model')).toBe('daemon.refused,observed.complied');
    expect(end('frontend state vanishes')).toBe('daemon.closed,observed.complied');
  });
});
