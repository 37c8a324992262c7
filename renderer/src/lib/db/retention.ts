/**
 * Retention and redaction, asked for by a person. Nothing here changes
 * history: these functions check the request against the store and return the
 * observation the host seals into the chain (`store.prune`, `store.redact`).
 * When that record comes back in a batch, append-event applies it in the same
 * transaction that stores it, so the change and its record are never apart.
 */
import type { Observation } from '../../../../machines/events/record.ts';
import { machineVersions } from '../../../../machines/host/bindings.ts';
import { redactionProblem } from '../../../../electron/shared/export/history.std.ts';
import { ReplayEngine } from '../replay/replay-engine.ts';
import type { AppDb } from './app-db.ts';
import { readStats, readTail } from './meta.ts';

export class RetentionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetentionError';
  }
}

/**
 * The `store.prune` observation for removing every stored record before
 * `before`, summarised by its fingerprint. Writes the snapshot at `before - 1`
 * first, so the kept history still replays.
 */
export async function pruneObservation(db: AppDb, before: number, ts: number, engine: ReplayEngine = new ReplayEngine(db)): Promise<Observation> {
  const [stats, tail] = await Promise.all([readStats(db), readTail(db)]);
  if (!Number.isSafeInteger(before) || before <= stats.firstSeq) throw new RetentionError(`nothing to prune before seq ${before}: the store starts at seq ${stats.firstSeq}`);
  if (before > tail.seq) throw new RetentionError(`cannot prune up to seq ${before}: the newest record is seq ${tail.seq}`);
  const [first, last] = await db.events.bulkGet([stats.firstSeq, before - 1]);
  if (!first || !last) throw new RetentionError(`records ${stats.firstSeq}..${before - 1} are not all stored`);
  const state = await engine.stateAt(before - 1);
  await db.snapshots.put({ seq: before - 1, ts: last.ts, machines: machineVersions(), state });
  return { ts, src: 'user', type: 'store.prune', data: { before, count: before - stats.firstSeq, first: first.hash, last: last.hash } };
}

/** The `store.redact` observation for one field of a stored record. */
export async function redactObservation(db: AppDb, seq: number, field: string, ts: number, reason?: string): Promise<Observation> {
  const rec = await db.events.get(seq);
  if (!rec) throw new RetentionError(`seq ${seq} is not stored`);
  const why = redactionProblem(rec, field);
  if (why) throw new RetentionError(why);
  return { ts, src: 'user', type: 'store.redact', data: { seq, field, ...(reason ? { reason } : {}) } };
}
