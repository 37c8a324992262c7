/** Types of the helper lifecycle machine (see helper-lifecycle.machine.ts). */

export interface HelperLifecycleInput {
  /** Wait before restart n (1-based), the last one repeating: backoff grows, then holds. */
  delaysMs?: number[];
  /** Restarts in a row (without a stable run between them) before giving up. */
  maxAttempts?: number;
  /** A helper that stays up this long is considered healthy again: the attempt count resets. */
  stableMs?: number;
}

export interface HelperLifecycleContext {
  delaysMs: number[];
  maxAttempts: number;
  stableMs: number;
  /** Restarts in a row since the last stable run. */
  attempts: number;
  /** Restarts since the host started. */
  restarts: number;
  /** When the next clock.tick matters (ms on the host clock), or undefined. */
  deadline: number | undefined;
  /** How the helper ended last, for the person reading the status. */
  lastExit: string | undefined;
  /** When the helper was last lost (ms), kept until it is back: the gap starts here. */
  downSince: number | undefined;
}

interface Base {
  ts: number;
  seq: number;
}

export type HelperLifecycleEvent =
  | (Base & { type: 'helper.start' })
  | (Base & { type: 'helper.ready' })
  | (Base & { type: 'helper.exited'; reason: string })
  | (Base & { type: 'helper.stop' })
  | (Base & { type: 'clock.tick' });

export type HelperLifecycleState = 'stopped' | 'starting' | 'up' | 'backoff' | 'failed';
export const HELPER_LIFECYCLE_STATES: readonly HelperLifecycleState[] = ['stopped', 'starting', 'up', 'backoff', 'failed'];
