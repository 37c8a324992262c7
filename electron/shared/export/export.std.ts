/**
 * Export a selection of history as a bundle (JSON Lines, manifest first, with
 * the fingerprint), CSV, or a self-contained HTML timeline. The same code runs
 * in the renderer (reading the store) and in `xendeck export` (reading a
 * bundle). Output goes to a TextSink (gzip it with gzipSink in the browser, or
 * the caller's stream in Node); progress is reported every N records and an
 * AbortSignal cancels between records.
 */
import { BUNDLE_FORMAT, fingerprint, type Manifest } from '../../../machines/events/bundle.ts';
import type { XRecord } from '../../../machines/events/record.ts';
import type { RouterSnapshot } from '../../../machines/host/router.ts';
import { CSV_HEADER, csvLine, csvRow } from './csv.std.ts';
import type { PrunedRange, Redaction } from './history.std.ts';
import { htmlEnd, htmlRow, htmlStart } from './html.std.ts';
import { RowFilter, resolveSelection, type Resolved, type Selection } from './select.std.ts';
import { Ticker, type RecordSource, type RunOptions, type TextSink } from './source.std.ts';

export type ExportFormat = 'jsonl' | 'csv' | 'html';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv', 'html'];

/** A bundle snapshot: the host router's state right after `seq` (= from - 1), so a range replays alone. */
export interface BundleSnapshot {
  seq: number;
  machines: Record<string, string>;
  state: RouterSnapshot;
}

/** Manifest of an exported bundle: the v1 manifest plus what history changes it carries. */
export type ExportManifest = Manifest & { pruned?: PrunedRange[]; redactions?: Redaction[] };

export interface ExportRequest {
  format: ExportFormat;
  selection: Selection;
  /** ISO time written into the manifest and report. */
  created: string;
  /** Machine versions the recorded transitions came from (manifest `machines`). */
  machines: Record<string, string>;
  /** Machine versions that compute the bundle's starting snapshot (default: `machines`). */
  snapshotMachines?: Record<string, string>;
  sink: TextSink;
  /** Report title (HTML). */
  title?: string;
}

export interface ExportResult {
  format: ExportFormat;
  from: number;
  to: number;
  /** Records in from..to (the fingerprint's count). */
  count: number;
  /** Rows written (CSV/HTML keep only the selection's records; a bundle has all of from..to). */
  rows: number;
  fingerprint: string;
  manifest?: ExportManifest;
}

/** Resolve the selection, then write it in the requested format. */
export async function exportHistory(src: RecordSource, req: ExportRequest, opts: RunOptions = {}): Promise<ExportResult> {
  const r = await resolveSelection(src, req.selection, opts);
  return exportResolved(src, r, req, opts);
}

async function edge(src: RecordSource, seq: number): Promise<XRecord> {
  for await (const rec of src.records(seq, seq)) return rec;
  throw new Error(`seq ${seq} is not in the history`);
}

export async function exportResolved(src: RecordSource, r: Resolved, req: ExportRequest, opts: RunOptions = {}): Promise<ExportResult> {
  const first = await edge(src, r.from);
  const last = await edge(src, r.to);
  const count = r.to - r.from + 1;
  const fp = fingerprint({ first: first.hash, last: last.hash, count });
  const [pruned, allRedactions, host] = await Promise.all([src.pruned(), src.redactions(), src.host()]);
  const redactions = allRedactions.filter((x) => x.seq >= r.from && x.seq <= r.to);
  const selection: Record<string, unknown> = { ...r.selection, ...(r.uuid ? { uuid: r.uuid } : {}) };
  const out = req.sink;
  let rows = 0;
  let manifest: ExportManifest | undefined;

  if (req.format === 'jsonl') {
    let snapshot: BundleSnapshot | null = null;
    if (r.from > 1 && src.snapshotAt) {
      // Without a state to start from (history pruned without one), the bundle still verifies; it just cannot replay alone.
      const state = await src.snapshotAt(r.from - 1).catch(() => null);
      if (state) snapshot = { seq: r.from - 1, machines: req.snapshotMachines ?? req.machines, state };
    }
    manifest = {
      format: BUNDLE_FORMAT,
      version: 1,
      created: req.created,
      host,
      from: r.from,
      to: r.to,
      count,
      first: first.hash,
      last: last.hash,
      prev: first.prev,
      machines: req.machines,
      snapshot,
      selection,
      ...(pruned.length ? { pruned } : {}),
      ...(redactions.length ? { redactions } : {}),
    };
    await out.write(JSON.stringify(manifest) + '\n');
  } else if (req.format === 'csv') {
    await out.write(csvLine(CSV_HEADER));
  } else {
    const incidents = src.incidents ? (await src.incidents(r.from, r.to)).filter((i) => !r.uuid || i.uuid === r.uuid) : [];
    await out.write(
      htmlStart({ title: req.title ?? 'Xendeck timeline', host, selection: r.selection, from: r.from, to: r.to, fingerprint: fp, created: req.created, pruned, redactions, incidents }),
    );
  }

  // CSV and HTML filter rows by the selection; identity must be learned from the start when a domain is named.
  const filter = new RowFilter(r.selection);
  const bounds = await src.bounds();
  const scanFrom = req.format !== 'jsonl' && r.selection.domain !== undefined ? bounds.from : r.from;
  const tick = new Ticker('write', r.to - scanFrom + 1, opts);
  let buf = '';
  for await (const rec of src.records(scanFrom, r.to)) {
    tick.tick();
    if (req.format === 'jsonl') {
      buf += JSON.stringify(rec) + '\n';
      rows++;
    } else if (filter.keep(rec) && rec.seq >= r.from) {
      buf += req.format === 'csv' ? csvRow(rec, filter) : htmlRow(rec, filter);
      rows++;
    }
    if (buf.length > 1 << 16) {
      await out.write(buf);
      buf = '';
    }
  }
  if (buf) await out.write(buf);
  tick.finish();
  if (req.format === 'html') await out.write(htmlEnd(rows));
  return { format: req.format, from: r.from, to: r.to, count, rows, fingerprint: fp, ...(manifest ? { manifest } : {}) };
}
