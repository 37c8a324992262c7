/**
 * Snapshots are a projection: the host router's persisted state every N
 * records, written as replay folds past them. They can be dropped and rebuilt
 * from the events at any time (except the one at a pruned boundary, which is
 * where the kept history starts and cannot be recomputed).
 */
import { ReplayEngine, DEFAULT_SNAPSHOT_EVERY } from '../../replay/replay-engine.ts';
import type { AppDb } from '../app-db.ts';
import { readStats, readTail } from '../meta.ts';

/** Fold to the tail, writing snapshots every `every` records past the newest one. */
export async function updateSnapshots(db: AppDb, every = DEFAULT_SNAPSHOT_EVERY): Promise<number> {
  const engine = new ReplayEngine(db, { snapshotEvery: every });
  const tail = await readTail(db);
  await engine.seek(tail.seq);
  return db.snapshots.count();
}

/** Drop every snapshot that can be recomputed and fold again from the start of the kept history. */
export async function rebuildSnapshots(db: AppDb, every = DEFAULT_SNAPSHOT_EVERY): Promise<number> {
  const stats = await readStats(db);
  const keep = stats.firstSeq - 1;
  await db.snapshots.where('seq').above(keep).delete();
  return updateSnapshots(db, every);
}
