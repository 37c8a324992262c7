import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createActor } from 'xstate';
import { xenbusMachine } from './xenbus.machine.ts';
import type { XenbusEvent } from './xenbus.types.ts';

const INPUT = { uuid: 'u', domid: 3, kind: 'vbd', devid: 51712 };

/** One step of a device's life: a key write, a removal, or time passing. */
const step = fc.oneof(
  fc.record({
    kind: fc.constant('write' as const),
    side: fc.constantFrom('frontend' as const, 'backend' as const),
    key: fc.constantFrom('state', 'state', 'state', 'online', 'hotplug-status', 'hotplug-error', 'script', 'params'),
    value: fc.oneof(fc.integer({ min: 0, max: 9 }).map(String), fc.constantFrom('connected', 'error', '', 'x')),
    domid: fc.constantFrom(3, 3, 3, 7),
    bekind: fc.constantFrom('vbd', 'qdisk', 'vif'),
  }),
  fc.record({ kind: fc.constant('rm' as const), side: fc.constantFrom('frontend' as const, 'backend' as const), key: fc.constantFrom('', 'state', 'online') }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 50_000 }) }),
);

type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

/** Turn steps into the events the router would send, with a growing record clock and clock.tick at deadlines. */
function replay(steps: Step[]) {
  const actor = createActor(xenbusMachine, { input: INPUT }).start();
  let ts = 1000;
  let seq = 0;
  for (const s of steps) {
    if (s.kind === 'wait') {
      ts += s.ms;
      const d = actor.getSnapshot().context.deadline;
      if (d !== undefined && d <= ts) actor.send({ type: 'clock.tick', ts: d, seq: ++seq });
      continue;
    }
    const e: XenbusEvent =
      s.kind === 'write'
        ? { type: 'xenbus.write', ts, seq: ++seq, domid: s.domid, side: s.side, key: s.key, value: s.value, ...(s.side === 'backend' ? { backendKind: s.bekind, backendDomid: 0 } : {}) }
        : { type: 'xenbus.rm', ts, seq: ++seq, domid: 3, side: s.side, key: s.key };
    actor.send(e);
  }
  return actor.getPersistedSnapshot();
}

describe('xenbus replay determinism', () => {
  it('replaying any prefix of a random event sequence twice gives identical snapshots', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.nat(), (steps, cut) => {
        const prefix = steps.slice(0, steps.length === 0 ? 0 : cut % (steps.length + 1));
        expect(replay(prefix)).toEqual(replay(prefix));
      }),
      { numRuns: 200 },
    );
  });

  it('a removal in the last second of a wait ends the wait as a stall, with no deadline left (found by the property below)', () => {
    const snap = replay([
      { kind: 'write', side: 'backend', key: 'state', value: 'connected', domid: 3, bekind: 'vbd' },
      { kind: 'wait', ms: 9000 },
      { kind: 'rm', side: 'frontend', key: '' },
    ] as any) as any;
    expect(snap.value.link).toBe('stalled');
    expect(snap.context.deadline).toBeUndefined();
  });

  it('never throws and keeps the value consistent with the context', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const snap = replay(steps) as any;
        const names = ['Unknown', 'Initialising', 'InitWait', 'Initialised', 'Connected', 'Closing', 'Closed', 'Reconfiguring', 'Reconfigured'];
        expect(snap.value.frontend).toBe(names[snap.context.frontend.state]);
        expect(snap.value.backend).toBe(names[snap.context.backend.state]);
        if (snap.value.link === 'stalled') expect(snap.context.stall).toBeDefined();
        if (snap.context.deadline !== undefined) expect(['waiting', 'closing']).toContain(snap.value.link);
      }),
      { numRuns: 200 },
    );
  });
});
