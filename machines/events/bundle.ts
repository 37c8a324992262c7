/**
 * Bundle format v1 (DESIGN.md section 4): JSON Lines, line 1 the manifest, then
 * records in seq order. This module is the pure codec: a push parser that
 * checks every line as it arrives (so a reader can stream gigabytes in constant
 * memory) and the manifest logic for writers. File and gzip I/O live with the
 * platform (electron/shared/bundle-io.ts for Node, the renderer for browsers).
 */
import { ChainChecker } from './chain.ts';
import { pureSha256Hex, HEX64, type Sha256Hex } from './hash.ts';
import { ZERO_HASH, type XRecord } from './record.ts';
import { describe, recordProblem, type Problem } from './validate.ts';

export const BUNDLE_FORMAT = 'xendeck-bundle';
export const BUNDLE_VERSION = 1;

export interface Manifest {
  format: typeof BUNDLE_FORMAT;
  version: 1;
  created: string;
  host: { hostname: string; xen?: string; [k: string]: unknown };
  /** seq of the first record (for an empty bundle: prev's seq + 1). */
  from: number;
  /** seq of the last record (for an empty bundle: from - 1). */
  to: number;
  count: number;
  /** hash of record `from`, null when empty. */
  first: string | null;
  /** hash of record `to`, null when empty. */
  last: string | null;
  /** `prev` of record `from` (ZERO_HASH when the bundle starts the chain). */
  prev: string;
  /** Machine versions the recorded `machine.transition` records were produced with. */
  machines: Record<string, string>;
  snapshot: unknown | null;
  /** What the bundle was cut to (domain, time range, incident), when it is a selection. */
  selection?: Record<string, unknown>;
}

/** `first|last|count`: what a person notes elsewhere to anchor the chain. */
export function fingerprint(m: Pick<Manifest, 'first' | 'last' | 'count'>): string {
  return `${m.first ?? '-'}|${m.last ?? '-'}|${m.count}`;
}

/** Why a bundle was refused. `unreadable` → exit 2 (not a bundle at all); `invalid` → exit 1. */
export class BundleError extends Error {
  constructor(
    readonly kind: 'unreadable' | 'invalid',
    message: string,
    readonly line?: number,
    readonly problem?: Problem,
  ) {
    super(line !== undefined ? `line ${line}: ${message}` : message);
    this.name = 'BundleError';
  }
}

/** Build a manifest for a known, contiguous run of records. */
export function manifestFor(
  records: readonly XRecord[],
  opts: { host: Manifest['host']; created: string; machines: Record<string, string>; selection?: Record<string, unknown>; startPrev?: string; startSeq?: number },
): Manifest {
  const n = records.length;
  const from = n ? records[0].seq : (opts.startSeq ?? 1);
  return {
    format: BUNDLE_FORMAT,
    version: 1,
    created: opts.created,
    host: opts.host,
    from,
    to: n ? records[n - 1].seq : from - 1,
    count: n,
    first: n ? records[0].hash : null,
    last: n ? records[n - 1].hash : null,
    prev: n ? records[0].prev : (opts.startPrev ?? ZERO_HASH),
    machines: opts.machines,
    snapshot: null,
    ...(opts.selection ? { selection: opts.selection } : {}),
  };
}

export function checkManifest(v: unknown): Manifest {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new BundleError('unreadable', `not a Xendeck bundle: line 1 is ${describe(v)}, not a manifest object`, 1);
  const m = v as Record<string, unknown>;
  if (m.format !== BUNDLE_FORMAT) throw new BundleError('unreadable', `not a Xendeck bundle: manifest format is ${describe(m.format)}, expected "${BUNDLE_FORMAT}"`, 1);
  const bad = (field: string, expected: string) => {
    throw new BundleError('invalid', `bad manifest: ${field}: expected ${expected}, found ${describe(m[field])}`, 1, { field: `manifest.${field}`, expected, found: describe(m[field]) });
  };
  if (m.version !== BUNDLE_VERSION) bad('version', `${BUNDLE_VERSION} (this Xendeck reads bundle format v1)`);
  if (typeof m.created !== 'string') bad('created', 'an ISO time string');
  if (!m.host || typeof m.host !== 'object') bad('host', 'an object');
  for (const k of ['from', 'to', 'count'] as const) if (!Number.isSafeInteger(m[k]) || (m[k] as number) < 0) bad(k, 'a whole number ≥ 0');
  const from = m.from as number, to = m.to as number, count = m.count as number;
  if (from < 1) bad('from', 'a seq ≥ 1');
  if (to - from + 1 !== count) bad('count', `to - from + 1 = ${to - from + 1}`);
  if (typeof m.prev !== 'string' || !HEX64.test(m.prev)) bad('prev', '64 hex digits');
  if (count > 0) {
    if (typeof m.first !== 'string' || !HEX64.test(m.first)) bad('first', '64 hex digits');
    if (typeof m.last !== 'string' || !HEX64.test(m.last)) bad('last', '64 hex digits');
  } else if (m.first !== null || m.last !== null) bad('first', 'null for an empty bundle');
  if (from === 1 && m.prev !== ZERO_HASH) bad('prev', 'the zero hash for a bundle that starts at seq 1');
  if (!m.machines || typeof m.machines !== 'object') bad('machines', 'an object of machine versions');
  return m as unknown as Manifest;
}

