/**
 * Replay over a store: the state of the host at any seq, reached from the
 * nearest persisted snapshot (never by folding all of history), stepping
 * forward or back, and the difference between two seqs. Runs in the replay
 * worker (replay.worker.ts) and, for tests and small stores, in the page.
 *
 * The fold is the host router of machines/host, the same code the live host
 * and the CLI run, so states and incidents are the ones they would give.
 * Snapshots are a projection: the engine writes one every `snapshotEvery`
 * records it folds past the newest stored one. The chain is not rechecked
 * here: it was checked when the records were appended or imported.
 */
import type { MachineBinding } from '../../../../machines/host/binding.ts';
import { ALL_BINDINGS, machineVersions } from '../../../../machines/host/bindings.ts';
import { HostRouter, type ActorView, type HostView, type Incident, type RouterSnapshot } from '../../../../machines/host/router.ts';
import type { XRecord } from '../../../../machines/events/record.ts';
import type { AppDb } from '../db/app-db.ts';
import { readStats, readTail } from '../db/meta.ts';

export const DEFAULT_SNAPSHOT_EVERY = 1000;
const PAGE = 2000;

export interface EngineOptions {
  bindings?: MachineBinding[];
  snapshotEvery?: number;
  /** Write snapshots while folding (default true). */
  persist?: boolean;
  /** Restore from stored snapshots (default true; off measures a full replay). */
  useSnapshots?: boolean;
}

export interface ActorChange {
  id: string;
  kind: string;
  uuid: string;
  /** State before and after ('' when the actor did not exist). */
  before: string;
  after: string;
  /** Top-level context keys whose values differ. */
  context: string[];
}

export interface StateDiff {
  from: number;
  to: number;
  changes: ActorChange[];
  /** Incidents detected in (from, to]. */
  incidents: Incident[];
}

/** Read records from..to (inclusive) in pages. */
export async function* storeRecords(db: AppDb, from: number, to: number, page = PAGE): AsyncGenerator<XRecord> {
  let a = from;
  while (a <= to) {
    const rows = await db.events.where('seq').between(a, to, true, true).limit(page).toArray();
    if (rows.length === 0) return;
    for (const r of rows) yield r;
    a = rows[rows.length - 1].seq + 1;
  }
}

export class ReplayEngine {
  private router: HostRouter | null = null;
  private readonly bindings: MachineBinding[];
  private readonly versions: Record<string, string>;
  private readonly every: number;
  private readonly persist: boolean;
  private readonly useSnapshots: boolean;
  /** Highest stored snapshot seq, so the engine knows when to write one. */
  private newestSnapshot = -1;
  /** Records folded by the last seek (how far it had to go from its snapshot). */
  lastFold = 0;

  constructor(
    private readonly db: AppDb,
    opts: EngineOptions = {},
  ) {
    this.bindings = opts.bindings ?? ALL_BINDINGS;
    this.versions = machineVersions(this.bindings);
    this.every = opts.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
    this.persist = opts.persist ?? true;
    this.useSnapshots = opts.useSnapshots ?? true;
  }

  /** seq of the last record applied (the position), or -1 before any seek. */
  get position(): number {
    return this.router ? this.router.seq : -1;
  }

  /** Stored range: first seq held and the tail. */
  async bounds(): Promise<{ from: number; to: number }> {
    const [stats, tail] = await Promise.all([readStats(this.db), readTail(this.db)]);
    return { from: tail.seq === 0 ? 1 : stats.firstSeq, to: tail.seq };
  }

  /** The host state right after `seq` (clamped to the stored range; `from - 1` is the state before the first record). */
  async seek(seq: number): Promise<HostView> {
    const b = await this.bounds();
    const target = Math.max(b.from - 1, Math.min(seq, b.to));
    const cur = this.router;
    let start: HostRouter;
    const snap = this.useSnapshots || b.from > 1 ? await this.snapshotAtOrBefore(this.useSnapshots ? target : b.from - 1) : undefined;
    if (cur && cur.seq <= target && (!snap || cur.seq >= snap.seq)) start = cur;
    else if (snap) start = HostRouter.restore(this.bindings, snap.state);
    else if (b.from === 1) start = new HostRouter(this.bindings);
    else throw new Error(`no snapshot at or before seq ${target}: history before seq ${b.from} was pruned without one`);
    this.router = start;
    await this.foldTo(target);
    return this.router.view();
  }

