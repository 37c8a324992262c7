/**
 * The privileged helper's lifecycle, as the host lives it: spawn, hello,
 * restarts with backoff, giving up.
 *
 * States: `stopped` (initial, and after helper.stop) → `starting` (spawned,
 * hello and the initial scan under way) → `up`; when the helper ends, `up` or
 * `starting` → `backoff` (waiting `delaysMs[attempts-1]`) → `starting` again;
 * after `maxAttempts` restarts in a row → `failed` until a person asks again
 * (helper.start).
 *
 * Invariants:
 * - `attempts` counts restarts in a row; it resets only after the helper has
 *   stayed up for `stableMs`, so a helper that dies right after hello cannot
 *   loop forever.
 * - `deadline` is set exactly in `backoff` (when to restart) and in `up` until
 *   the run is stable; clock.tick before the deadline changes nothing.
 * - `downSince` is the time the helper was lost, kept until it is `up` again:
 *   the host records the gap from it.
 * - No XState delays: the host sends clock.tick at the deadline (machine
 *   conventions, rule 4), so tests run on plain numbers.
 */
import { assign, setup } from 'xstate';
import type { HelperLifecycleContext, HelperLifecycleEvent, HelperLifecycleInput } from './helper-lifecycle.types.ts';

export const DEFAULT_DELAYS_MS = [250, 1000, 2000, 5000, 10000];
export const DEFAULT_MAX_ATTEMPTS = 8;
export const DEFAULT_STABLE_MS = 30_000;

function delayFor(ctx: HelperLifecycleContext, attempt: number): number {
  const d = ctx.delaysMs;
  return d.length === 0 ? 0 : d[Math.min(attempt, d.length) - 1];
}

export const helperLifecycleMachine = setup({
  types: {
    context: {} as HelperLifecycleContext,
    events: {} as HelperLifecycleEvent,
    input: {} as HelperLifecycleInput,
  },
  guards: {
    isDue: ({ context, event }) => context.deadline !== undefined && event.ts >= context.deadline,
    hasAttemptsLeft: ({ context }) => context.attempts < context.maxAttempts,
  },
  actions: {
    /** A person (or the host's start) asks afresh: earlier failures no longer count. */
    resetAttempts: assign({ attempts: 0, deadline: undefined }),
    /** The helper answered hello and scanned: watch how long it stays up. */
    markUp: assign({
      deadline: ({ context, event }) => event.ts + context.stableMs,
      downSince: undefined,
    }),
    /** It stayed up long enough: later deaths start the backoff from the beginning. */
    markStable: assign({ attempts: 0, deadline: undefined }),
    /** Count the restart and schedule it after the backoff delay. */
    scheduleRestart: assign(({ context, event }) => {
      const attempts = context.attempts + 1;
      return {
        attempts,
        restarts: context.restarts + 1,
        deadline: event.ts + delayFor(context, attempts),
        lastExit: event.type === 'helper.exited' ? event.reason : context.lastExit,
        downSince: context.downSince ?? event.ts,
      };
    }),
    /** Too many deaths in a row: stop trying until asked, and say why. */
    giveUp: assign(({ context, event }) => ({
      deadline: undefined,
      lastExit: event.type === 'helper.exited' ? event.reason : context.lastExit,
      downSince: context.downSince ?? event.ts,
    })),
    /** The host stops the helper on purpose: nothing is pending any more. */
    clearDeadline: assign({ deadline: undefined }),
  },
}).createMachine({
  id: 'helperLifecycle',
  context: ({ input }) => ({
    delaysMs: input?.delaysMs ?? DEFAULT_DELAYS_MS,
    maxAttempts: input?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    stableMs: input?.stableMs ?? DEFAULT_STABLE_MS,
    attempts: 0,
    restarts: 0,
    deadline: undefined,
    lastExit: undefined,
    downSince: undefined,
  }),
  initial: 'stopped',
  states: {
    stopped: {
      on: { 'helper.start': { target: 'starting', actions: 'resetAttempts' } },
    },
    starting: {
      on: {
        'helper.ready': { target: 'up', actions: 'markUp' },
        'helper.exited': [
          { guard: 'hasAttemptsLeft', target: 'backoff', actions: 'scheduleRestart' },
          { target: 'failed', actions: 'giveUp' },
        ],
        'helper.stop': { target: 'stopped', actions: 'clearDeadline' },
      },
    },
    up: {
      on: {
        'clock.tick': { guard: 'isDue', actions: 'markStable' },
        'helper.exited': [
          { guard: 'hasAttemptsLeft', target: 'backoff', actions: 'scheduleRestart' },
          { target: 'failed', actions: 'giveUp' },
        ],
        'helper.stop': { target: 'stopped', actions: 'clearDeadline' },
      },
    },
    backoff: {
      on: {
        'clock.tick': { guard: 'isDue', target: 'starting', actions: 'clearDeadline' },
        'helper.stop': { target: 'stopped', actions: 'clearDeadline' },
      },
    },
    failed: {
      on: {
        'helper.start': { target: 'starting', actions: 'resetAttempts' },
        'helper.stop': { target: 'stopped' },
      },
    },
  },
});

export type HelperLifecycleMachine = typeof helperLifecycleMachine;
