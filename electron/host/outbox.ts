/**
 * The outbox: records sealed by the host but not yet acknowledged by the
 * renderer's store, kept in an append-only file in the user data dir so a
 * renderer reload or crash, or an app restart, loses nothing (DESIGN.md
 * section 2).
 *
 * File `outbox.jsonl`, one JSON object per line:
 *  - `{"base":{"seq":N,"hash":"…"}}`  everything up to N was acked (first line after a compaction);
 *  - a record (has `seq`)              appended in seq order as it is sealed;
 *  - `{"ack":N,"hash":"…"}`            the store committed everything up to N.
 * Reading it back gives the chain tail (numbering continues from it) and the
 * unacked records in order. A torn last line (a crash mid-write) is ignored.
 * When acked lines outweigh the rest, the file is rewritten (temp + rename)
 * with only the base and the unacked records.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ZERO_HASH, type XRecord } from '../../machines/events/record.ts';
import type { ChainTail } from '../../machines/events/chain.ts';

export const OUTBOX_FILE = 'outbox.jsonl';

export interface OutboxOptions {
  /** Rewrite the file once this many acked records sit in it (default 50 000). */
  compactAfter?: number;
  /** fsync after each append (default false: the page cache survives a renderer or app crash, not a power cut). */
  fsync?: boolean;
}

export class Outbox {
  readonly path: string;
  private fd: number;
  private pendingRecs: XRecord[] = [];
  private ackedTail: ChainTail = { seq: 0, hash: ZERO_HASH };
  private lastTail: ChainTail | undefined;
  private deadLines = 0;
  private readonly compactAfter: number;
  private readonly sync: boolean;
  /** Problems met reading the file (a torn last line), for the log. */
  readonly notes: string[] = [];

  private constructor(dir: string, opts: OutboxOptions) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, OUTBOX_FILE);
    this.compactAfter = opts.compactAfter ?? 50_000;
    this.sync = opts.fsync ?? false;
    if (existsSync(this.path)) this.load();
    this.fd = openSync(this.path, 'a');
  }

  /** Open (or create) the outbox in `dir`. */
  static open(dir: string, opts: OutboxOptions = {}): Outbox {
    return new Outbox(dir, opts);
  }

  /** The last record sealed (acked or not), or undefined for a fresh outbox that has never held one. */
  get tail(): ChainTail | undefined {
    return this.lastTail ? { ...this.lastTail } : undefined;
  }

  /** Everything up to here has been committed by the store. */
  get acked(): ChainTail {
    return { ...this.ackedTail };
  }

  get size(): number {
    return this.pendingRecs.length;
  }

  /** Unacked records, in seq order. */
  pending(): XRecord[] {
    return this.pendingRecs.slice();
  }

  /** Unacked records with seq > after. */
  since(after: number): XRecord[] {
    const i = this.indexAfter(after);
    return this.pendingRecs.slice(i);
  }

  /** The unacked record with this seq, if held. */
  get(seq: number): XRecord | undefined {
    const first = this.pendingRecs[0]?.seq;
    return first === undefined ? undefined : this.pendingRecs[seq - first];
  }

  /** An outbox that has never held a record starts its chain at `tail` (the store's tail, reported at connect). */
  rebase(tail: ChainTail): void {
    if (this.lastTail || this.pendingRecs.length) throw new Error('outbox: only an empty outbox can take a new base');
    this.ackedTail = { ...tail };
    this.lastTail = tail.seq > 0 ? { ...tail } : undefined;
    writeSync(this.fd, JSON.stringify({ base: tail }) + '\n');
  }

  /** Append sealed records (in seq order, continuing the tail). */
  append(recs: readonly XRecord[]): void {
    if (recs.length === 0) return;
    const expect = (this.lastTail?.seq ?? this.ackedTail.seq) + 1;
    if (recs[0].seq !== expect) throw new Error(`outbox: record ${recs[0].seq} does not follow ${expect - 1}`);
    let text = '';
    for (const r of recs) text += JSON.stringify(r) + '\n';
    writeSync(this.fd, text);
    if (this.sync) fsyncSync(this.fd);
    for (const r of recs) this.pendingRecs.push(r);
    const last = recs[recs.length - 1];
    this.lastTail = { seq: last.seq, hash: last.hash };
  }

  /** The store committed everything up to `seq`: drop it. Returns how many records were dropped. */
  ack(seq: number): number {
    if (seq <= this.ackedTail.seq) return 0;
    const i = this.indexAfter(seq);
    if (i === 0) return 0;
    const last = this.pendingRecs[i - 1];
    this.pendingRecs.splice(0, i);
    this.ackedTail = { seq: last.seq, hash: last.hash };
    writeSync(this.fd, JSON.stringify({ ack: last.seq, hash: last.hash }) + '\n');
    this.deadLines += i + 1;
    if (this.deadLines >= this.compactAfter) this.compact();
    return i;
  }

  /** Rewrite the file with only the base and the unacked records. */
  compact(): void {
    const tmp = `${this.path}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w');
    try {
      let text = JSON.stringify({ base: this.ackedTail }) + '\n';
      for (const r of this.pendingRecs) text += JSON.stringify(r) + '\n';
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    closeSync(this.fd);
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, 'a');
    this.deadLines = 0;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }

  private indexAfter(seq: number): number {
    const first = this.pendingRecs[0]?.seq;
    if (first === undefined) return 0;
    return Math.max(0, Math.min(this.pendingRecs.length, seq - first + 1));
  }

  private load(): void {
    const text = readFileSync(this.path, 'utf8');
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    let recs: XRecord[] = [];
    for (let i = 0; i < lines.length; i++) {
      let v: any;
      try {
        v = JSON.parse(lines[i]);
      } catch {
        this.notes.push(i === lines.length - 1 ? `line ${i + 1} was cut short (a crash while writing): ignored` : `line ${i + 1} is not JSON: ignored`);
        continue;
      }
      if (v && typeof v === 'object' && v.base) {
        this.ackedTail = { seq: v.base.seq, hash: v.base.hash };
        this.lastTail = this.ackedTail.seq > 0 ? { ...this.ackedTail } : this.lastTail;
        recs = [];
      } else if (v && typeof v === 'object' && typeof v.ack === 'number') {
        if (v.ack > this.ackedTail.seq && typeof v.hash === 'string') this.ackedTail = { seq: v.ack, hash: v.hash };
        this.deadLines++;
      } else if (v && typeof v === 'object' && typeof v.seq === 'number') {
        recs.push(v as XRecord);
        this.lastTail = { seq: v.seq, hash: v.hash };
      } else {
        this.notes.push(`line ${i + 1} is not an outbox entry: ignored`);
      }
    }
    const acked = this.ackedTail.seq;
    this.pendingRecs = recs.filter((r) => r.seq > acked);
    this.deadLines += recs.length - this.pendingRecs.length;
  }
}
