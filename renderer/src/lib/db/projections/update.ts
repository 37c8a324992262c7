/**
 * Bring every projection up to the tail after appends: snapshots every N
 * records and the automatic incidents. Incremental: replay restores the newest
 * snapshot (which carries the incidents found so far) and folds only the
 * records after it. Call it when the page is idle after a batch is acked.
 */
import { ReplayEngine, DEFAULT_SNAPSHOT_EVERY } from '../../replay/replay-engine.ts';
import type { AppDb } from '../app-db.ts';
import { readTail, setMeta } from '../meta.ts';
import { rebuildIncidents } from './incidents.ts';

export async function updateProjections(db: AppDb, every = DEFAULT_SNAPSHOT_EVERY): Promise<{ projected: number; incidents: number }> {
  const engine = new ReplayEngine(db, { snapshotEvery: every });
  const tail = await readTail(db);
  const rows = await rebuildIncidents(db, engine);
  await setMeta(db, 'projected', tail.seq);
  return { projected: tail.seq, incidents: rows.length };
}
