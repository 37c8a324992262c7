/**
 * The timeline's rows: every record of a store, or those a filter keeps,
 * addressed by row index so a virtual list of a million rows only ever reads
 * the few it shows. Without a filter, row i is seq `first + i` (seqs are
 * gapless). With one, the store is scanned in pages in the background and the
 * matching seqs collected; new live records are checked as they arrive.
 */
import type { XRecord } from '../../../../machines/events/record.ts';
import type { AppDb } from '../db/app-db.ts';
import { readStats, readTail } from '../db/meta.ts';
import { compileFilter, isEmptyFilter, type RecordFilter } from '../model/record-filter.ts';

export const ROW_HEIGHT = 24;
const SCAN_PAGE = 5000;
const CACHE_MAX = 4000;

export class TimelineState {
  filter = $state.raw<RecordFilter>({});
  /** Rows in the list. */
  count = $state(0);
  first = $state(1);
  last = $state(0);
  scanning = $state(false);
  /** Records looked at by the current scan. */
  scanned = $state(0);
  expanded = $state<number | null>(null);
  /** Keep the newest record in view as records arrive. */
  follow = $state(true);
  /** Bumped when cached rows change, so the list re-reads them. */
  version = $state(0);

  private matches: number[] | null = null;
  private cache = new Map<number, XRecord>();
  private scanId = 0;
  private pred: (r: XRecord) => boolean = () => true;

  constructor(private db: AppDb) {}

  /** Read the store's range (call at start and when the store changes under us). */
  async load(): Promise<void> {
    const [stats, tail] = await Promise.all([readStats(this.db), readTail(this.db)]);
    this.first = tail.seq === 0 ? 1 : stats.firstSeq;
    this.last = tail.seq;
    if (!this.matches) this.count = Math.max(0, this.last - this.first + 1);
  }

  get filtered(): boolean {
    return this.matches !== null;
  }

  /** seq shown at row `i`. */
  seqAt(i: number): number | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.matches ? this.matches[i] : this.first + i;
  }

  /** Row index of a seq (or of the nearest row after it when filtered). */
  indexOf(seq: number): number {
    if (!this.matches) return Math.max(0, Math.min(this.count - 1, seq - this.first));
    let lo = 0;
    let hi = this.matches.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.matches[mid] < seq) lo = mid + 1;
      else hi = mid;
    }
    return Math.min(lo, Math.max(0, this.matches.length - 1));
  }

  /** The cached record of a row (undefined until `ensure` read it). */
  row(i: number): XRecord | undefined {
    void this.version;
    const s = this.seqAt(i);
    return s === undefined ? undefined : this.cache.get(s);
  }

  /** Make sure rows [a, b) are cached. */
  async ensure(a: number, b: number): Promise<void> {
    const seqs: number[] = [];
    for (let i = Math.max(0, a); i < Math.min(b, this.count); i++) {
      const s = this.seqAt(i)!;
      if (!this.cache.has(s)) seqs.push(s);
    }
    if (!seqs.length) return;
    let got: (XRecord | undefined)[];
    if (!this.matches) {
      const lo = seqs[0];
      const hi = seqs[seqs.length - 1];
      const rows = await this.db.events.where('seq').between(lo, hi, true, true).toArray();
      got = rows;
    } else got = await this.db.events.bulkGet(seqs);
    if (this.cache.size > CACHE_MAX) this.cache.clear();
    for (const r of got) if (r) this.cache.set(r.seq, r);
    this.version++;
  }

  /** Apply a filter: clears it when empty, else scans the store. */
  async setFilter(f: RecordFilter): Promise<void> {
    this.filter = f;
    this.expanded = null;
    const id = ++this.scanId;
    if (isEmptyFilter(f)) {
      this.matches = null;
      this.scanning = false;
      await this.load();
      this.version++;
      return;
    }
    this.pred = compileFilter(f);
    this.matches = [];
    this.count = 0;
    this.scanned = 0;
    this.scanning = true;
    await this.load();
    const end = this.last;
    let a = this.first;
    const found: number[] = [];
    try {
      while (a <= end) {
        const rows = await this.db.events.where('seq').between(a, end, true, true).limit(SCAN_PAGE).toArray();
        if (id !== this.scanId) return;
        if (!rows.length) break;
        for (const r of rows) {
          if (this.pred(r)) {
            found.push(r.seq);
            if (this.cache.size < CACHE_MAX) this.cache.set(r.seq, r);
          }
        }
        a = rows[rows.length - 1].seq + 1;
        this.scanned += rows.length;
        this.matches = found;
        this.count = found.length;
        this.version++;
      }
    } finally {
      if (id === this.scanId) this.scanning = false;
    }
  }

  /** New records were committed: extend the rows. */
  append(batch: XRecord[]): void {
    if (!batch.length) return;
    const lastSeq = batch[batch.length - 1].seq;
    if (lastSeq <= this.last) return;
    this.last = lastSeq;
    if (this.matches) {
      if (this.scanning) return; // the scan reaches them
      for (const r of batch) {
        if (this.pred(r)) {
          this.matches.push(r.seq);
          this.cache.set(r.seq, r);
        }
      }
      this.count = this.matches.length;
    } else {
      for (const r of batch) this.cache.set(r.seq, r);
      this.count = this.last - this.first + 1;
    }
    this.version++;
  }

  /** Open or close a record; opening one stops following the newest records, so it stays in view. */
  toggle(seq: number): void {
    this.expanded = this.expanded === seq ? null : seq;
    if (this.expanded !== null) this.follow = false;
  }
}
