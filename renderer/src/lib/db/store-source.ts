/**
 * The store as a RecordSource, so exports and verify read it with the same
 * code the CLI uses on bundle files (electron/shared/export).
 */
import type { RecordSource } from '../../../../electron/shared/export/source.std.ts';
import type { PrunedRange, Redaction } from '../../../../electron/shared/export/history.std.ts';
import type { Incident } from '../../../../machines/host/router.ts';
import { ReplayEngine, storeRecords } from '../replay/replay-engine.ts';
import type { AppDb } from './app-db.ts';
import { getMeta, readStats, readTail } from './meta.ts';

export function storeSource(db: AppDb, engine: ReplayEngine = new ReplayEngine(db)): RecordSource {
  return {
    async bounds() {
      const [stats, tail] = await Promise.all([readStats(db), readTail(db)]);
      if (tail.seq === 0) return { from: 1, to: 0, prev: stats.firstPrev };
      return { from: stats.firstSeq, to: tail.seq, prev: stats.firstPrev };
    },
    records: (from, to) => storeRecords(db, from, to),
    host: async () => ((await getMeta(db, 'host')) as { hostname: string } | undefined) ?? { hostname: 'unknown' },
    pruned: async (): Promise<PrunedRange[]> => (await getMeta(db, 'pruned')) ?? [],
    redactions: async (): Promise<Redaction[]> => (await getMeta(db, 'redactions')) ?? [],
    snapshotAt: (seq) => engine.stateAt(seq),
    async incidents(from, to): Promise<Incident[]> {
      const rows = await db.incidents.where('from').belowOrEqual(to).toArray();
      return rows
        .filter((i) => i.to >= from)
        .sort((a, b) => a.from - b.from || a.id.localeCompare(b.id))
        .map(({ kind, actor, uuid, from: f, to: t, ts, summary, note }) => ({ kind, actor, uuid, from: f, to: t, ts, summary: note ? `${summary} — note: ${note}` : summary }));
    },
  };
}