  /** Step `n` records forward (n > 0) or back (n < 0) from the current position. */
  async step(n = 1): Promise<HostView> {
    if (!this.router) throw new Error('seek before stepping');
    return this.seek(this.router.seq + n);
  }

  view(): HostView {
    if (!this.router) throw new Error('seek first');
    return this.router.view();
  }

  /** The router's persisted state right after `seq` (for a bundle that starts at seq + 1). */
  async stateAt(seq: number): Promise<RouterSnapshot> {
    await this.seek(seq);
    return this.router!.snapshot();
  }

  /** What changed between the state after `a` and the state after `b`. */
  async diff(a: number, b: number): Promise<StateDiff> {
    const va = await this.seek(a);
    const vb = await this.seek(b);
    const before = new Map<string, ActorView>(va.actors.map((x) => [x.id, x]));
    const after = new Map<string, ActorView>(vb.actors.map((x) => [x.id, x]));
    const ids = [...new Set([...before.keys(), ...after.keys()])].sort();
    const changes: ActorChange[] = [];
    for (const id of ids) {
      const x = before.get(id);
      const y = after.get(id);
      const ctx = contextKeys(x?.context, y?.context);
      const bs = x ? x.state : '';
      const as = y ? y.state : '';
      if (bs === as && ctx.length === 0) continue;
      changes.push({ id, kind: (x ?? y)!.kind, uuid: (x ?? y)!.uuid, before: bs, after: as, context: ctx });
    }
    const seen = new Set(va.incidents.map(incidentKey));
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const incidents = (a <= b ? vb : va).incidents.filter((i) => !seen.has(incidentKey(i)) && i.to > lo && i.to <= hi);
    return { from: a, to: b, changes, incidents };
  }

  /** Incidents detected from the start of the store to its tail: the same rules the CLI runs. */
  async incidents(): Promise<Incident[]> {
    const b = await this.bounds();
    const v = await this.seek(b.to);
    return v.incidents;
  }

  private async snapshotAtOrBefore(seq: number): Promise<{ seq: number; state: RouterSnapshot } | undefined> {
    // Snapshots from other machine versions cannot be trusted to restore: skip them.
    let found: { seq: number; state: RouterSnapshot } | undefined;
    await this.db.snapshots
      .where('seq')
      .belowOrEqual(seq)
      .reverse()
      .until(() => found !== undefined)
      .each((s) => {
        if (!found && sameVersions(s.machines, this.versions)) found = { seq: s.seq, state: s.state };
      });
    if (this.newestSnapshot < 0) {
      const last = await this.db.snapshots.orderBy('seq').last();
      this.newestSnapshot = last ? last.seq : 0;
    }
    return found;
  }

  private async foldTo(target: number): Promise<void> {
    const r = this.router!;
    this.lastFold = 0;
    if (r.seq >= target) return;
    const pending: { seq: number; ts: number; machines: Record<string, string>; state: RouterSnapshot }[] = [];
    for await (const rec of storeRecords(this.db, r.seq + 1, target)) {
      r.apply(rec);
      this.lastFold++;
      if (this.persist && this.every > 0 && rec.seq % this.every === 0 && rec.seq > this.newestSnapshot) {
        pending.push({ seq: rec.seq, ts: rec.ts, machines: this.versions, state: r.snapshot() });
        this.newestSnapshot = rec.seq;
      }
    }
    if (pending.length) await this.db.snapshots.bulkPut(pending);
  }
}

function sameVersions(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (a[k] !== b[k]) return false;
  return true;
}

function contextKeys(a: unknown, b: unknown): string[] {
  const x = (a && typeof a === 'object' ? a : {}) as Record<string, unknown>;
  const y = (b && typeof b === 'object' ? b : {}) as Record<string, unknown>;
  const out: string[] = [];
  for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) if (JSON.stringify(x[k]) !== JSON.stringify(y[k])) out.push(k);
  return out.sort();
}

function incidentKey(i: Incident): string {
  return `${i.kind}|${i.actor}|${i.from}|${i.to}`;
}
