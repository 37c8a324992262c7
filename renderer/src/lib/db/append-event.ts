/**
 * The only writer of `events` (STYLE.md G15). The host pushes sealed records in
 * batches; each batch is committed in one IndexedDB transaction, after checking
 * that it chains onto the stored tail, and the highest committed seq is acked.
 *
 * - A re-sent batch (after a renderer reload, the host sends unacked records
 *   again) is idempotent: records already stored with the same hash are
 *   skipped, the rest is appended.
 * - A batch that does not chain (gap, wrong prev, altered content, a seq
 *   already stored with another hash, a record that fails the schema) is
 *   refused as a whole, reported, and nothing of it is written.
 * - `store.prune` and `store.redact` records are history too: they are
 *   appended like any other, and applied to the stored records in the same
 *   transaction, so the change and its record can never be seen apart.
 */
import type { ChainFault } from '../../../../machines/events/chain.ts';
import { pureSha256Hex, type Sha256Hex } from '../../../../machines/events/hash.ts';
import { ZERO_HASH, type XRecord } from '../../../../machines/events/record.ts';
import { recordProblem } from '../../../../machines/events/validate.ts';
import { applyRedaction, HistoryChecker, prunedRangeOf, redactionOf, redactionProblem, type PrunedRange, type Redaction } from '../../../../electron/shared/export/history.std.ts';
import type { AppDb } from './app-db.ts';
import type { MetaKey, MetaValues, StatsMeta, TailMeta } from './schema.ts';

export interface AppendOptions {
  /** SHA-256 used to recheck each record's hash (default: pure JS, same output everywhere). */
  digest?: Sha256Hex;
  /** Where the chain starts when the store is empty (an imported bundle that starts after seq 1). */
  anchor?: { seq: number; prev: string };
  /** Only the importer sets this, to fill a store that is then sealed read-only. */
  importing?: boolean;
  /** Recheck every record's hash (default true). The importer, having checked the whole bundle first, turns it off. */
  checkHashes?: boolean;
}

export type AppendRefusal =
  | { kind: 'schema'; seq: number; message: string }
  | { kind: 'order'; seq: number; message: string }
  | { kind: 'conflict'; seq: number; message: string }
  | { kind: 'chain'; seq: number; fault: ChainFault; message: string }
  | { kind: 'read-only'; seq: number; message: string };

export type AppendResult =
  | {
      ok: true;
      /** Highest committed seq: what the renderer acks to the host. */
      ack: number;
      appended: number;
      /** Records of the batch that were already stored (a re-sent batch). */
      duplicates: number;
      /** Store records (prune, redact) that were kept as history but could not be applied, and why. */
      notes: string[];
    }
  | { ok: false; ack: number; refusal: AppendRefusal };

/**
 * Commit one pushed batch (records in seq order). Never throws for a bad batch: it is refused in the result.
 * Throws when IndexedDB fails (nothing of the batch is then written); the error carries the transaction's
 * own error as `cause` when it says more (a full disk surfaces first as requests "aborted", the cause on the transaction).
 */
export async function appendEvents(db: AppDb, batch: readonly XRecord[], opts: AppendOptions = {}): Promise<AppendResult> {
  let idb: IDBTransaction | undefined;
  try {
    return await appendIn(db, batch, opts, (t) => (idb = t));
  } catch (e) {
    throw await withCause(e, idb);
  }
}

/** The transaction's error, once it has aborted, attached to what the write threw (unless that is already it). */
async function withCause(e: unknown, idb: IDBTransaction | undefined): Promise<unknown> {
  if (!idb || !e || typeof e !== 'object') return e;
  const settled = () => {
    try {
      return idb.error !== null;
    } catch {
      return false; // Reading .error before the transaction has finished throws InvalidStateError.
    }
  };
  if (!settled()) {
    await new Promise<void>((resolve) => {
      idb.addEventListener('abort', () => resolve(), { once: true });
      idb.addEventListener('complete', () => resolve(), { once: true });
      idb.addEventListener('error', () => resolve(), { once: true });
      // A transaction that already finished fires nothing more.
      setTimeout(resolve, 200);
    });
  }
  let cause: DOMException | null = null;
  try {
    cause = idb.error;
  } catch {
    cause = null;
  }
  if (!cause || cause === e || (e as { cause?: unknown }).cause !== undefined) return e;
  try {
    Object.defineProperty(e, 'cause', { value: cause, configurable: true });
  } catch {
    // A frozen error: keep it as it is.
  }
  return e;
}

