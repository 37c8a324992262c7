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
 *
 * A write that fails (a full disk: ENOSPC, EDQUOT, EFBIG) leaves the file as
 * it was: the partial line is cut off again and the error is thrown, so the
 * host can pause and retry the same records later without a torn line.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
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
  /** Bytes of each pending record's line, in step with pendingRecs. */
  private pendingLens: number[] = [];
  private pendingBytesTotal = 0;
  /** Length of the file as written (a failed write is cut back to it). */
  private fileSize = 0;
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
    const whole = existsSync(this.path) ? this.load() : 0;
    this.fd = openSync(this.path, 'a');
    this.fileSize = fstatSync(this.fd).size;
    // A torn last line (a crash mid-write) is cut off, so the next line starts on a line of its own.
    if (whole < this.fileSize) {
      ftruncateSync(this.fd, whole);
      this.fileSize = whole;
    }
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

  /** Bytes of the unacked records' lines. */
  get bytes(): number {
    return this.pendingBytesTotal;
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
    this.write(JSON.stringify({ base: tail }) + '\n');
  }

  /** Append sealed records (in seq order, continuing the tail). */
  append(recs: readonly XRecord[]): void {
    if (recs.length === 0) return;
    const expect = (this.lastTail?.seq ?? this.ackedTail.seq) + 1;
    if (recs[0].seq !== expect) throw new Error(`outbox: record ${recs[0].seq} does not follow ${expect - 1}`);
    let text = '';
    const lens: number[] = [];
    for (const r of recs) {
      const line = JSON.stringify(r) + '\n';
      lens.push(Buffer.byteLength(line));
      text += line;
    }
    this.write(text);
    if (this.sync) fsyncSync(this.fd);
    for (const r of recs) this.pendingRecs.push(r);
    for (const n of lens) {
      this.pendingLens.push(n);
      this.pendingBytesTotal += n;
    }
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
    for (const n of this.pendingLens.splice(0, i)) this.pendingBytesTotal -= n;
    this.ackedTail = { seq: last.seq, hash: last.hash };
    try {
      this.write(JSON.stringify({ ack: last.seq, hash: last.hash }) + '\n');
    } catch (e) {
      // An ack line that cannot be written costs nothing but a re-send after a restart (the store takes re-sent records idempotently).
      if (!isDiskFull(e)) throw e;
    }
    this.deadLines += i + 1;
    if (this.deadLines >= this.compactAfter) {
      try {
        this.compact();
      } catch (e) {
        if (!isDiskFull(e)) throw e;
      }
    }
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
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    closeSync(fd);
    closeSync(this.fd);
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, 'a');
    this.fileSize = fstatSync(this.fd).size;
    this.deadLines = 0;
  }

  /** Append text whole, or leave the file as it was and throw. */
  private write(text: string): void {
    const buf = Buffer.from(text);
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(this.fd, buf, off);
    } catch (e) {
      if (off > 0) {
        try {
          ftruncateSync(this.fd, this.fileSize);
        } catch {
          // the load step ignores a torn last line anyway
        }
      }
      throw e;
    }
    this.fileSize += buf.length;
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

  /** Read the file back; returns the byte length of its whole lines. */
  private load(): number {
    const raw = readFileSync(this.path);
    const whole = raw.lastIndexOf(0x0a) + 1;
    const text = raw.toString('utf8');
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
    this.pendingLens = this.pendingRecs.map((r) => Buffer.byteLength(JSON.stringify(r)) + 1);
    this.pendingBytesTotal = this.pendingLens.reduce((a, b) => a + b, 0);
    this.deadLines += recs.length - this.pendingRecs.length;
    return whole;
  }
}

/** Is this error a full disk (or quota, or file size limit)? */
export function isDiskFull(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';
}
