/**
 * The event store's suite, run inside Chromium against real IndexedDB. Bundled
 * by vite (harness.ts) and driven from Node through playwright-core: each
 * function returns plain data that store-chromium.test.ts asserts on.
 * Same code as the unit tests use: append-event, the replay engine and worker,
 * the shared export, import and verify.
 */
import { Dexie } from 'dexie';
import { ALL_BINDINGS } from '../../machines/host/bindings.ts';
import { replay } from '../../machines/host/replay.ts';
import { Recorder } from '../../machines/host/recorder.ts';
import type { XRecord } from '../../machines/events/record.ts';
import { exportHistory } from '../../electron/shared/export/export.std.ts';
import { HistoryChecker } from '../../electron/shared/export/history.std.ts';
import { storeRecords } from '../../renderer/src/lib/replay/replay-engine.ts';
import { parseCsv } from '../../electron/shared/export/csv.std.ts';
import type { TextSink } from '../../electron/shared/export/source.std.ts';
import { workload } from '../../electron/cli/workload.ts';
import { AppDb } from '../../renderer/src/lib/db/app-db.ts';
import { appendEvents } from '../../renderer/src/lib/db/append-event.ts';
import { exportStore } from '../../renderer/src/lib/db/export-store.ts';
import { importBundle } from '../../renderer/src/lib/db/import-bundle.ts';
import { readStats, readTail } from '../../renderer/src/lib/db/meta.ts';
import { storeSource } from '../../renderer/src/lib/db/store-source.ts';
import { verifyStore } from '../../renderer/src/lib/db/verify-store.ts';
import { batches, sealedHistory } from '../../renderer/src/lib/db/test-support.ts';
import { ReplayEngine } from '../../renderer/src/lib/replay/replay-engine.ts';
import { ReplayClient, workerTransport } from '../../renderer/src/lib/replay/replay-client.ts';
import { machineVersions } from '../../machines/host/bindings.ts';
// The store when storage is full (store-full.test.ts): sets window.storeFullSuite.
import './store-full-page.ts';