async function appendIn(db: AppDb, batch: readonly XRecord[], opts: AppendOptions, onTransaction: (t: IDBTransaction) => void): Promise<AppendResult> {
  const digest = opts.digest ?? pureSha256Hex;
  return db.transaction('rw', db.events, db.meta, db.snapshots, async (tx) => {
    if (tx.idbtrans) onTransaction(tx.idbtrans);
    const metaRows = await db.meta.bulkGet(['tail', 'stats', 'readOnly'] as MetaKey[]);
    const storedTail = metaRows[0]?.value as TailMeta | undefined;
    let stats = metaRows[1]?.value as StatsMeta | undefined;
    const readOnly = metaRows[2] !== undefined;
    const empty = !storedTail || storedTail.seq === 0;
    const anchor = empty && opts.anchor ? opts.anchor : null;
    const tail: TailMeta = storedTail && storedTail.seq > 0 ? storedTail : anchor ? { seq: anchor.seq - 1, hash: anchor.prev } : { seq: 0, hash: ZERO_HASH };
    const ack = storedTail?.seq ?? 0;
    const refuse = (refusal: AppendRefusal): AppendResult => ({ ok: false, ack, refusal });

    if (batch.length === 0) return { ok: true, ack, appended: 0, duplicates: 0, notes: [] };
    if (readOnly && !opts.importing) return refuse({ kind: 'read-only', seq: batch[0].seq, message: 'this store was opened from a bundle and is read-only' });
    for (let i = 0; i < batch.length; i++) {
      const p = recordProblem(batch[i]);
      if (p) return refuse({ kind: 'schema', seq: (batch[i] as { seq?: number })?.seq ?? -1, message: `record ${i + 1} of the batch: ${p.field}: expected ${p.expected}, found ${p.found}` });
      if (i > 0 && batch[i].seq !== batch[i - 1].seq + 1)
        return refuse({ kind: 'order', seq: batch[i].seq, message: `the batch is not in seq order: seq ${batch[i].seq} follows ${batch[i - 1].seq}` });
    }

    // Records the store already holds: the re-sent part of a batch must match what was stored.
    let split = 0;
    while (split < batch.length && batch[split].seq <= tail.seq) split++;
    if (split > 0) {
      const firstKept = stats?.firstSeq ?? 1;
      const checkFrom = batch.findIndex((r) => r.seq >= firstKept);
      if (checkFrom >= 0 && checkFrom < split) {
        const stored = await db.events.bulkGet(batch.slice(checkFrom, split).map((r) => r.seq));
        for (let i = 0; i < stored.length; i++) {
          const r = batch[checkFrom + i];
          const s = stored[i];
          if (!s) return refuse({ kind: 'conflict', seq: r.seq, message: `seq ${r.seq} is below the stored tail ${tail.seq} but is not stored` });
          if (s.hash !== r.hash) return refuse({ kind: 'conflict', seq: r.seq, message: `seq ${r.seq} is already stored with another hash: history cannot be rewritten` });
        }
      }
    }
    const fresh = batch.slice(split);
    if (fresh.length === 0) return { ok: true, ack, appended: 0, duplicates: split, notes: [] };

    // Without hash rechecks, every seq counts as one whose content is not recomputed (links are still checked).
    const unhashed: ReadonlySet<number> = opts.checkHashes === false ? { has: () => true } as unknown as ReadonlySet<number> : new Set();
    const checker = new HistoryChecker({ seq: tail.seq + 1, prev: tail.hash }, unhashed, digest);
    for (const r of fresh) {
      const f = checker.check(r);
      if (f) return refuse({ kind: 'chain', seq: r.seq, fault: f, message: `the batch does not chain onto the stored tail (seq ${tail.seq}): ${f.message}` });
    }

    await db.events.bulkAdd(fresh);
    stats = stats ?? { count: 0, firstSeq: fresh[0].seq, firstPrev: fresh[0].prev };
    stats = { ...stats, count: stats.count + fresh.length };
    const notes: string[] = [];
    for (const r of fresh) {
      if (r.type === 'store.prune') stats = await applyPrune(db, r, stats, notes);
      else if (r.type === 'store.redact') await applyRedact(db, r, stats, notes);
    }
    const last = fresh[fresh.length - 1];
    await db.meta.bulkPut([
      { key: 'tail', value: { seq: last.seq, hash: last.hash } satisfies MetaValues['tail'] },
      { key: 'stats', value: stats satisfies MetaValues['stats'] },
    ]);
    return { ok: true, ack: last.seq, appended: fresh.length, duplicates: split, notes };
  });
}

/** Remove the records a `store.prune` record summarises, after checking the summary against the store. */
async function applyPrune(db: AppDb, rec: XRecord, stats: StatsMeta, notes: string[]): Promise<StatsMeta> {
  const range = prunedRangeOf(rec) as PrunedRange;
  const skip = (why: string) => {
    notes.push(`store.prune at seq ${rec.seq} kept as history but not applied: ${why}`);
    return stats;
  };
  if (range.to >= rec.seq) return skip(`it prunes up to seq ${range.to}, not before itself`);
  if (range.count < 1) return skip('it prunes nothing');
  if (range.from !== stats.firstSeq) return skip(`its range starts at seq ${range.from} but the store starts at seq ${stats.firstSeq}`);
  const [first, last] = await db.events.bulkGet([range.from, range.to]);
  if (!first || first.hash !== range.first) return skip(`its first hash does not match seq ${range.from}`);
  if (!last || last.hash !== range.last) return skip(`its last hash does not match seq ${range.to}`);
  const removed = await db.events.where('seq').below(range.to + 1).delete();
  // Keep the snapshot at the boundary: replay of the kept records starts from it.
  await db.snapshots.where('seq').below(range.to).delete();
  const pruned = ((await db.meta.get('pruned'))?.value as PrunedRange[] | undefined) ?? [];
  await db.meta.put({ key: 'pruned', value: [...pruned, range] });
  return { ...stats, count: stats.count - removed, firstSeq: range.to + 1, firstPrev: range.last };
}

/** Replace one field of a stored record, keeping its place, prev and hash; the redaction is listed in meta. */
async function applyRedact(db: AppDb, rec: XRecord, stats: StatsMeta, notes: string[]): Promise<void> {
  const red = redactionOf(rec) as Redaction;
  const skip = (why: string) => void notes.push(`store.redact at seq ${rec.seq} kept as history but not applied: ${why}`);
  if (red.seq >= rec.seq) return skip(`it names seq ${red.seq}, which is not before it`);
  if (red.seq < stats.firstSeq) return skip(`seq ${red.seq} has been pruned`);
  const target = await db.events.get(red.seq);
  if (!target) return skip(`seq ${red.seq} is not stored`);
  const why = redactionProblem(target, red.field);
  if (why) return skip(why);
  await db.events.put(applyRedaction(target, red.field));
  const list = ((await db.meta.get('redactions'))?.value as Redaction[] | undefined) ?? [];
  await db.meta.put({ key: 'redactions', value: [...list, red] });
}
