/**
 * Checking history before trusting it: a bundle before it is imported, and a
 * store (or a range of it) on demand. Both check schema, gaps and the hash
 * chain (redacted records only where a redaction names them), report the
 * first problem precisely (for a bundle, with its line number), and give the
 * fingerprint `first|last|count` to compare with one noted elsewhere.
 */
import { BundleError, BundleParser, fingerprint } from '../../../machines/events/bundle.ts';
import { pureSha256Hex, type Sha256Hex } from '../../../machines/events/hash.ts';
import { ZERO_HASH, type XRecord } from '../../../machines/events/record.ts';
import type { MachineBinding } from '../../../machines/host/binding.ts';
import { Replayer } from '../../../machines/host/replay.ts';
import { describe, recordProblem } from '../../../machines/events/validate.ts';
import type { BundleSnapshot, ExportManifest } from './export.std.ts';
import { HistoryChecker, type Redaction } from './history.std.ts';
import { Ticker, type RecordSource, type RunOptions } from './source.std.ts';

export interface CheckedBundle {
  manifest: ExportManifest;
  snapshot: BundleSnapshot | null;
  records: number;
  fingerprint: string;
}

function invalid(message: string, line?: number): BundleError {
  return new BundleError('invalid', message, line);
}

function checkExtras(m: ExportManifest): BundleSnapshot | null {
  const bad = (what: string, v: unknown) => invalid(`bad manifest: ${what}, found ${describe(v)}`, 1);
  if (m.redactions !== undefined) {
    if (!Array.isArray(m.redactions)) throw bad('redactions: expected a list', m.redactions);
    for (const r of m.redactions as unknown[]) {
      const x = r as Redaction;
      if (!x || typeof x !== 'object' || !Number.isSafeInteger(x.seq) || !Number.isSafeInteger(x.by) || typeof x.field !== 'string' || x.by <= x.seq)
        throw bad('redactions: expected {seq, field, by} with by after seq', r);
      if (x.seq < m.from || x.seq > m.to) throw bad(`redactions: seq ${x.seq} is outside the bundle ${m.from}..${m.to}`, x.seq);
    }
  }
  if (m.pruned !== undefined && !Array.isArray(m.pruned)) throw bad('pruned: expected a list', m.pruned);
  const s = m.snapshot as BundleSnapshot | null;
  if (s === null || s === undefined) return null;
  if (typeof s !== 'object' || s.seq !== m.from - 1 || !s.state || typeof s.state !== 'object' || s.state.v !== 1 || s.state.seq !== m.from - 1 || !s.machines || typeof s.machines !== 'object')
    throw bad(`snapshot: expected the host state right after seq ${m.from - 1}`, s);
  return s;
}

/**
 * Check a whole bundle, line by line, before anything is written: manifest,
 * schema, gaps, order, duplicates, the hash chain, and that the end is what
 * the manifest promised. Throws BundleError naming the line at the first
 * problem. `onRecord` sees each record once it has passed every check.
 */
export async function checkBundle(
  lines: AsyncIterable<string>,
  opts: RunOptions & {
    digest?: Sha256Hex;
    onRecord?: (r: XRecord) => void | Promise<void>;
    /** Skip recomputing hashes (schema, order and the manifest are still checked): only for bytes already checked whole. */
    hashesChecked?: boolean;
  } = {},
): Promise<CheckedBundle> {
  const digest = opts.digest ?? pureSha256Hex;
  let parser: BundleParser | null = null;
  let checker: HistoryChecker | null = null;
  let manifest: ExportManifest | null = null;
  let snapshot: BundleSnapshot | null = null;
  let n = 0;
  let tick: Ticker | null = null;
  for await (const line of lines) {
    if (!parser) {
      // Peek at the manifest: redactions decide how the chain is checked.
      let redactions: Redaction[] = [];
      try {
        const v = JSON.parse(line.replace(/^\uFEFF/, '')) as ExportManifest;
        if (v && Array.isArray(v.redactions)) redactions = v.redactions;
      } catch {
        /* the parser reports it */
      }
      parser = new BundleParser({ digest, checkChain: redactions.length === 0 && !opts.hashesChecked });
      parser.line(line);
      manifest = parser.manifest as ExportManifest;
      snapshot = checkExtras(manifest);
      if (redactions.length && !opts.hashesChecked) checker = new HistoryChecker({ seq: manifest.from, prev: manifest.prev }, new Set(redactions.map((r) => r.seq)), digest);
      tick = new Ticker('check', manifest.count, opts);
      continue;
    }
    const rec = parser.line(line);
    if (!rec) continue;
    if (checker) {
      const f = checker.check(rec);
      if (f) throw invalid(f.message, parser.lines);
    }
    n++;
    tick!.tick();
    if (opts.onRecord) await opts.onRecord(rec);
  }
  if (!parser) throw new BundleError('unreadable', 'not a Xendeck bundle: the file is empty');
  try {
    parser.end();
  } catch (e) {
    if (e instanceof BundleError && e.line === undefined) throw invalid(e.message, n + 2);
    throw e;
  }
  tick!.finish();
  const m = manifest!;
  return { manifest: m, snapshot, records: n, fingerprint: fingerprint(m) };
}

