import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createActor } from 'xstate';
import { ninepfsMachine } from './ninepfs.machine.ts';
import type { NinepfsEvent } from './ninepfs.types.ts';

const INPUT = { uuid: 'u', domid: 5, devid: 0 };

const step = fc.oneof(
  fc.record({
    kind: fc.constant('write' as const),
    side: fc.constant('backend' as const),
    key: fc.constantFrom('state', 'state', 'security_model', 'path', 'versions', 'max-rings', 'max-ring-page-order'),
    value: fc.constantFrom('1', '2', '4', '5', '6', 'none', 'mapped', '/srv/share', '/', '9', '8'),
  }),
  fc.record({
    kind: fc.constant('write' as const),
    side: fc.constant('frontend' as const),
    key: fc.constantFrom('state', 'state', 'state', 'version', 'num-rings', 'event-channel-0', 'ring-ref0', 'event-channel-1', 'ring-ref1', 'ring-page-order'),
    value: fc.oneof(fc.integer({ min: 0, max: 10 }).map(String), fc.constantFrom('x', '', '-1')),
  }),
  fc.record({ kind: fc.constant('rm' as const), side: fc.constantFrom('frontend' as const, 'backend' as const), key: fc.constantFrom('', 'state', 'num-rings') }),
);
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

function replay(steps: Step[]) {
  const actor = createActor(ninepfsMachine, { input: INPUT }).start();
  steps.forEach((s, i) => {
    const base = { ts: 1000 + i, seq: i + 1, domid: 5 };
    const e: NinepfsEvent =
      s.kind === 'write'
        ? { type: 'ninepfs.write', ...base, side: s.side, key: s.key, value: s.value, ...(s.side === 'backend' ? { backendDomid: 0 } : {}) }
        : { type: 'ninepfs.rm', ...base, side: s.side, key: s.key };
    actor.send(e);
  });
  return actor.getPersistedSnapshot();
}

describe('ninepfs replay determinism', () => {
  it('replaying any prefix of a random event sequence twice gives identical snapshots', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.nat(), (steps, cut) => {
        const prefix = steps.slice(0, cut % (steps.length + 1));
        expect(replay(prefix)).toEqual(replay(prefix));
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the state value equal to the expected verdict and the judgement in context', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const snap = replay(steps) as any;
        expect(snap.value).toEqual({ daemon: snap.context.expect, observed: snap.context.verdict });
        if (snap.context.verdict === 'deviated') expect(snap.context.deviation).toBeTypeOf('string');
        if (snap.context.failedBy) expect(snap.context.closeReason).toBeTypeOf('string');
      }),
      { numRuns: 200 },
    );
  });
});
