/**
 * Retention and redaction as history (DESIGN.md section 4: rewriting history is
 * never silent). A person prunes records before a seq, or redacts one field of
 * an earlier record; each is itself a record (`store.prune`, `store.redact`)
 * sealed into the chain by the host. This module holds the pure rules both the
 * store and the exports follow: what a pruned range and a redaction look like,
 * which fields may be redacted and how, and a chain checker that accepts a
 * redacted record only when a redaction record names it.
 */
import { recordHash, pureSha256Hex, type Sha256Hex } from '../../../machines/events/hash.ts';
import type { ChainFault } from '../../../machines/events/chain.ts';
import type { XRecord } from '../../../machines/events/record.ts';

/** A range of history removed by a person, summarised by its fingerprint (`first|last|count`). */
export interface PrunedRange {
  from: number;
  to: number;
  count: number;
  /** Hash of record `from`. */
  first: string;
  /** Hash of record `to`: the `prev` the first kept record chains from. */
  last: string;
  /** seq of the `store.prune` record that removed it. */
  by: number;
  ts: number;
}

/** One redacted field; the record keeps its place, prev and hash in the chain. */
export interface Redaction {
  seq: number;
  /** Dotted path under the record, always starting with `data.` (e.g. `data.value`, `data.args.password`). */
  field: string;
  /** seq of the `store.redact` record that did it. */
  by: number;
  reason?: string;
}

/** What a redacted text field reads afterwards. Objects become `{}`. */
export const REDACTED_TEXT = '[redacted]';

const FIELD_RE = /^data(\.[A-Za-z0-9_-]+)+$/;

/** Why `field` of `rec` cannot be redacted, or null when it can. Only text and object fields under `data` can. */
export function redactionProblem(rec: XRecord, field: string): string | null {
  if (!FIELD_RE.test(field)) return `field must be a dotted path under data (e.g. data.value), found "${field}"`;
  const parts = field.split('.').slice(1);
  let v: unknown = rec.data;
  for (const p of parts) {
    if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.prototype.hasOwnProperty.call(v, p)) return `seq ${rec.seq} has no field ${field}`;
    v = (v as Record<string, unknown>)[p];
  }
  if (typeof v === 'string' || (v && typeof v === 'object' && !Array.isArray(v))) return null;
  return `seq ${rec.seq} ${field} is ${Array.isArray(v) ? 'a list' : typeof v}: only text and object fields can be redacted`;
}

/** The record with `field` replaced (text by REDACTED_TEXT, object by `{}`); seq, prev and hash stay. */
export function applyRedaction(rec: XRecord, field: string): XRecord {
  if (redactionProblem(rec, field)) return rec;
  const parts = field.split('.').slice(1);
  const copy = JSON.parse(JSON.stringify(rec)) as XRecord;
  let o = copy.data as Record<string, unknown>;
  for (let i = 0; i < parts.length - 1; i++) o = o[parts[i]] as Record<string, unknown>;
  const last = parts[parts.length - 1];
  o[last] = typeof o[last] === 'string' ? REDACTED_TEXT : {};
  return copy;
}

/**
 * Like the core ChainChecker, and accepts a redacted record whose content no
 * longer matches its hash when (and only when) a redaction names its seq: its
 * seq and prev are still checked, and the next record must chain from its hash.
 */
export class HistoryChecker {
  private expectSeq: number;
  private expectPrev: string;
  constructor(
    start: { seq: number; prev: string },
    private readonly redacted: ReadonlySet<number> = new Set(),
    private readonly digest: Sha256Hex = pureSha256Hex,
  ) {
    this.expectSeq = start.seq;
    this.expectPrev = start.prev;
  }

  get next(): { seq: number; prev: string } {
    return { seq: this.expectSeq, prev: this.expectPrev };
  }

  check(rec: XRecord): ChainFault | null {
    if (rec.seq !== this.expectSeq) {
      return {
        kind: 'gap',
        seq: rec.seq,
        expected: this.expectSeq,
        message:
          rec.seq > this.expectSeq
            ? `found seq ${rec.seq} where ${this.expectSeq} was expected: records ${this.expectSeq}..${rec.seq - 1} are missing or out of order`
            : `found seq ${rec.seq} where ${this.expectSeq} was expected: record out of order or repeated`,
      };
    }
    if (rec.prev !== this.expectPrev) {
      return { kind: 'prev', seq: rec.seq, expected: this.expectPrev, found: rec.prev, message: `seq ${rec.seq}: prev does not match the hash of seq ${rec.seq - 1}` };
    }
    if (!this.redacted.has(rec.seq)) {
      const h = recordHash(rec, this.digest);
      if (h !== rec.hash) return { kind: 'hash', seq: rec.seq, expected: h, found: rec.hash, message: `seq ${rec.seq}: hash does not match the record's content: the record was altered` };
    }
    this.expectSeq = rec.seq + 1;
    this.expectPrev = rec.hash;
    return null;
  }
}

/** Pruned range described by a `store.prune` record's data. */
export function prunedRangeOf(rec: XRecord): PrunedRange | null {
  if (rec.type !== 'store.prune') return null;
  const d = rec.data as { before: number; count: number; first: string; last: string };
  return { from: d.before - d.count, to: d.before - 1, count: d.count, first: d.first, last: d.last, by: rec.seq, ts: rec.ts };
}

/** Redaction described by a `store.redact` record's data. */
export function redactionOf(rec: XRecord): Redaction | null {
  if (rec.type !== 'store.redact') return null;
  const d = rec.data as { seq: number; field: string; reason?: string };
  return { seq: d.seq, field: d.field, by: rec.seq, ...(typeof d.reason === 'string' ? { reason: d.reason } : {}) };
}

export function prunedFingerprint(p: PrunedRange): string {
  return `${p.first}|${p.last}|${p.count}`;
}
