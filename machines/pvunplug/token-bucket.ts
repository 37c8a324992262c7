/**
 * The guest log port's rate limit (seed 003): a token bucket with one token per
 * byte of log, 128 KiB capacity, refilled at 256 bytes per second, starting full.
 *
 * Pure data plus pure functions so that it can live in machine context (and be
 * persisted in snapshots) and so the simulator applies exactly the same budget.
 * Tokens are kept in thousandths of a byte: 256 B/s is 256 milli-bytes per ms,
 * so refills on the millisecond record clock are exact integers (no float drift
 * between a live run and its replay).
 *
 * Where qemu-traditional blocked the guest until enough tokens had accrued,
 * Xendeck keeps the guest's pace and drops the lines that are over budget,
 * counting them (lines and bytes) so that history says what was not kept.
 */

/** Bucket capacity in bytes (128 KiB, about 1024 lines of 128 bytes). */
export const BUCKET_CAPACITY = 128 * 1024;
/** Refill rate in bytes per second. */
export const BUCKET_FILL_RATE = 256;

const MILLI = 1000;
const CAPACITY_MILLI = BUCKET_CAPACITY * MILLI;
/** Milli-bytes refilled per millisecond: 256 B/s = 256 000 mB / 1000 ms. */
const FILL_MILLI_PER_MS = (BUCKET_FILL_RATE * MILLI) / 1000;

/** Serializable bucket state. */
export interface TokenBucketState {
  /** Available tokens in thousandths of a byte. */
  milli: number;
  /** Record-clock time (ms) of the last refill. */
  last: number;
}

/** Result of asking for tokens. */
export interface TokenTake {
  ok: boolean;
  state: TokenBucketState;
}

/** A full bucket at `ts` (the bucket starts full on its first use). */
function full(ts: number): TokenBucketState {
  return { milli: CAPACITY_MILLI, last: ts };
}

/** The bucket at `ts`: refilled for the time elapsed since `last`, capped at capacity. Time never runs backwards. */
function refill(state: TokenBucketState, ts: number): TokenBucketState {
  if (ts <= state.last) return state;
  const milli = Math.min(CAPACITY_MILLI, state.milli + (ts - state.last) * FILL_MILLI_PER_MS);
  return { milli, last: ts };
}

/**
 * Take `bytes` tokens at `ts`. A line costs its byte length (the newline is not
 * counted, as in the seed). When there are not enough tokens nothing is taken,
 * the line is over budget and `ok` is false.
 */
function take(state: TokenBucketState | undefined, bytes: number, ts: number): TokenTake {
  const current = state === undefined ? full(ts) : refill(state, ts);
  const cost = Math.max(0, Math.floor(bytes)) * MILLI;
  if (cost > current.milli) return { ok: false, state: current };
  return { ok: true, state: { milli: current.milli - cost, last: current.last } };
}

/** Whole bytes available at `ts` without taking any. */
function available(state: TokenBucketState | undefined, ts: number): number {
  const current = state === undefined ? full(ts) : refill(state, ts);
  return Math.floor(current.milli / MILLI);
}

/** Byte length of a string in UTF-8 (what the guest wrote to the port). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** The token bucket operations, shared by the pvUnplug machine and the simulator. */
export const TokenBucket = {
  capacity: BUCKET_CAPACITY,
  fillRate: BUCKET_FILL_RATE,
  full,
  refill,
  take,
  available,
} as const;
