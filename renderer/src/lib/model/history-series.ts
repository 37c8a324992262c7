/**
 * A value that changes over history: changes are appended in seq order, and
 * the value at any seq is found by binary search. Lets the views show facts
 * (memory, vCPUs, when a domain started) at a replay cursor as exactly as live.
 */
export class HistorySeries<T> {
  private seqs: number[] = [];
  private values: T[] = [];

  /** Record that from `seq` on the value is `v` (seqs must not go backwards). */
  set(seq: number, v: T): void {
    const n = this.seqs.length;
    if (n && this.seqs[n - 1] === seq) {
      this.values[n - 1] = v;
      return;
    }
    if (n && this.seqs[n - 1] > seq) throw new Error(`history goes backwards: ${seq} after ${this.seqs[n - 1]}`);
    if (n && Object.is(this.values[n - 1], v)) return;
    this.seqs.push(seq);
    this.values.push(v);
  }

  /** The value right after `seq` (undefined before the first change). */
  at(seq: number = Infinity): T | undefined {
    let lo = 0;
    let hi = this.seqs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid] <= seq) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? undefined : this.values[found];
  }

  get size(): number {
    return this.seqs.length;
  }
}
