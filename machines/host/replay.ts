/**
 * Replay: fold records through the host router. Used by the CLI, the renderer's
 * replay worker and `verify`. Snapshots are taken every `snapshotEvery` records
 * so that a seek restores the nearest one instead of starting from zero.
 *
 * Determinism check: the live host writes, right after each record, the
 * `machine.transition` records it caused. Replaying must produce exactly those,
 * in order; `Replayer` compares them as it goes and keeps the first mismatch.
 */
import type { XRecord } from '../events/record.ts';
import type { MachineBinding } from './binding.ts';
import { HostRouter, type HostView, type RouterSnapshot, type Transition } from './router.ts';

export interface Mismatch {
  seq: number;
  message: string;
}

export interface ReplayerOptions {
  /** Take a snapshot every N records (0 = never). */
  snapshotEvery?: number;
  onSnapshot?: (seq: number, snap: RouterSnapshot) => void;
  /** Keep produced transitions (default true; a 1M-record bench turns it off). */
  keepTransitions?: boolean;
  /** Compare with recorded machine.transition records (default true). */
  checkTransitions?: boolean;
}

export class Replayer {
  readonly router: HostRouter;
  readonly transitions: Transition[] = [];
  mismatch: Mismatch | null = null;
  recordedCount = 0;
  producedCount = 0;
  private pending: Transition[] = [];
  private pendingHead = 0;
  private unmatched: { t: Transition; before: number | null } | null = null;
  private readonly opts: Required<Omit<ReplayerOptions, 'onSnapshot'>> & Pick<ReplayerOptions, 'onSnapshot'>;

  constructor(bindings: MachineBinding[], from?: RouterSnapshot, opts: ReplayerOptions = {}) {
    this.router = from ? HostRouter.restore(bindings, from) : new HostRouter(bindings);
    this.opts = { snapshotEvery: opts.snapshotEvery ?? 0, keepTransitions: opts.keepTransitions ?? true, checkTransitions: opts.checkTransitions ?? true, onSnapshot: opts.onSnapshot };
  }

  push(rec: XRecord): Transition[] {
    if (rec.type === 'machine.transition') {
      this.recordedCount++;
      if (this.opts.checkTransitions && !this.mismatch) this.matchRecorded(rec);
      this.router.apply(rec);
      return [];
    }
    if (this.pendingHead < this.pending.length && !this.unmatched) this.unmatched = { t: this.pending[this.pendingHead], before: rec.seq };
    this.pending.length = 0;
    this.pendingHead = 0;
    const ts = this.router.apply(rec);
    this.producedCount += ts.length;
    if (ts.length) {
      if (this.opts.keepTransitions) for (const t of ts) this.transitions.push(t);
      if (this.opts.checkTransitions) for (const t of ts) this.pending.push(t);
    }
    const every = this.opts.snapshotEvery;
    if (every > 0 && rec.seq % every === 0 && this.opts.onSnapshot) this.opts.onSnapshot(rec.seq, this.router.snapshot());
    return ts;
  }

  /**
   * Call after the last record. A bundle that records no transitions at all
   * (hand-written observations) has nothing to compare: `checked` says so.
   */
  finish(): Mismatch | null {
    if (this.pendingHead < this.pending.length && !this.unmatched) this.unmatched = { t: this.pending[this.pendingHead], before: null };
    if (this.opts.checkTransitions && !this.mismatch && this.recordedCount > 0 && this.unmatched) {
      const { t, before } = this.unmatched;
      this.mismatch = {
        seq: t.cause,
        message: `replay produced ${fmt(t)}, but the bundle has no such machine.transition record ${before === null ? 'at its end' : `before seq ${before}`}`,
      };
    }
    return this.mismatch;
  }

  /** Whether recorded transitions were there to compare with. */
  get checked(): boolean {
    return this.recordedCount > 0;
  }

  view(): HostView {
    return this.router.view();
  }

  private matchRecorded(rec: XRecord): void {
    const d = rec.data as unknown as Transition;
    const want = this.pending[this.pendingHead];
    if (!want) {
      this.mismatch = { seq: rec.seq, message: `seq ${rec.seq} records ${fmt(d)}, but replay produced no such transition` };
      return;
    }
    if (want.actor !== d.actor || want.from !== d.from || want.to !== d.to || want.cause !== d.cause) {
      this.mismatch = { seq: rec.seq, message: `seq ${rec.seq} records ${fmt(d)}, but replay produced ${fmt(want)}` };
      return;
    }
    this.pendingHead++;
  }
}

function fmt(t: Transition): string {
  return `${t.actor}: ${t.from} → ${t.to} (cause ${t.cause})`;
}

/** Fold records up to `at` (inclusive; default all) and return the view and the transitions produced. */
export function replay(records: Iterable<XRecord>, bindings: MachineBinding[], at?: number): { view: HostView; transitions: Transition[]; mismatch: Mismatch | null } {
  const r = new Replayer(bindings);
  for (const rec of records) {
    if (at !== undefined && rec.seq > at) break;
    r.push(rec);
  }
  const mismatch = at === undefined ? r.finish() : r.mismatch;
  return { view: r.view(), transitions: r.transitions, mismatch };
}
