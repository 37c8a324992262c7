import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createActor } from 'xstate';
import { helperLifecycleMachine } from './helper-lifecycle.machine.ts';
import type { HelperLifecycleEvent } from './helper-lifecycle.types.ts';

const kinds = ['helper.start', 'helper.ready', 'helper.exited', 'helper.stop', 'clock.tick'] as const;

/** Random event sequences on an increasing clock. */
const sequences = fc.array(fc.tuple(fc.constantFrom(...kinds), fc.integer({ min: 0, max: 3000 })), { maxLength: 60 }).map((xs) => {
  let ts = 0;
  return xs.map(([type, dt], seq): HelperLifecycleEvent => {
    ts += dt;
    return type === 'helper.exited' ? { type, ts, seq, reason: `exit at ${ts}` } : { type, ts, seq };
  });
});

function run(events: HelperLifecycleEvent[]) {
  const a = createActor(helperLifecycleMachine, { input: { delaysMs: [100, 500, 2000], maxAttempts: 4, stableMs: 5000 } }).start();
  for (const e of events) a.send(e);
  return a.getPersistedSnapshot();
}

describe('helper lifecycle properties', () => {
  it('replaying any prefix of a sequence twice gives identical snapshots', () => {
    fc.assert(
      fc.property(sequences, fc.nat(), (events, cut) => {
        const prefix = events.slice(0, events.length ? cut % (events.length + 1) : 0);
        expect(run(prefix)).toEqual(run(prefix));
      }),
      { numRuns: 200 },
    );
  });

  it('a deadline is set exactly in backoff and in a not-yet-stable up; attempts never exceed the limit', () => {
    fc.assert(
      fc.property(sequences, (events) => {
        const a = createActor(helperLifecycleMachine, { input: { delaysMs: [100, 500, 2000], maxAttempts: 4, stableMs: 5000 } }).start();
        for (const e of events) {
          a.send(e);
          const s = a.getSnapshot();
          if (s.value === 'backoff') expect(s.context.deadline).toBeTypeOf('number');
          if (s.value === 'stopped' || s.value === 'starting' || s.value === 'failed') expect(s.context.deadline).toBeUndefined();
          expect(s.context.attempts).toBeLessThanOrEqual(4);
        }
      }),
      { numRuns: 200 },
    );
  });
});