export interface VerifyResult {
  ok: boolean;
  from: number;
  to: number;
  count: number;
  /** `first|last|count` of the range checked. */
  fingerprint: string;
  /** The first problem found, if any. */
  problem?: { seq: number; message: string };
  /** Whether replay reproduced the recorded machine transitions (undefined when not asked or not possible). */
  replay?: { checked: boolean; transitions: number; message?: string };
}

/**
 * Verify a source, whole or a range: seq gaps, schema, hash chain (from the
 * record before the range when it is held, else from the stored start), and
 * optionally that replay reproduces the recorded transitions.
 */
export async function verifySource(
  src: RecordSource,
  range: { from?: number; to?: number } = {},
  opts: RunOptions & { digest?: Sha256Hex; redactions?: Redaction[]; bindings?: MachineBinding[] } = {},
): Promise<VerifyResult> {
  const b = await src.bounds();
  const from = Math.max(range.from ?? b.from, b.from);
  const to = Math.min(range.to ?? b.to, b.to);
  if (to < from) return { ok: true, from, to, count: 0, fingerprint: fingerprint({ first: null, last: null, count: 0 }) };
  let prev = b.prev;
  if (from > b.from) for await (const r of src.records(from - 1, from - 1)) prev = r.hash;
  if (from === 1 && prev !== ZERO_HASH) return { ok: false, from, to, count: 0, fingerprint: '-|-|0', problem: { seq: 1, message: 'the first record must chain from the zero hash' } };
  const redacted = new Set((opts.redactions ?? (await src.redactions())).map((r) => r.seq));
  const checker = new HistoryChecker({ seq: from, prev }, redacted, opts.digest ?? pureSha256Hex);
  let replayer: Replayer | null = null;
  if (opts.bindings) {
    const snap = from > 1 && src.snapshotAt ? await src.snapshotAt(from - 1) : null;
    if (from === 1 || snap) replayer = new Replayer(opts.bindings, snap ?? undefined, { keepTransitions: false });
  }
  const tick = new Ticker('check', to - from + 1, opts);
  let first: string | null = null;
  let last: string | null = null;
  let count = 0;
  let problem: VerifyResult['problem'];
  for await (const rec of src.records(from, to)) {
    tick.tick();
    const p = recordProblem(rec);
    if (p) {
      problem = { seq: rec.seq, message: `seq ${rec.seq}: ${p.field}: expected ${p.expected}, found ${p.found}` };
      break;
    }
    const f = checker.check(rec);
    if (f) {
      problem = { seq: rec.seq, message: f.message };
      break;
    }
    if (first === null) first = rec.hash;
    last = rec.hash;
    count++;
    replayer?.push(rec);
  }
  if (!problem && count !== to - from + 1) problem = { seq: checker.next.seq, message: `records ${checker.next.seq}..${to} are missing` };
  tick.finish();
  let replay: VerifyResult['replay'];
  if (opts.bindings) {
    if (!replayer) replay = { checked: false, transitions: 0, message: `no snapshot before seq ${from}: replay not checked` };
    else if (!problem) {
      const mm = replayer.finish();
      replay = { checked: replayer.checked, transitions: replayer.recordedCount, ...(mm ? { message: mm.message } : {}) };
      if (mm) problem = { seq: mm.seq, message: `replay does not reproduce history: ${mm.message}` };
    }
  }
  return { ok: !problem, from, to, count, fingerprint: fingerprint({ first, last, count }), ...(problem ? { problem } : {}), ...(replay ? { replay } : {}) };
}
