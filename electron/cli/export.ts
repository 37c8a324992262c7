/**
 * `xendeck export FILE --format jsonl|csv|html [--domain UUID|NAME] [--from TS --to TS] [--from-seq N --to-seq N] --out FILE`
 *
 * The same export code as the renderer (electron/shared/export), reading a
 * bundle file instead of the store. The input is checked whole first (schema,
 * chain, gaps, manifest). TS is ms since epoch or an ISO time. The output is
 * written to a temporary name and renamed, gzipped when it ends in `.gz`.
 * Exit codes: 0 ok, 1 the input bundle is invalid, 2 bad usage, unreadable
 * input, or a selection that matches nothing.
 */
import { createWriteStream, promises as fsp } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import { args, parseSeq, UsageError, type Io } from './main.ts';
import { fileLines, nodeSha256Hex } from '../shared/bundle-io.ts';
import { BundleParser } from '../../machines/events/bundle.ts';
import type { XRecord } from '../../machines/events/record.ts';
import { ALL_BINDINGS, machineVersions } from '../../machines/host/bindings.ts';
import { Replayer } from '../../machines/host/replay.ts';
import type { Incident, RouterSnapshot } from '../../machines/host/router.ts';
import { checkBundle, type CheckedBundle } from '../shared/export/check.std.ts';
import { EXPORT_FORMATS, exportHistory, type ExportFormat } from '../shared/export/export.std.ts';
import { SelectionError, type Selection } from '../shared/export/select.std.ts';
import type { RecordSource, TextSink } from '../shared/export/source.std.ts';

/** Records of a checked bundle file, re-read from disk for each pass (constant memory). */
export function fileSource(path: string, checked: CheckedBundle): RecordSource {
  const m = checked.manifest;
  async function* records(from: number, to: number): AsyncGenerator<XRecord> {
    if (to < from) return;
    const p = new BundleParser({ checkChain: false });
    for await (const line of fileLines(path)) {
      const r = p.line(line);
      if (!r || r.seq < from) continue;
      if (r.seq > to) return;
      yield r;
    }
  }
  async function fold(upTo: number): Promise<Replayer | null> {
    const snap = checked.snapshot;
    if (m.from !== 1 && !snap) return null;
    const r = new Replayer(ALL_BINDINGS, snap?.state, { keepTransitions: false, checkTransitions: false });
    for await (const rec of records(m.from, upTo)) r.push(rec);
    return r;
  }
  return {
    bounds: async () => ({ from: m.from, to: m.to, prev: m.prev }),
    records,
    host: async () => m.host,
    pruned: async () => m.pruned ?? [],
    redactions: async () => m.redactions ?? [],
    async snapshotAt(seq: number): Promise<RouterSnapshot | null> {
      if (seq === m.from - 1) return checked.snapshot?.state ?? null;
      const r = await fold(seq);
      return r ? r.router.snapshot() : null;
    },
    async incidents(from: number, to: number): Promise<Incident[]> {
      const r = await fold(to);
      return r ? r.router.incidents.filter((i) => i.to >= from && i.from <= to) : [];
    },
  };
}

function parseTime(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new UsageError(`${name} expects ms since epoch or an ISO time, found "${v}"`);
  return t;
}

/** A sink over a Node stream, honouring backpressure. */
function streamSink(out: Writable): TextSink {
  return {
    async write(chunk: string) {
      if (!out.write(chunk)) await once(out, 'drain');
    },
  };
}

export async function run(argv: string[], io: Io): Promise<number> {
  const a = args(argv, {
    format: { type: 'string' },
    domain: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'from-seq': { type: 'string' },
    'to-seq': { type: 'string' },
    out: { type: 'string' },
    title: { type: 'string' },
  });
  const format = a.values.format as ExportFormat | undefined;
  if (!format || !EXPORT_FORMATS.includes(format)) throw new UsageError(`--format expects one of ${EXPORT_FORMATS.join(', ')}`);
  const outPath = a.values.out;
  if (!outPath) throw new UsageError('--out FILE is required');
  const selection: Selection = {};
  const tsFrom = parseTime(a.values.from, '--from');
  const tsTo = parseTime(a.values.to, '--to');
  const seqFrom = parseSeq(a.values['from-seq'], '--from-seq');
  const seqTo = parseSeq(a.values['to-seq'], '--to-seq');
  if (tsFrom !== undefined) selection.tsFrom = tsFrom;
  if (tsTo !== undefined) selection.tsTo = tsTo;
  if (seqFrom !== undefined) selection.seqFrom = seqFrom;
  if (seqTo !== undefined) selection.seqTo = seqTo;
  if (a.values.domain) selection.domain = a.values.domain;
  if (tsFrom !== undefined && tsTo !== undefined && tsTo < tsFrom) throw new UsageError('--to is before --from');

  const input = a.positionals[0];
  const checked = await checkBundle(fileLines(input), { digest: nodeSha256Hex });
  const src = fileSource(input, checked);

  const tmp = `${outPath}.tmp-${process.pid}`;
  const file = createWriteStream(tmp);
  let out: Writable = file;
  if (outPath.endsWith('.gz')) {
    const gz = createGzip();
    gz.pipe(file);
    out = gz;
  }
  try {
    const res = await exportHistory(src, {
      format,
      selection,
      created: new Date().toISOString(),
      machines: checked.manifest.machines,
      snapshotMachines: machineVersions(),
      sink: streamSink(out),
      ...(a.values.title ? { title: a.values.title } : {}),
    });
    out.end();
    await once(file, 'close');
    await fsp.rename(tmp, outPath);
    io.out(`exported ${res.rows} ${format === 'jsonl' ? 'records' : 'rows'}, seq ${res.from}..${res.to}, fingerprint ${res.fingerprint} → ${outPath}`);
    return 0;
  } catch (e) {
    file.destroy();
    await fsp.rm(tmp, { force: true });
    if (e instanceof SelectionError) {
      io.err(`xendeck export: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
