/**
 * `xendeck bench [--json] [--records N] [--only NAME]`: each benchmark prints
 * its figure beside a baseline measured in the same run, and the ratio.
 * Machines here are small and noisy: compare ratios, not absolute figures.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { args, type Io } from './main.ts';
import { Chain } from '../../machines/events/chain.ts';
import { canonicalJson } from '../../machines/events/canonical.ts';
import { manifestFor } from '../../machines/events/bundle.ts';
import { ALL_BINDINGS, machineVersions } from '../../machines/host/bindings.ts';
import { Replayer } from '../../machines/host/replay.ts';
import { HostRouter, type RouterSnapshot } from '../../machines/host/router.ts';
import type { XRecord } from '../../machines/events/record.ts';
import { nodeSha256Hex, readBundleFile, writeBundleFile } from '../shared/bundle-io.ts';
import { workload } from './workload.ts';

export interface BenchResult {
  name: string;
  figure: number;
  unit: string;
  baseline: number;
  baselineLabel: string;
  /** figure / baseline (for rates) or baseline / figure (for times): > 1 means faster than the baseline. */
  ratio: number;
  notes?: Record<string, unknown>;
}

export interface BenchContext {
  records: number;
  dir: string;
  log: (s: string) => void;
}

export interface Bench {
  name: string;
  run(ctx: BenchContext): Promise<BenchResult | BenchResult[]>;
}

/** Other parts add their benchmarks here (simulator, helper, store). */
export const BENCHES: Bench[] = [];

async function generate(ctx: BenchContext): Promise<string> {
  const file = join(ctx.dir, `workload-${ctx.records}.jsonl`);
  const chain = new Chain(undefined, nodeSha256Hex);
  const t0 = performance.now();
  const recs = (function* () {
    for (const o of workload(ctx.records)) yield chain.append(o) as XRecord;
  })();
  // The manifest needs the last hash: write records first to learn it, then the real file.
  const tmp: XRecord[] = [];
  for (const r of recs) tmp.push(r);
  await writeBundleFile(file, manifestFor(tmp, { host: { hostname: 'bench' }, created: new Date(0).toISOString(), machines: machineVersions() }), tmp);
  ctx.log(`generated ${ctx.records} records in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return file;
}

BENCHES.push({
  name: 'replay',
  async run(ctx) {
    const file = await generate(ctx);
    // Baseline: read, parse, schema-check and hash-check every record.
    let t0 = performance.now();
    let n = 0;
    await readBundleFile(file, { onRecord: () => void n++ });
    const readSecs = (performance.now() - t0) / 1000;
    // Figure: read, parse and schema-check, then fold through every machine (the chain was checked at import).
    const r = new Replayer(ALL_BINDINGS, undefined, { keepTransitions: false, checkTransitions: false });
    t0 = performance.now();
    await readBundleFile(file, { checkChain: false, onRecord: (rec) => void r.push(rec) });
    const replaySecs = (performance.now() - t0) / 1000;
    const a = n / readSecs;
    const b = n / replaySecs;
    // Seek: restore the nearest snapshot and fold forward, against a full replay to the same seq.
    const every = Math.max(1000, Math.floor(n / 100));
    const snaps = new Map<number, RouterSnapshot>();
    const all: XRecord[] = [];
    await readBundleFile(file, { checkChain: false, onRecord: (rec) => void all.push(rec) });
    const rs = new Replayer(ALL_BINDINGS, undefined, { keepTransitions: false, checkTransitions: false, snapshotEvery: every, onSnapshot: (s, snap) => void snaps.set(s, snap) });
    for (const rec of all) rs.push(rec);
    const target = Math.floor(n * 0.77) + 3;
    t0 = performance.now();
    const base = Math.floor(target / every) * every;
    const router = snaps.has(base) ? HostRouter.restore(ALL_BINDINGS, snaps.get(base)!) : new HostRouter(ALL_BINDINGS);
    for (let i = snaps.has(base) ? base : 0; i < target; i++) router.apply(all[i]);
    const seekMs = performance.now() - t0;
    t0 = performance.now();
    const full = new HostRouter(ALL_BINDINGS);
    for (let i = 0; i < target; i++) full.apply(all[i]);
    const fullMs = performance.now() - t0;
    const same = canonicalJson(full.view()) === canonicalJson(router.view());
    return [
      { name: 'replay', figure: Math.round(b), unit: 'records/s', baseline: Math.round(a), baselineLabel: 'read + parse + hash-check', ratio: b / a, notes: { records: n, actors: r.router.actorCount, incidents: r.router.incidents.length, faults: r.router.faults.length, replaySecs, readSecs } },
      { name: 'seek', figure: +seekMs.toFixed(1), unit: 'ms', baseline: +fullMs.toFixed(1), baselineLabel: 'full replay to the same seq', ratio: fullMs / seekMs, notes: { seq: target, snapshotEvery: every, sameState: same } },
    ];
  },
});

// Registered after 'replay' so the core figures come first.
const { xenstoreBench } = await import('./bench-xenstore.ts');
BENCHES.push(xenstoreBench);
const { helperBench } = await import('./bench-helper.ts');
BENCHES.push(helperBench);
const { hostBench } = await import('../host/bench-host.ts');
BENCHES.push(hostBench);
// The flood load through the real helper: records/s and the well-behaved guests' worst latency, with and without the flood.
const { floodBench } = await import('./bench-flood.ts');
BENCHES.push(floodBench);
// The store in real Chromium (IndexedDB through Dexie): needs /usr/bin/chromium.
const { storeBench } = await import('../../test/store-chromium/bench.ts');
BENCHES.push(storeBench);
// The interface in real Chromium against `xendeck serve --sim`: write-to-DOM latency and timeline scrolling.
const { uiBench } = await import('../../test/e2e/bench.ts');
BENCHES.push(uiBench);

export async function benchCmd(argv: string[], io: Io): Promise<number> {
  const a = args(argv, { json: { type: 'boolean' }, records: { type: 'string' }, only: { type: 'string' } }, 0);
  const records = a.values.records ? Number(a.values.records) : 1_000_000;
  if (!Number.isSafeInteger(records) || records < 100) {
    io.err('xendeck bench: --records expects a whole number ≥ 100');
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'xendeck-bench-'));
  const results: BenchResult[] = [];
  const failed: string[] = [];
  const log = a.values.json ? (s: string) => io.err(s) : (s: string) => io.out(`  ${s}`);
  try {
    for (const b of BENCHES) {
      if (a.values.only && b.name !== a.values.only) continue;
      let got: BenchResult | BenchResult[];
      try {
        got = await b.run({ records, dir, log });
      } catch (e) {
        // One benchmark that cannot run (a missing peer) does not hide the others' figures.
        failed.push(b.name);
        io.err(`bench ${b.name}: failed: ${String((e as Error).message ?? e).split('\n')[0]}`);
        continue;
      }
      for (const r of Array.isArray(got) ? got : [got]) {
        results.push(r);
        if (!a.values.json)
          io.out(`${r.name}: ${r.figure.toLocaleString('en')} ${r.unit}  vs  ${r.baseline.toLocaleString('en')} ${r.unit} (${r.baselineLabel})  ratio ${r.ratio.toFixed(2)}${r.notes ? `  ${JSON.stringify(r.notes)}` : ''}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (a.values.json) io.out(JSON.stringify({ results, failed }, null, 2));
  return failed.length ? 1 : 0;
}