/** Where two values first differ (key order ignored), or null when equal. */
function firstDiff(a: unknown, b: unknown, path = '$'): string | null {
  if (a === b) return null;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return `${path}: ${JSON.stringify(a)?.slice(0, 80)} vs ${JSON.stringify(b)?.slice(0, 80)}`;
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs object`;
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  for (const k of new Set([...ka, ...kb])) {
    const d = firstDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return null;
}
const same = (a: unknown, b: unknown) => firstDiff(a, b) === null;

const cache = new Map<string, XRecord[]>();
function history(n: number): XRecord[] {
  const k = String(n);
  if (!cache.has(k)) cache.set(k, sealedHistory(n, { domains: 6 }));
  return cache.get(k)!;
}

async function dump(db: AppDb) {
  return { events: await db.events.count(), tail: await readTail(db), stats: await readStats(db) };
}

async function databases(): Promise<string[]> {
  return (await Dexie.getDatabaseNames()).sort();
}

const suite = {
  /** Append: batches commit, a broken chain is refused whole, a duplicate batch is tolerated. */
  async append(name: string) {
    const H = history(1000);
    const db = new AppDb(name);
    const first = await appendEvents(db, H.slice(0, 400));
    const gap = await appendEvents(db, H.slice(401, 500));
    const altered = H.slice(400, 500).map((r, i) => (i === 50 ? { ...r, ts: r.ts + 1 } : r));
    const alteredRes = await appendEvents(db, altered);
    const afterRefusals = await dump(db);
    const next = await appendEvents(db, H.slice(400, 700));
    const dup = await appendEvents(db, H.slice(400, 700));
    const overlap = await appendEvents(db, H.slice(600, 1000));
    const end = await dump(db);
    const same = JSON.stringify(await db.events.toArray()) === JSON.stringify(H.slice(0, end.events));
    db.close();
    return { first, gap, altered: alteredRes, afterRefusals, next, dup, overlap, end, same, n: H.length };
  },

  /** Fill a store, then start one big batch and report when all its writes are issued (the page is then reloaded). */
  async startBigBatch(name: string, big: number) {
    const H = history(500 + big);
    const db = new AppDb(name);
    for (const b of batches(H.slice(0, 500), 250)) await appendEvents(db, b);
    const w = window as unknown as { __issued: number; __committed: unknown };
    w.__issued = 0;
    w.__committed = null;
    db.events.hook('creating', () => void w.__issued++);
    void appendEvents(db, H.slice(500)).then((r) => (w.__committed = r));
    return { prefilled: 500 };
  },

  /** After the reload: no partial batch; the host re-sends it and it commits whole. */
  async afterReload(name: string, big: number) {
    const H = history(500 + big);
    const db = new AppDb(name);
    const after = await dump(db);
    const verify = await verifyStore(db);
    const resend = await appendEvents(db, H.slice(after.tail.seq));
    const end = await dump(db);
    db.close();
    return { after, verify, resend, end };
  },

  /** Replay: seek and step through the worker; states equal a full fold of the same records. */
  async replay(name: string, n: number, seqs: number[]) {
    const H = history(n);
    const db = new AppDb(name);
    for (const b of batches(H, 1000)) await appendEvents(db, b);
    await new ReplayEngine(db, { snapshotEvery: 500 }).seek(H.length);
    const snapshots = await db.snapshots.count();
    db.close();
    const { client, view } = await ReplayClient.open(name, { transport: workerTransport(), snapshotEvery: 500 });
    const out: { seq: number; same: boolean }[] = [];
    for (const s of seqs) {
      const v = await client.seek(s);
      out.push({ seq: v.seq, same: same(v, replay(H, ALL_BINDINGS, s).view) });
    }
    const stepped = await client.step(-1);
    const stepDiff = firstDiff(stepped, replay(H, ALL_BINDINGS, stepped.seq).view);
    const stepSame = stepDiff === null;
    const diff = await client.diff(100, 900);
    const incidents = await client.incidents();
    const cliIncidents = replay(H, ALL_BINDINGS).view.incidents;
    await client.close();
    return { firstSeq: view.seq, paused: true, snapshots, seeks: out, stepSeq: stepped.seq, stepSame, stepDiff, diffChanges: diff.changes.length, incidents: incidents.length, incidentsSame: JSON.stringify(incidents) === JSON.stringify(cliIncidents), n: H.length };
  },

  /** Export a range (gzip), import it into its own store, verify, and replay to the same states as the live store. */
  async exportImport(name: string) {
    const H = history(3000);
    const db = new AppDb(name);
    for (const b of batches(H, 1000)) await appendEvents(db, b);
    const progress: number[] = [];
    const { blob, result } = await exportStore(db, { format: 'jsonl', selection: { seqFrom: 800, seqTo: 2400 }, gzip: true }, { every: 500, onProgress: (p) => progress.push(p.done) });
    const head = Array.from(new Uint8Array(await blob.slice(0, 2).arrayBuffer()));
    const imp = await importBundle(blob, { source: 'chromium suite' });
    const verify = await verifyStore(imp.db, {}, { replay: true });
    const liveEngine = new ReplayEngine(db);
    const impEngine = new ReplayEngine(imp.db);
    const seqs = [result.from, 1000, 1777, result.to];
    const sameAt: boolean[] = [];
    const diffs: (string | null)[] = [];
    for (const s of seqs) {
      const d = firstDiff(await liveEngine.seek(s), await impEngine.seek(s));
      diffs.push(d);
      sameAt.push(d === null);
    }
    const readOnly = await appendEvents(imp.db, H.slice(result.to, result.to + 5));
    const csv = parseCsv(await (await exportStore(db, { format: 'csv', selection: { seqFrom: 10, seqTo: 60 } })).blob.text());
    const html = await (await exportStore(db, { format: 'html', selection: { seqFrom: 10, seqTo: 60 } })).blob.text();
    const stores = await databases();
    const ac = new AbortController();
    let cancelled = '';
    await exportStore(db, { format: 'csv', selection: {} }, { every: 200, signal: ac.signal, onProgress: (p) => p.done >= 400 && ac.abort() }).catch((e: Error) => (cancelled = e.name));
    db.close();
    imp.db.close();
    return { result, head, imported: { name: imp.name, fingerprint: imp.fingerprint, records: imp.records }, verify, same: sameAt, diffs, readOnly, csvRows: csv.length, csvHeader: csv[0], htmlStart: html.slice(0, 15), stores, progress, cancelled };
  },

  /** A bad bundle is refused with the line named; nothing is written, the live store is untouched. */
  async importRejects(name: string) {
    const H = history(1200);
    const db = new AppDb(name);
    for (const b of batches(H, 600)) await appendEvents(db, b);
    const text = await (await exportStore(db, { format: 'jsonl', selection: { seqFrom: 200, seqTo: 1000 } })).blob.text();
    const lines = text.trimEnd().split('\n');
    const cases: Record<string, string[]> = {
      tampered: lines.map((l, i) => (i === 40 ? l.replace(/"ts":(\d+)/, (_, t) => `"ts":${Number(t) + 9}`) : l)),
      truncated: lines.slice(0, 300),
      reordered: lines.map((l, i) => (i === 100 ? lines[101] : i === 101 ? lines[100] : l)),
      duplicated: [...lines.slice(0, 52), lines[51], ...lines.slice(52)],
      wrongVersion: [lines[0].replace('"version":1', '"version":3'), ...lines.slice(1)],
    };
    const before = JSON.stringify(await db.events.toArray()) + JSON.stringify(await db.meta.toArray());
    const storesBefore = await databases();
    const out: Record<string, { message: string; line: number | undefined; liveUnchanged: boolean; storesUnchanged: boolean }> = {};
    for (const [k, ls] of Object.entries(cases)) {
      let message = '';
      let line: number | undefined;
      try {
        await importBundle(new Blob([ls.join('\n') + '\n']));
      } catch (e) {
        message = (e as Error).message;
        line = (e as { line?: number }).line;
      }
      const after = JSON.stringify(await db.events.toArray()) + JSON.stringify(await db.meta.toArray());
      out[k] = { message, line, liveUnchanged: after === before, storesUnchanged: JSON.stringify(await databases()) === JSON.stringify(storesBefore) };
    }
    db.close();
    return out;
  },

  async drop(names: string[]) {
    for (const n of names) await Dexie.delete(n);
    for (const n of await databases()) if (n.startsWith('xendeck-import-')) await Dexie.delete(n);
  },

  bench,
};

/** Raw IndexedDB with the same schema as AppDb v1: the baseline for ingest. */
function openRaw(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => {
      const s = req.result.createObjectStore('events', { keyPath: 'seq' });
      s.createIndex('ts', 'ts');
      s.createIndex('type', 'type');
      s.createIndex('uuid', 'uuid');
      s.createIndex('uuid_seq', ['uuid', 'seq']);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function rawPut(db: IDBDatabase, recs: readonly XRecord[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction('events', 'readwrite');
    const st = tx.objectStore('events');
    for (const r of recs) st.put(r);
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

async function usage(): Promise<number> {
  return (await navigator.storage.estimate()).usage ?? 0;
}

class CountSink implements TextSink {
  bytes = 0;
  write(chunk: string): void {
    this.bytes += chunk.length;
  }
}

export interface StoreBenchResult {
  records: number;
  ingest: { sample: number; appendPerSec: number; rawPerSec: number; checkPerSec: number; batch: number };
  seek: { seqs: number[]; median: number; seekMs: number; allMs: number[]; fullMs: number; fold: number[]; snapshotEvery: number; same: boolean };
  export: { records: number; csvPerSec: number; jsonlPerSec: number; readPerSec: number };
  disk: { bytesPerRecord: number; jsonBytesPerRecord: number };
  fillSecs: number;
}

/**
 * The store's benchmarks, in one page and one run (DESIGN.md section 8):
 * ingest through append-event against raw IndexedDB batched puts of the same
 * records; seek to a random seq against a full replay; export records/s
 * against just reading the records; bytes on disk per record.
 */
async function bench(n: number, opts: { batch?: number; sample?: number; snapshotEvery?: number; seed?: number } = {}): Promise<StoreBenchResult> {
  const batch = opts.batch ?? 1000;
  const sample = Math.min(n, opts.sample ?? 100_000);
  const every = opts.snapshotEvery ?? Math.min(10_000, Math.max(500, Math.floor(n / 100)));
  const name = `bench-${Date.now()}`;
  const recorder = new Recorder(ALL_BINDINGS);
  const gen = (function* () {
    for (const o of workload(n * 2, { domains: 200, seed: opts.seed ?? 42 })) yield* recorder.observe(o);
  })();
  // The first `sample` records are generated up front, so both ingest paths time only their writes.
  const kept: XRecord[] = [];
  let jsonBytes = 0;
  while (kept.length < sample) {
    const r = gen.next();
    if (r.done) break;
    kept.push(r.value);
    jsonBytes += JSON.stringify(r.value).length;
  }

  // Baseline: raw batched puts of the same records, same indexes.
  const rawName = `${name}-raw`;
  const raw = await openRaw(rawName);
  let a = performance.now();
  for (let i = 0; i < kept.length; i += batch) await rawPut(raw, kept.slice(i, i + batch));
  const rawMs = performance.now() - a;
  raw.close();
  await Dexie.delete(rawName);

  // Figure: the same records through append-event (schema, chain and hash checked, meta counters, one transaction per batch).
  const db = new AppDb(name);
  await db.open();
  const u0 = await usage();
  a = performance.now();
  for (let i = 0; i < kept.length; i += batch) {
    const r = await appendEvents(db, kept.slice(i, i + batch));
    if (!r.ok) throw new Error(r.refusal.message);
  }
  const appendMs = performance.now() - a;
  // Where the difference goes: the chain and hash check alone, in the same page.
  a = performance.now();
  const checker = new HistoryChecker({ seq: 1, prev: kept[0].prev });
  for (const r of kept) if (checker.check(r)) throw new Error('chain');
  const checkMs = performance.now() - a;

  // The rest of the store (untimed), streamed in batches.
  const t0 = performance.now();
  let pending: XRecord[] = [];
  let total = kept.length;
  for (;;) {
    if (total >= n) break;
    const r = gen.next();
    if (r.done) break;
    jsonBytes += JSON.stringify(r.value).length;
    pending.push(r.value);
    total++;
    if (pending.length >= batch) {
      const res = await appendEvents(db, pending);
      if (!res.ok) throw new Error(res.refusal.message);
      pending = [];
    }
  }
  if (pending.length) await appendEvents(db, pending);
  const fillSecs = (appendMs + performance.now() - t0) / 1000;
  total = (await readTail(db)).seq;
  const uFill = await usage();

  // Seek: snapshots every `every` records (the projection), then random seqs (median of 5, each from a fresh
  // engine), against a full replay to the seq whose seek was the median.
  await new ReplayEngine(db, { snapshotEvery: every }).seek(total);
  const targets = Array.from({ length: 5 }, () => 1 + Math.floor(Math.random() * total));
  const times: number[] = [];
  const folds: number[] = [];
  const views: unknown[] = [];
  for (const t of targets) {
    const seeker = new ReplayEngine(db, { snapshotEvery: every, persist: false });
    a = performance.now();
    const v = await seeker.seek(t);
    times.push(performance.now() - a);
    folds.push(seeker.lastFold);
    views.push(v);
  }
  const order = times.map((t, i) => [t, i] as const).sort((x, y) => x[0] - y[0]);
  const [seekMs, mid] = order[2];
  const fullEngine = new ReplayEngine(db, { useSnapshots: false, persist: false });
  a = performance.now();
  const fv = await fullEngine.seek(targets[mid]);
  const fullMs = performance.now() - a;
  const sameState = same(views[mid], fv);

  // Export records/s over `sample` records, against just reading them.
  const exportTo = Math.min(total, sample);
  a = performance.now();
  let read = 0;
  for await (const _r of storeRecords(db, 1, exportTo)) read++;
  const readMs = performance.now() - a;
  const src = storeSource(db);
  a = performance.now();
  await exportHistory(src, { format: 'csv', selection: { seqFrom: 1, seqTo: exportTo }, created: 'bench', machines: machineVersions(), sink: new CountSink() });
  const csvMs = performance.now() - a;
  a = performance.now();
  await exportHistory({ ...src, snapshotAt: undefined }, { format: 'jsonl', selection: { seqFrom: 1, seqTo: exportTo }, created: 'bench', machines: machineVersions(), sink: new CountSink() });
  const jsonlMs = performance.now() - a;

  db.close();
  await Dexie.delete(name);
  const perSec = (k: number, ms: number) => Math.round(k / (ms / 1000));
  return {
    records: total,
    ingest: { sample: kept.length, appendPerSec: perSec(kept.length, appendMs), rawPerSec: perSec(kept.length, rawMs), checkPerSec: perSec(kept.length, checkMs), batch },
    seek: { seqs: targets, median: targets[mid], seekMs: +seekMs.toFixed(1), allMs: times.map((t) => +t.toFixed(1)), fullMs: +fullMs.toFixed(1), fold: folds, snapshotEvery: every, same: sameState },
    export: { records: exportTo, csvPerSec: perSec(exportTo, csvMs), jsonlPerSec: perSec(exportTo, jsonlMs), readPerSec: perSec(read, readMs) },
    disk: { bytesPerRecord: Math.round((uFill - u0) / total), jsonBytesPerRecord: Math.round(jsonBytes / total) },
    fillSecs: +fillSecs.toFixed(1),
  };
}

(window as unknown as { storeSuite: typeof suite }).storeSuite = suite;
document.title = 'store suite ready';
export type StoreSuite = typeof suite;