export interface ParserOptions {
  digest?: Sha256Hex;
  /** Check the hash chain (default true). A reader that has already verified can skip it. */
  checkChain?: boolean;
}

/**
 * Push parser: feed lines in order with `line()`. Throws BundleError at the first
 * problem, with its line number; returns each record. Call `end()` after the last line.
 */
export class BundleParser {
  manifest: Manifest | null = null;
  private lineNo = 0;
  private checker: ChainChecker | null = null;
  private seen = 0;
  private lastRec: XRecord | null = null;
  private firstHash: string | null = null;
  private readonly digest: Sha256Hex;
  private readonly checkChain: boolean;

  constructor(opts: ParserOptions = {}) {
    this.digest = opts.digest ?? pureSha256Hex;
    this.checkChain = opts.checkChain ?? true;
  }

  get lines(): number {
    return this.lineNo;
  }

  /** Returns the record on this line, or null for the manifest line / a trailing empty line. */
  line(text: string): XRecord | null {
    this.lineNo++;
    const n = this.lineNo;
    if (this.manifest === null) {
      let v: unknown;
      try {
        v = JSON.parse(text.replace(/^\uFEFF/, ''));
      } catch {
        throw new BundleError('unreadable', 'not a Xendeck bundle: line 1 is not JSON', 1);
      }
      this.manifest = checkManifest(v);
      this.checker = new ChainChecker({ seq: this.manifest.from, prev: this.manifest.prev }, this.digest);
      return null;
    }
    if (text === '' || text === '\r') return null; // a trailing newline; a blank line mid-file is caught by the seq check
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw new BundleError('invalid', `not valid JSON (${(e as Error).message})`, n);
    }
    const p = recordProblem(v);
    if (p) throw new BundleError('invalid', `${p.field}: expected ${p.expected}, found ${p.found}`, n, p);
    const rec = v as XRecord;
    if (this.checkChain) {
      const f = this.checker!.check(rec);
      if (f) throw new BundleError('invalid', f.message, n, { field: f.kind === 'gap' ? 'seq' : f.kind, expected: String(f.expected), found: f.kind === 'gap' ? String(f.seq) : f.found });
    } else if (this.lastRec ? rec.seq !== this.lastRec.seq + 1 : rec.seq !== this.manifest.from) {
      throw new BundleError('invalid', `seq ${rec.seq} where ${this.lastRec ? this.lastRec.seq + 1 : this.manifest.from} was expected`, n);
    }
    if (rec.seq > this.manifest.to) throw new BundleError('invalid', `seq ${rec.seq} is past the manifest's last seq ${this.manifest.to}`, n);
    if (this.seen === 0) this.firstHash = rec.hash;
    this.seen++;
    this.lastRec = rec;
    return rec;
  }

  /** Checks that what was read is what the manifest promised. */
  end(): Manifest {
    if (!this.manifest) throw new BundleError('unreadable', 'not a Xendeck bundle: the file is empty');
    const m = this.manifest;
    if (this.seen !== m.count) {
      const next = this.lastRec ? this.lastRec.seq + 1 : m.from;
      throw new BundleError('invalid', `bundle ends early: ${this.seen} of ${m.count} records (records ${next}..${m.to} are missing)`);
    }
    if (m.count > 0) {
      if (this.firstHash !== m.first) throw new BundleError('invalid', `bad manifest: first does not match the hash of seq ${m.from}`);
      if (this.lastRec!.hash !== m.last) throw new BundleError('invalid', `bad manifest: last does not match the hash of seq ${m.to}`);
    }
    return m;
  }

}

/** Parse a whole bundle held as text (tests, small imports). */
export function parseBundleText(text: string, opts: ParserOptions = {}): { manifest: Manifest; records: XRecord[] } {
  const p = new BundleParser(opts);
  const records: XRecord[] = [];
  for (const l of text.split('\n')) {
    const r = p.line(l);
    if (r) records.push(r);
  }
  return { manifest: p.end(), records };
}

/** Serialise a manifest and records to bundle text (one JSON object per line, trailing newline). */
export function bundleText(manifest: Manifest, records: Iterable<XRecord>): string {
  const out = [JSON.stringify(manifest)];
  for (const r of records) out.push(JSON.stringify(r));
  return out.join('\n') + '\n';
}
