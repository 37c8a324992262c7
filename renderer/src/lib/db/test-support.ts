/**
 * Records for the store's tests: a realistic observation stream (the bench
 * workload: domains booting, devices connecting, reboots, crashes) sealed by
 * the same Recorder the live host uses, so transitions are recorded and replay
 * can be checked against them.
 */
import { Recorder } from '../../../../machines/host/recorder.ts';
import { ALL_BINDINGS } from '../../../../machines/host/bindings.ts';
import type { Observation, XRecord } from '../../../../machines/events/record.ts';
import { workload } from '../../../../electron/cli/workload.ts';

/** At least `n` sealed records (a few more: an observation's transitions are never split from it). */
export function sealedHistory(n: number, opts: { domains?: number; seed?: number } = {}): XRecord[] {
  const rec = new Recorder(ALL_BINDINGS);
  const out: XRecord[] = [];
  for (const o of workload(n * 4, { domains: opts.domains ?? 4, seed: opts.seed ?? 7 })) {
    for (const r of rec.observe(o)) out.push(r);
    if (out.length >= n) break;
  }
  return out;
}

/** A recorder continuing after `records`, for sealing more observations (prune, redact) onto them. */
export function continueRecorder(records: readonly XRecord[]): Recorder {
  const r = new Recorder(ALL_BINDINGS, { tail: { seq: records[records.length - 1].seq, hash: records[records.length - 1].hash } });
  for (const x of records) r.router.apply(x);
  return r;
}

/** Split records into batches of `size`. */
export function batches<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

export type { Observation };
