/**
 * What a person exports: everything, a seq range, a time range, one domain
 * (by uuid or name), or an incident's range. A bundle is always one
 * contiguous run of the chain (so it verifies and replays); a selection by
 * domain cuts the run to the domain's first and last record, and the CSV and
 * HTML rows keep only the domain's records.
 */
import type { XRecord } from '../../../machines/events/record.ts';
import { IdentityTracker, isUuid } from './identity.std.ts';
import { Ticker, type RecordSource, type RunOptions } from './source.std.ts';

export interface Selection {
  /** seq range (inclusive). */
  seqFrom?: number;
  seqTo?: number;
  /** Time range, ms since epoch (inclusive). */
  tsFrom?: number;
  tsTo?: number;
  /** Domain uuid or name. */
  domain?: string;
  /** An incident: its seq range, with its kind and id for the report. */
  incident?: { id?: string; kind: string; from: number; to: number; summary?: string };
}

export interface Resolved {
  /** Contiguous seq range to export. */
  from: number;
  to: number;
  /** Records in the range that the selection keeps as rows. */
  rows: number;
  /** The domain's uuid when the selection named one. */
  uuid?: string;
  selection: Selection;
}

export class SelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectionError';
  }
}

/** Decides, record by record in seq order, whether a record belongs to the selection. */
export class RowFilter {
  readonly ids = new IdentityTracker();
  private target: string | undefined;
  constructor(private readonly sel: Selection) {
    if (sel.domain && isUuid(sel.domain)) this.target = sel.domain;
  }
  get uuid(): string | undefined {
    return this.target;
  }
  /** Call for every record in order, kept or not (identity is learned from all). */
  keep(rec: XRecord): boolean {
    this.ids.observe(rec);
    const s = this.sel;
    if (s.seqFrom !== undefined && rec.seq < s.seqFrom) return false;
    if (s.seqTo !== undefined && rec.seq > s.seqTo) return false;
    if (s.incident && (rec.seq < s.incident.from || rec.seq > s.incident.to)) return false;
    if (s.tsFrom !== undefined && rec.ts < s.tsFrom) return false;
    if (s.tsTo !== undefined && rec.ts > s.tsTo) return false;
    if (s.domain !== undefined) {
      if (!this.target) this.target = this.ids.uuidOfName(s.domain);
      if (!this.target) return false;
      return this.ids.uuidOf(rec) === this.target;
    }
    return true;
  }
}

/** Narrow the seq range before scanning, from what the selection says directly. */
function seqBounds(sel: Selection, from: number, to: number): [number, number] {
  let a = from;
  let b = to;
  if (sel.seqFrom !== undefined) a = Math.max(a, sel.seqFrom);
  if (sel.seqTo !== undefined) b = Math.min(b, sel.seqTo);
  if (sel.incident) {
    a = Math.max(a, sel.incident.from);
    b = Math.min(b, sel.incident.to);
  }
  return [a, b];
}

/**
 * Find the contiguous range a selection covers. The range never starts on a
 * `machine.transition` (it moves back to the record that caused it) and never
 * ends between a record and the transitions it caused, so a replay of the
 * range can compare what it produces with what was recorded.
 */
export async function resolveSelection(src: RecordSource, sel: Selection, opts: RunOptions = {}): Promise<Resolved> {
  const b = await src.bounds();
  if (b.to < b.from) throw new SelectionError('nothing to export: the history is empty');
  const [a, z] = seqBounds(sel, b.from, b.to);
  if (a > z) throw new SelectionError(`nothing to export: seq ${a}..${z} is outside the stored history ${b.from}..${b.to}`);
  const simple = sel.tsFrom === undefined && sel.tsTo === undefined && sel.domain === undefined;
  let from = a;
  let to = z;
  let rows = z - a + 1;
  let uuid: string | undefined;
  if (!simple) {
    // A domain can only be named once the records naming it have been seen: scan from the start of what is held.
    const filter = new RowFilter(sel);
    const tick = new Ticker('locate', z - b.from + 1, opts);
    let first = -1;
    let last = -1;
    rows = 0;
    for await (const r of src.records(sel.domain !== undefined ? b.from : a, z)) {
      tick.tick();
      if (filter.keep(r)) {
        if (first < 0) first = r.seq;
        last = r.seq;
        rows++;
      }
    }
    tick.finish();
    if (first < 0) throw new SelectionError(sel.domain !== undefined && !filter.uuid ? `no domain named ${sel.domain} in the history` : 'nothing to export: no record matches the selection');
    from = first;
    to = last;
    uuid = filter.uuid;
  }
  // Align to whole records-with-their-transitions.
  for await (const r of src.records(from, from)) {
    if (r.type === 'machine.transition') {
      const cause = (r.data as { cause?: number }).cause;
      if (typeof cause === 'number' && cause >= b.from && cause < from) from = cause;
    }
  }
  for await (const r of src.records(to + 1, b.to)) {
    if (r.type !== 'machine.transition' || (r.data as { cause?: number }).cause! > to) break;
    to = r.seq;
  }
  if (simple) rows = to - from + 1;
  return { from, to, rows, ...(uuid ? { uuid } : {}), selection: sel };
}
