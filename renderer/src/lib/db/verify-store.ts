/**
 * Verify the store, whole or a range: schema, gaps, the hash chain (from the
 * pruned boundary's fingerprint when history was pruned; redacted records only
 * where a redaction names them), optionally replay determinism, and the
 * fingerprint to compare with one noted elsewhere.
 */
import { verifySource, type VerifyResult } from '../../../../electron/shared/export/check.std.ts';
import type { RunOptions } from '../../../../electron/shared/export/source.std.ts';
import { ALL_BINDINGS } from '../../../../machines/host/bindings.ts';
import type { AppDb } from './app-db.ts';
import { getMeta } from './meta.ts';
import { storeSource } from './store-source.ts';

export async function verifyStore(db: AppDb, range: { from?: number; to?: number } = {}, opts: RunOptions & { replay?: boolean } = {}): Promise<VerifyResult> {
  const src = storeSource(db);
  const res = await verifySource(src, range, { ...opts, ...(opts.replay ? { bindings: ALL_BINDINGS } : {}) });
  // The stored start must chain from the last pruned record's hash.
  const pruned = (await getMeta(db, 'pruned')) ?? [];
  const b = await src.bounds();
  if (res.ok && pruned.length && (range.from === undefined || range.from <= b.from)) {
    const p = pruned[pruned.length - 1];
    if (p.to + 1 !== b.from || p.last !== b.prev) return { ...res, ok: false, problem: { seq: b.from, message: `the stored history does not start where the last prune (seq ${p.by}) left it` } };
  }
  return res;
}
