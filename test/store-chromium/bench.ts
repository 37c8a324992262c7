/**
 * The store's benchmarks for `npm run bench` (DESIGN.md section 8), measured
 * in Chromium against real IndexedDB in one page and one run, each beside its
 * same-run baseline:
 *  - ingest: records/s committed through append-event (Dexie, chain checked)
 *    against raw IndexedDB batched puts of the same records, same indexes;
 *  - seek: ms to the state at a random seq of an N-record store from its
 *    snapshots (median of 5), against a full replay to the median one;
 *  - export: CSV records/s from the store against just reading the records;
 *  - disk: bytes on disk per record against the record's JSON size.
 * Register with `BENCHES.push(storeBench)` in electron/cli/bench.ts.
 */
import type { Bench, BenchResult } from '../../electron/cli/bench.ts';
import { openSuite } from './harness.ts';
import type { StoreBenchResult } from './page.ts';

export async function runStoreBench(records: number, log: (s: string) => void = () => {}): Promise<StoreBenchResult> {
  const s = await openSuite();
  try {
    log(`store: filling a ${records.toLocaleString('en')}-record store in Chromium (this takes a while for 1M)`);
    return (await s.page.evaluate((n) => (window as unknown as { storeSuite: { bench(n: number): Promise<StoreBenchResult> } }).storeSuite.bench(n), records)) as StoreBenchResult;
  } finally {
    await s.close();
  }
}

export function storeBenchResults(r: StoreBenchResult): BenchResult[] {
  return [
    {
      name: 'store-ingest',
      figure: r.ingest.appendPerSec,
      unit: 'records/s',
      baseline: r.ingest.rawPerSec,
      baselineLabel: `raw IndexedDB puts, ${r.ingest.batch} per transaction, same records and indexes`,
      ratio: r.ingest.appendPerSec / r.ingest.rawPerSec,
      notes: { records: r.ingest.sample, batch: r.ingest.batch, chainCheckPerSec: r.ingest.checkPerSec, fillSecs: r.fillSecs },
    },
    {
      name: 'store-seek',
      figure: r.seek.seekMs,
      unit: 'ms',
      baseline: r.seek.fullMs,
      baselineLabel: `full replay to seq ${r.seek.median} (the median seek)`,
      ratio: r.seek.fullMs / r.seek.seekMs,
      notes: { storeRecords: r.records, median: 'of 5 random seqs', seqs: r.seek.seqs, seekMs: r.seek.allMs, folded: r.seek.fold, snapshotEvery: r.seek.snapshotEvery, sameState: r.seek.same },
    },
    {
      name: 'store-export',
      figure: r.export.csvPerSec,
      unit: 'records/s',
      baseline: r.export.readPerSec,
      baselineLabel: 'reading the same records from the store',
      ratio: r.export.csvPerSec / r.export.readPerSec,
      notes: { records: r.export.records, jsonlPerSec: r.export.jsonlPerSec },
    },
    {
      name: 'store-disk',
      figure: r.disk.bytesPerRecord,
      unit: 'bytes/record',
      baseline: r.disk.jsonBytesPerRecord,
      baselineLabel: 'JSON size of the record',
      ratio: r.disk.jsonBytesPerRecord / Math.max(1, r.disk.bytesPerRecord),
      notes: { records: r.records },
    },
  ];
}

export const storeBench: Bench = {
  name: 'store',
  async run(ctx) {
    return storeBenchResults(await runStoreBench(ctx.records, ctx.log));
  },
};
