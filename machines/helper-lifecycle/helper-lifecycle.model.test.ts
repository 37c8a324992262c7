import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { createTestModel, getShortestPaths } from 'xstate/graph';
import { helperLifecycleMachine } from './helper-lifecycle.machine.ts';
import { HELPER_LIFECYCLE_STATES, type HelperLifecycleEvent } from './helper-lifecycle.types.ts';

// A tiny machine: 1 attempt allowed, no delay, so every state is a few events away.
const machine = helperLifecycleMachine.provide({});
const input = { delaysMs: [0], maxAttempts: 1, stableMs: 0 };
const events: HelperLifecycleEvent[] = [
  { type: 'helper.start', ts: 0, seq: 0 },
  { type: 'helper.ready', ts: 0, seq: 0 },
  { type: 'helper.exited', ts: 0, seq: 0, reason: 'test' },
  { type: 'clock.tick', ts: 0, seq: 0 },
  { type: 'helper.stop', ts: 0, seq: 0 },
];

// The restart counter grows without end: states differ only by value, attempts and whether a deadline is set.
const serializeState = (s: { value: unknown; context: { attempts: number; deadline: number | undefined } }) =>
  JSON.stringify([s.value, s.context.attempts, s.context.deadline === undefined]);

describe('helper lifecycle model', () => {
  const paths = getShortestPaths(machine, { events, input, serializeState });
  const reached = new Set(paths.map((p) => String(p.state.value)));
  it.each([...HELPER_LIFECYCLE_STATES])('state %s is reachable', (s) => {
    expect(reached.has(s)).toBe(true);
  });

  const model = createTestModel(machine, { events, input, serializeState });
  const modelPaths = model.getShortestPaths();
  it.each(modelPaths.map((p) => [p.description, p] as const))('%s', async (_d, path) => {
    const actor = createActor(machine, { input }).start();
    await path.test({
      states: {
        stopped: () => expect(actor.getSnapshot().context.deadline).toBeUndefined(),
        starting: () => expect(actor.getSnapshot().context.deadline).toBeUndefined(),
        up: () => expect(actor.getSnapshot().context.downSince).toBeUndefined(),
        backoff: () => expect(actor.getSnapshot().context.deadline).toBeTypeOf('number'),
        failed: () => {
          expect(actor.getSnapshot().context.deadline).toBeUndefined();
          expect(actor.getSnapshot().context.lastExit).toBe('test');
        },
      },
      events: Object.fromEntries(events.map((e) => [e.type, () => actor.send(e)])),
    });
    expect(actor.getSnapshot().value).toEqual(path.state.value);
  });
});
