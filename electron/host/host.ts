/**
 * The live host (DESIGN.md section 2): drives the privileged helper, turns
 * every report into an observation, seals it with the `Recorder` (so live
 * history and replay agree by construction), appends the records to the
 * outbox and pushes them in batches to the connected stores.
 *
 * Helper session, each time the lifecycle machine enters `starting`: spawn,
 * `hello`, `xs.watch_domains`, a watch with an initial scan on `/local/domain`,
 * `/vm` and `/libxl`, `dominfo` then polling, log tails (`xen-hotplug.log` and
 * each domain's `xl-` and `qemu-dm-` logs); then `helper.ready`. When the
 * helper dies: `helper.status down` (a gap starts), backoff, a new session
 * whose scan records only what changed meanwhile (the reconciling records),
 * and `helper.status resynced` with `gap: true` and a summary of the
 * differences. Nothing already recorded is lost: records are in the outbox
 * before they are pushed.
 *
 * Time: a `host.tick` observation is recorded when an actor's deadline has
 * passed and nothing else happened, so timeouts fire live exactly as in
 * replay. The lifecycle machine's own deadlines run on real timers.
 *
 * Restarting the app: the outbox gives the chain tail; `host-state.json` (the
 * router's snapshot and the observer's view, saved before acked records are
 * dropped from the outbox) plus the outbox's records rebuild the live actors.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createActor, type Actor } from 'xstate';
import { ZERO_HASH, type Observation, type XRecord } from '../../machines/events/record.ts';
import type { ChainTail } from '../../machines/events/chain.ts';
import type { MachineBinding } from '../../machines/host/binding.ts';
import { ALL_BINDINGS } from '../../machines/host/bindings.ts';
import { Recorder } from '../../machines/host/recorder.ts';
import type { HostView, RouterSnapshot } from '../../machines/host/router.ts';
import { helperLifecycleMachine, type HelperLifecycleInput, type HelperLifecycleState } from '../../machines/helper-lifecycle/index.ts';
import { nodeSha256Hex } from '../shared/bundle-io.ts';
import type { CommandResult, ConnectResult, HostStatus } from '../shared/ipc-contract.std.ts';
import type { HelperEvent } from '../shared/helper-protocol.std.ts';
import { HelperClient, describeExit, type HelperExit, type HelperProcessLike } from './helper-client.ts';
import { Observer, type ObserverJson } from './observe.ts';
import { GuestInputFilter, type GuestInputConfig } from '../shared/guest-input.std.ts';
import { Outbox, isDiskFull } from './outbox.ts';
import { runCommand } from './commands.ts';

export const WATCH_ROOTS: readonly { path: string; token: string }[] = [
  { path: '/local/domain', token: 'ld' },
  { path: '/vm', token: 'vm' },
  { path: '/libxl', token: 'libxl' },
];
export const STATE_FILE = 'host-state.json';

/** Outbox caps (records, bytes) and the fractions at which shedding starts and ends (electron/host/README.md, "Backpressure"). */
export const DEFAULT_OUTBOX_CAP = { records: 200_000, bytes: 128 * 1024 * 1024 } as const;
export const SHED_AT = 0.5;
export const SHED_UNTIL = 0.25;
/** A wall clock that steps back further than this is a jump (`host.clock`); smaller steps are held. */
export const CLOCK_JUMP_MS = 1000;

type PauseReason = 'outbox-full' | 'disk-full';

/** A connected store (a renderer window or a browser tab): receives record batches. */
export interface RecordSink {
  push(records: XRecord[]): void;
  pushStatus?(s: HostStatus): void;
}

export type LogLevel = 'info' | 'warn' | 'error';

export interface HostOptions {
  /** Outbox and host state live here (the user data dir). */
  dataDir: string;
  /** Start a helper process (spawnHelper with the right launch, or a fake in tests). */
  launch: () => HelperProcessLike;
  /** The OS user, written in cmd.request. */
  user: string;
  mode?: HostStatus['mode'];
  sim?: boolean;
  bindings?: MachineBinding[];
  now?: () => number;
  lifecycle?: HelperLifecycleInput;
  /** How often the helper polls dominfo for pause/unpause, which fires no watch (ms; 0 = off). */
  dominfoPollMs?: number;
  /** How often the helper checks that each device model's QMP socket still accepts connections (ms; 0 = off). */
  dmPollMs?: number;
  /** How often the host checks for passed deadlines (ms). */
  tickMs?: number;
  requestTimeoutMs?: number;
  /** With no outbox yet, wait for the first store to report its tail before numbering (Electron, serve). */
  awaitBase?: boolean;
  /** Largest batch pushed at once. */
  maxBatch?: number;
  /** Save the host state at most this often when acks arrive (ms). */
  saveEveryMs?: number;
  /** Limits on guest-writable input (defaults: electron/shared/guest-input.std.ts). */
  guestInput?: Partial<GuestInputConfig>;
  /** Unacked records the outbox may hold (DEFAULT_OUTBOX_CAP): half of either starts shedding, all of either pauses recording. */
  outboxCap?: { records?: number; bytes?: number };
  /** Records sent to a store beyond what it has acked (a slow store gets no more until it acks). */
  maxInFlight?: number;
  log?: (level: LogLevel, msg: string) => void;
}

interface SavedState {
  v: 1;
  seq: number;
  hash: string;
  router: RouterSnapshot;
  observer: ObserverJson;
}

interface SinkState {
  sink: RecordSink;
  /** Highest seq sent to this sink. */
  sent: number;
  /** Where it started (its tail at connect): its window counts from here until it acks beyond. */
  base: number;
  /** A push is under way (a store that acks inside push must not start another round of the same records). */
  pumping?: boolean;
  again?: boolean;
}

export class LiveHost {
  private readonly o: Required<Omit<HostOptions, 'lifecycle' | 'bindings' | 'log' | 'guestInput' | 'outboxCap'>> & Pick<HostOptions, 'lifecycle' | 'guestInput'>;
  private readonly cap: { records: number; bytes: number };
  private readonly bindings: MachineBinding[];
  private readonly logFn: (level: LogLevel, msg: string) => void;
  private outbox!: Outbox;
  private recorder: Recorder | null = null;
  private observer: Observer;
  /** Rates, sizes and noisy keys of what guests write to their own xenstore homes (untrusted input). */
  private readonly guestFilter: GuestInputFilter;
  private queued: Observation[] = [];
  private batch: XRecord[] = [];
  private flushScheduled = false;
  private sinks = new Map<RecordSink, SinkState>();
  private recordListeners = new Set<(r: XRecord[]) => void>();
  private lifecycle: Actor<typeof helperLifecycleMachine>;
  private lifeState: HelperLifecycleState = 'stopped';
  private lifeTimer: ReturnType<typeof setTimeout> | undefined;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private client: HelperClient | null = null;
  /** The helper is up (hello answered, scan done): commands may run. */
  private ready = false;
  private session = 0;
  private stopping = false;
  private started = false;
  /** A gap is open: the helper was lost (or the app was off) and the next ready must say `resynced` with gap. */
  private gapOpen = false;
  private downRecorded = false;
  private diff: Record<string, number> = {};
  private diffRemoved: string[] = [];
  private scanWaiters = new Map<string, (truncated: boolean) => void>();
  private followed = new Set<string>();
  private lastTs = 0;
  private savedSeq = 0;
  private lastSave = 0;
  /** Saves the host state a while after an ack it did not cover, so an idle outbox empties. */
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private storeAcked = 0;
  private readyWaiters: (() => void)[] = [];
  private statusListeners = new Set<(s: HostStatus) => void>();
  private killReason: string | undefined;
  /** A store reported it cannot commit (storage full). */
  private storeFull = false;
  private storeFullDetail: string | undefined;
  /** Backpressure: normal, shedding guest input, or paused (nothing observed; a gap). */
  private pressure: 'normal' | 'shedding' | 'paused' = 'normal';
  private pauseReason: PauseReason | undefined;
  private pauseDetail: string | undefined;
  /** Sealed records the disk refused, in order; retried on each tick while paused for a full disk. */
  private unwritten: XRecord[] = [];
  /** The helper was running when recording paused: start it again on resume. */
  private restartOnResume = false;
  /** The `resumed` record is written once the helper's new session has reconciled. */
  private resumeNote: PauseReason | undefined;
  /** The sum of the wall clock's steps back: record ts = wall + offset (`host.clock`). */
  private clockOffset = 0;
  private inClockJump = false;
  /** Lines from the helper that did not fit the protocol. */
  malformed = 0;

  constructor(opts: HostOptions) {
    this.o = {
      mode: 'serve',
      sim: false,
      now: Date.now,
      dominfoPollMs: 1000,
      dmPollMs: 2000,
      tickMs: 1000,
      requestTimeoutMs: 15_000,
      awaitBase: false,
      maxBatch: 2000,
      saveEveryMs: 10_000,
      maxInFlight: 20_000,
      ...opts,
    };
    this.cap = { records: opts.outboxCap?.records ?? DEFAULT_OUTBOX_CAP.records, bytes: opts.outboxCap?.bytes ?? DEFAULT_OUTBOX_CAP.bytes };
    if (!(this.cap.records > 0 && this.cap.bytes > 0)) throw new RangeError('outboxCap: records and bytes must be > 0');
    this.bindings = opts.bindings ?? ALL_BINDINGS;
    this.logFn = opts.log ?? (() => {});
    this.observer = new Observer(() => this.ts());
    this.guestFilter = new GuestInputFilter(opts.guestInput);
    this.lifecycle = createActor(helperLifecycleMachine, { input: opts.lifecycle ?? {} });
  }

  // Lifecycle --------------------------------------------------------------------

  /** Open the outbox, rebuild the live state, start the helper. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.outbox = Outbox.open(this.o.dataDir);
    this.lastSave = this.o.now();
    for (const n of this.outbox.notes) this.log('warn', `outbox: ${n}`);
    const tail = this.outbox.tail;
    if (tail) this.resume(tail);
    else if (!this.o.awaitBase) this.begin({ seq: 0, hash: ZERO_HASH }, false);
    this.lifecycle.subscribe((s) => this.onLifecycle(s.value as HelperLifecycleState, s.context.deadline));
    this.lifecycle.start();
    this.lifecycle.send({ type: 'helper.start', ts: this.ts(), seq: this.seq() });
    this.tickTimer = setInterval(() => this.tick(), this.o.tickMs);
    this.tickTimer.unref?.();
  }

  /** Stop the helper, flush, save the state and close the outbox. */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return;
    this.stopping = true;
    clearInterval(this.tickTimer);
    clearTimeout(this.saveTimer);
    clearTimeout(this.lifeTimer);
    this.lifecycle.send({ type: 'helper.stop', ts: this.ts(), seq: this.seq() });
    const c = this.client;
    this.client = null;
    if (c) await c.close();
    // Whatever the guest input limits still hold (counts, latest values) goes into history now.
    if (this.recorder) this.seal(this.guestFilter.drain(this.clockNow()));
    this.flush();
    if (this.unwritten.length > 0) this.retryUnwritten();
    if (this.unwritten.length > 0) this.log('error', `${this.unwritten.length} records could not be written (the disk is full) and are not in history: the next start records a gap`);
    this.saveState();
    this.outbox.close();
    this.lifecycle.stop();
  }

  /** Resolves when the helper is up (or immediately if it is). */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  status(): HostStatus {
    const snap = this.lifecycle.getSnapshot();
    const tail = this.recorder?.chain.last ?? this.outbox?.tail ?? { seq: 0, hash: ZERO_HASH };
    return {
      mode: this.o.mode,
      sim: this.o.sim,
      helper: this.lifeState,
      attempts: snap.context.attempts,
      restarts: snap.context.restarts,
      ...(snap.context.lastExit ? { lastExit: snap.context.lastExit } : {}),
      recording: this.recorder !== null && !this.stopping,
      tail,
      pending: this.pendingCount(),
      recordingState: this.pressure,
      ...(this.pressure === 'paused' ? { recordingReason: this.pauseReason } : this.pressure === 'shedding' ? { recordingReason: 'outbox-high' as const } : this.storeFull ? { recordingReason: 'store-full' as const } : {}),
      ...(this.pressure === 'paused' && this.pauseDetail ? { recordingDetail: this.pauseDetail } : this.storeFull && this.storeFullDetail ? { recordingDetail: this.storeFullDetail } : {}),
      pendingBytes: this.outbox ? this.outbox.bytes : 0,
      capRecords: this.cap.records,
      capBytes: this.cap.bytes,
    };
  }

  /** Records sealed and not yet acked by a store (the outbox may still hold acked ones until the host state is saved). */
  private pendingCount(): number {
    if (!this.outbox) return 0;
    const top = this.recorder?.chain.last.seq ?? this.outbox.tail?.seq ?? 0;
    return Math.max(0, top - Math.max(this.storeAcked, this.outbox.acked.seq));
  }

  /** The record clock now (what the next record's ts will be at least): for observations made outside the helper. */
  now(): number {
    return this.ts();
  }

  onStatus(fn: (s: HostStatus) => void): () => void {
    this.statusListeners.add(fn);
    return () => void this.statusListeners.delete(fn);
  }

  /** Every batch of sealed records, as it is flushed (the `record` command writes them to a bundle). */
  onRecords(fn: (r: XRecord[]) => void): () => void {
    this.recordListeners.add(fn);
    return () => void this.recordListeners.delete(fn);
  }

  view(): HostView {
    return this.recorder ? this.recorder.router.view() : { seq: 0, ts: 0, actors: [], incidents: [], faults: [] };
  }

  /** The helper process, for tests that kill it. */
  get helperProcess(): HelperProcessLike | null {
    return this.client?.proc ?? null;
  }

  // Stores -------------------------------------------------------------------------

  /** A store connects and reports its tail: decide what to send, send it, then push live. */
  connect(sink: RecordSink, storeTail: ChainTail): ConnectResult {
    if (!this.recorder) {
      // No outbox yet: the store's tail is where numbering continues.
      this.begin(storeTail, storeTail.seq > 0);
    }
    this.flush();
    const hostTail = this.recorder!.chain.last;
    const res = (r: Omit<ConnectResult, 'hostTail' | 'host'>): ConnectResult => ({ ...r, hostTail, host: this.status() });
    if (storeTail.seq > hostTail.seq) {
      return res({ status: 'conflict', resend: 0, message: `the store holds records up to seq ${storeTail.seq}, beyond this host's ${hostTail.seq}: it belongs to another history` });
    }
    const held = this.outbox.pending();
    const first = held[0];
    const known = this.hashAt(storeTail.seq);
    if (known !== undefined && known !== storeTail.hash) {
      return res({ status: 'conflict', resend: 0, message: `the store's record ${storeTail.seq} differs from this host's: it belongs to another history` });
    }
    let from = storeTail.seq;
    let status: ConnectResult['status'] = 'ok';
    let anchor: ConnectResult['anchor'];
    let message: string | undefined;
    // An empty store simply starts where the host's records start; a store that holds some but not the next is behind.
    const empty = storeTail.seq === 0;
    if (first && storeTail.seq < first.seq - 1) {
      status = empty ? 'ok' : 'behind';
      from = first.seq - 1;
      anchor = { seq: first.seq, prev: first.prev };
      message = empty
        ? `this store starts at seq ${first.seq}: earlier records were committed by another store`
        : `records ${storeTail.seq + 1}..${first.seq - 1} were acknowledged by a store and are no longer held here`;
    } else if (!first && storeTail.seq < hostTail.seq) {
      status = empty ? 'ok' : 'behind';
      from = hostTail.seq;
      anchor = { seq: hostTail.seq + 1, prev: hostTail.hash };
      message = empty
        ? `this store starts at seq ${hostTail.seq + 1}: earlier records were committed by another store`
        : `records ${storeTail.seq + 1}..${hostTail.seq} were acknowledged by a store and are no longer held here`;
    }
    const st: SinkState = { sink, sent: from, base: from };
    this.sinks.set(sink, st);
    const resend = Math.max(0, (this.outbox.tail?.seq ?? from) - from);
    this.pump(st);
    return res({ status, resend, ...(anchor ? { anchor } : {}), ...(message ? { message } : {}) });
  }

  disconnect(sink: RecordSink): void {
    this.sinks.delete(sink);
  }

  /** The store committed everything up to seq. Returns how many records the outbox dropped. */
  ack(seq: number): number {
    if (!this.recorder) return 0;
    this.flush();
    const top = this.recorder.chain.last.seq;
    if (seq > top) seq = top;
    if (seq > this.storeAcked) this.storeAcked = seq;
    // Records may leave the outbox only once the saved state covers them (it rebuilds the actors after a restart).
    const now = this.o.now();
    if (now < this.lastSave) this.lastSave = now; // the wall clock went back: count the interval from here
    if (this.storeAcked > this.savedSeq && now - this.lastSave >= this.o.saveEveryMs) this.saveState();
    const n = this.releaseSaved();
    if (this.storeAcked > this.savedSeq && this.saveTimer === undefined && !this.stopping) {
      this.saveTimer = setTimeout(() => {
        this.saveTimer = undefined;
        if (this.stopping || this.storeAcked <= this.savedSeq) return;
        this.saveState();
        this.releaseSaved();
        this.checkPressure();
      }, this.o.saveEveryMs);
      this.saveTimer.unref?.();
    }
    // A store that acks may take more.
    for (const st of this.sinks.values()) this.pump(st);
    this.checkPressure();
    return n;
  }

  /** Let acked records the saved state covers leave the outbox; returns how many left. */
  private releaseSaved(): number {
    return this.outbox.ack(Math.min(this.storeAcked, this.savedSeq));
  }

  /**
   * A store says it cannot commit (storage full) or can again. Recorded as `recording.status`
   * (reason store-full); the records stay in the outbox meanwhile. Returns whether it was recorded
   * (false when nothing changed, or with no chain base yet).
   */
  storeStatus(state: 'full' | 'ok', detail?: string): boolean {
    if (!this.recorder) return false;
    const full = state === 'full';
    if (full === this.storeFull) return false;
    this.storeFull = full;
    this.storeFullDetail = full ? detail : undefined;
    this.observe([
      {
        ts: this.ts(),
        src: 'host',
        type: 'recording.status',
        data: { state: full ? 'paused' : 'resumed', reason: 'store-full', gap: false, pending: this.pendingCount(), ...(detail ? { detail } : {}) },
      },
    ]);
    this.emitStatus();
    return true;
  }

  // Commands ---------------------------------------------------------------------------

  command(req: unknown, user = this.o.user): Promise<CommandResult> {
    return runCommand(
      {
        helper: () => (this.ready ? this.client : null),
        observe: (obs) => this.observe(obs),
        now: () => this.ts(),
        user,
        domidOfName: (n) => this.observer.domidOfName(n),
        uuidOf: (d) => this.observer.uuidOf(d),
        refuse: () => (this.pressure === 'paused' ? `recording is paused (${this.pauseDetail ?? this.pauseReason})` : undefined),
      },
      req,
    );
  }

  // Observations ---------------------------------------------------------------------------

  /** Seal observations now (or queue them while the chain base is unknown), after the guest input limits. */
  observe(obs: Observation[]): void {
    if (obs.length === 0) return;
    const out: Observation[] = [];
    for (const o of obs) {
      // No observation carries a ts behind the record clock (a late one is held at it).
      const at = o.ts < this.lastTs ? { ...o, ts: this.lastTs } : o;
      for (const x of this.guestFilter.push(at)) out.push(x);
    }
    this.seal(out);
  }

  /** Seal observations that have passed the guest input limits. */
  private seal(obs: Observation[]): void {
    if (obs.length === 0) return;
    if (!this.recorder) {
      for (const o of obs) this.queued.push(o);
      // Numbering waits for the first store; memory may not: past a quarter of the cap, stop observing until it comes.
      if (this.queued.length >= this.cap.records / 4 && this.pressure !== 'paused') {
        this.pause('outbox-full', `no store has connected yet to give the chain its start: ${this.queued.length} observations wait to be numbered`);
      }
      return;
    }
    for (const o of obs) {
      const recs = this.recorder.observe(o);
      for (const r of recs) this.batch.push(r);
      this.diff[o.type] = (this.diff[o.type] ?? 0) + 1;
      if (o.type === 'xs.rm' && this.diffRemoved.length < 20) this.diffRemoved.push(String((o.data as { path: string }).path));
    }
    this.scheduleFlush();
  }

  /** Seal now and hand the records to the outbox and the sinks. */
  flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0) return;
    const b = this.batch;
    this.batch = [];
    if (this.unwritten.length > 0) {
      // The disk refused earlier records: these wait behind them, in order.
      for (const r of b) this.unwritten.push(r);
      return;
    }
    try {
      this.outbox.append(b);
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      this.unwritten = b;
      this.pause('disk-full', `the disk holding ${this.outbox.path} is full (${(e as { code?: string }).code})`);
      return;
    }
    this.delivered(b);
    this.checkPressure();
  }

  /** Records now in the outbox: to the stores (within their windows) and the listeners. */
  private delivered(b: XRecord[]): void {
    for (const st of this.sinks.values()) this.pump(st);
    for (const fn of this.recordListeners) fn(b);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Send a store what the outbox holds beyond what it was sent, up to `maxInFlight` past what stores acked. */
  private pump(st: SinkState): void {
    if (st.pumping) {
      st.again = true;
      return;
    }
    st.pumping = true;
    try {
      do {
        st.again = false;
        this.pumpRound(st);
      } while (st.again && this.sinks.get(st.sink) === st);
    } finally {
      st.pumping = false;
    }
  }

  private pumpRound(st: SinkState): void {
    const top = this.outbox.tail?.seq ?? 0;
    const limit = Math.min(top, Math.max(this.storeAcked, this.outbox.acked.seq, st.base) + this.o.maxInFlight);
    while (st.sent < limit) {
      const chunk: XRecord[] = [];
      const end = Math.min(limit, st.sent + this.o.maxBatch);
      for (let q = st.sent + 1; q <= end; q++) {
        const r = this.outbox.get(q);
        if (!r) break;
        chunk.push(r);
      }
      if (chunk.length === 0) return;
      try {
        st.sink.push(chunk);
      } catch (e) {
        this.log('warn', `a store could not take a batch: ${(e as Error).message}`);
        this.sinks.delete(st.sink);
        return;
      }
      st.sent = chunk[chunk.length - 1].seq;
    }
  }

  /** The record clock: the wall clock plus the sum of its steps back, never decreasing. */
  private ts(): number {
    const wall = this.o.now();
    const t = wall + this.clockOffset;
    if (t > this.lastTs) this.lastTs = t;
    else if (t < this.lastTs - CLOCK_JUMP_MS && !this.inClockJump) this.clockJumped(this.lastTs - t, wall);
    return this.lastTs;
  }

  /** The wall clock stepped back by `by` ms: record ts continue from where they were, and history says so. */
  private clockJumped(by: number, wall: number): void {
    this.inClockJump = true;
    try {
      this.clockOffset += by;
      this.log('warn', `the wall clock went back ${by} ms: timestamps continue from the last one (wall + ${this.clockOffset} ms)`);
      this.observe([{ ts: this.lastTs, src: 'host', type: 'host.clock', data: { by, wall, offset: this.clockOffset } }]);
    } finally {
      this.inClockJump = false;
    }
  }

  /** The record clock without advancing it (for deadlines). */
  private clockNow(): number {
    return this.o.now() + this.clockOffset;
  }

  private seq(): number {
    return this.recorder?.chain.last.seq ?? 0;
  }

  // Chain base -----------------------------------------------------------------------------

  /** Start numbering at `tail` with fresh actors. */
  private begin(tail: ChainTail, gap: boolean): void {
    if (tail.seq > 0) this.outbox.rebase(tail);
    this.recorder = new Recorder(this.bindings, { tail, digest: nodeSha256Hex });
    this.savedSeq = tail.seq;
    this.storeAcked = tail.seq;
    const q = this.queued;
    this.queued = [];
    if (gap) {
      // The store's history goes on here, but this host saw nothing of what came between: say so first.
      this.observe([this.notRunning(`this host holds no record of what happened after seq ${tail.seq}`)]);
      this.downRecorded = true;
      this.gapOpen = true;
      // A session that came up while numbering waited wrote "up"; after a gap it is a resync.
      for (const o of q) if (o.type === 'helper.status' && (o.data as { state?: string }).state === 'up') o.data = { state: 'resynced', gap: true };
      if (this.ready) {
        this.gapOpen = false;
        this.downRecorded = false;
      }
    }
    this.observe(q);
    // Observing stopped while numbering waited: it resumes now.
    this.checkPressure();
  }

  private notRunning(reason: string): Observation {
    return { ts: this.ts(), src: 'host', type: 'helper.status', data: { state: 'down', gap: true, reason } };
  }

  /** An outbox exists: continue its chain, rebuilding the actors from the saved state and the outbox's records. */
  private resume(tail: ChainTail): void {
    const saved = this.loadState();
    const held = this.outbox.pending();
    const usable = saved && saved.seq <= tail.seq && (saved.seq === tail.seq || (held[0] !== undefined && held[0].seq <= saved.seq + 1));
    if (usable) {
      this.recorder = new Recorder(this.bindings, { tail, digest: nodeSha256Hex, snapshot: saved.router });
      this.observer = Observer.fromJSON(saved.observer, () => this.ts());
      for (const r of held) {
        if (r.seq <= saved.seq) continue;
        this.recorder.router.apply(r);
        this.observer.applyRecord(r);
      }
      this.savedSeq = saved.seq;
    } else if (!saved) {
      // Never saved (a crash before the first save): nothing left the outbox yet, so the actors
      // started from nothing at the outbox's base, and its records rebuild them exactly.
      this.recorder = new Recorder(this.bindings, { tail, digest: nodeSha256Hex });
      for (const r of held) {
        this.recorder.router.apply(r);
        this.observer.applyRecord(r);
      }
      this.savedSeq = this.outbox.acked.seq;
    } else {
      this.log('warn', `the live machine state could not be rebuilt (the saved state at seq ${saved.seq} does not meet the outbox): machines start afresh at seq ${tail.seq + 1}`);
      this.recorder = new Recorder(this.bindings, { tail, digest: nodeSha256Hex });
      this.savedSeq = tail.seq;
      for (const r of held) this.observer.applyRecord(r);
    }
    this.storeAcked = this.outbox.acked.seq;
    // The app was not observing while it was off: history says so before anything else.
    this.observe([this.notRunning('Xendeck was not running: what happened since the previous record was not observed')]);
    this.gapOpen = true;
    this.downRecorded = true;
  }

  private hashAt(seq: number): string | undefined {
    if (seq === 0) return ZERO_HASH;
    const r = this.outbox.get(seq);
    if (r) return r.hash;
    if (this.outbox.acked.seq === seq) return this.outbox.acked.hash;
    const last = this.recorder?.chain.last;
    if (last && last.seq === seq) return last.hash;
    return undefined;
  }

  private saveState(): void {
    if (!this.recorder || !this.outbox) return;
    this.flush();
    // Never ahead of the outbox: records the disk refused are not history yet.
    if (this.unwritten.length > 0) return;
    const last = this.recorder.chain.last;
    const s: SavedState = { v: 1, seq: last.seq, hash: last.hash, router: this.recorder.router.snapshot(), observer: this.observer.toJSON() };
    const path = join(this.o.dataDir, STATE_FILE);
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, JSON.stringify(s));
    } catch (e) {
      rmSync(tmp, { force: true });
      if (!isDiskFull(e)) throw e;
      // Records stay in the outbox until a later save covers them.
      this.log('warn', `host state not saved: the disk is full (${(e as { code?: string }).code})`);
      return;
    }
    renameSync(tmp, path);
    this.savedSeq = last.seq;
    this.lastSave = this.o.now();
  }

  private loadState(): SavedState | null {
    const path = join(this.o.dataDir, STATE_FILE);
    if (!existsSync(path)) return null;
    try {
      const s = JSON.parse(readFileSync(path, 'utf8')) as SavedState;
      return s.v === 1 ? s : null;
    } catch (e) {
      this.log('warn', `host state unreadable: ${(e as Error).message}`);
      return null;
    }
  }

  // Helper lifecycle --------------------------------------------------------------------------

  private onLifecycle(state: HelperLifecycleState, deadline: number | undefined): void {
    const prev = this.lifeState;
    this.lifeState = state;
    clearTimeout(this.lifeTimer);
    if (deadline !== undefined && !this.stopping) {
      this.lifeTimer = setTimeout(() => this.lifecycle.send({ type: 'clock.tick', ts: Math.max(this.ts(), deadline), seq: this.seq() }), Math.max(0, deadline - this.clockNow()));
    }
    if (state === prev) return;
    if (state === 'starting' && !this.stopping && this.pressure !== 'paused') void this.runSession();
    if (state === 'failed') {
      const why = this.lifecycle.getSnapshot().context.lastExit ?? 'unknown';
      this.log('error', `the helper kept failing and was given up: ${why}`);
      this.observe([{ ts: this.ts(), src: 'host', type: 'helper.status', data: { state: 'failed', gap: true, reason: why } }]);
    }
    this.emitStatus();
  }

  private emitStatus(): void {
    if (this.statusListeners.size === 0 && this.sinks.size === 0) return;
    const s = this.status();
    for (const fn of this.statusListeners) fn(s);
    for (const st of this.sinks.values()) st.sink.pushStatus?.(s);
  }

  private async runSession(): Promise<void> {
    const id = ++this.session;
    let proc: HelperProcessLike;
    try {
      proc = this.o.launch();
    } catch (e) {
      this.onExit(id, { code: null, signal: null, error: (e as Error).message });
      return;
    }
    const client = new HelperClient(proc, { timeoutMs: this.o.requestTimeoutMs, onStderr: (l) => this.log('info', `helper: ${l}`) });
    this.client = client;
    this.followed.clear();
    this.scanWaiters.clear();
    client.onEvent((ev) => {
      if (this.session === id) this.onEvent(ev, client);
    });
    client.onMalformed((m) => {
      this.malformed++;
      this.log('warn', `a line from the helper was refused: ${m.reason}: ${m.line}`);
    });
    client.onExit((x) => this.onExit(id, x));
    this.diff = {};
    this.diffRemoved = [];
    try {
      await client.request('hello', { version: 1 });
      const { domids } = await client.request('xs.watch_domains', {});
      this.observe(this.observer.domains(domids));
      for (const root of WATCH_ROOTS) {
        this.observer.beginScan(root.path);
        const done = this.waitScan(root.path);
        await client.request('xs.watch', { path: root.path, token: root.token, scan: true });
        const truncated = await done;
        if (truncated) this.log('warn', `the scan of ${root.path} was cut short by the helper's limit`);
      }
      try {
        this.observer.forgetDominfo();
        const di = await client.request('dominfo', {});
        this.observe(this.observer.dominfoList(di.domains));
      } catch (e) {
        this.log('warn', `dominfo: ${(e as Error).message}`);
      }
      if (this.o.dominfoPollMs > 0) await client.request('dominfo.poll', { interval_ms: this.o.dominfoPollMs });
      if (this.o.dmPollMs > 0) {
        try {
          await client.request('dm.poll', { interval_ms: this.o.dmPollMs });
        } catch (e) {
          this.log('warn', `dm.poll: ${(e as Error).message}`);
        }
      }
      await this.follow(client, 'xen-hotplug.log');
      for (const n of this.observer.domainNames()) await this.followDomain(client, n);
    } catch (e) {
      if (this.session !== id || !client.alive) return; // it died meanwhile: the exit handler has it
      this.killReason = `the helper session could not be set up: ${(e as Error).message}`;
      this.log('error', this.killReason);
      client.proc.kill('SIGKILL');
      return;
    }
    if (this.session !== id || !client.alive) return;
    this.markReady();
  }

  private markReady(): void {
    const status = this.gapOpen
      ? { state: 'resynced', gap: true, diff: { ...this.diff, ...(this.diffRemoved.length ? { removed: this.diffRemoved } : {}) } }
      : { state: 'up', gap: false };
    this.observe([{ ts: this.ts(), src: 'helper', type: 'helper.status', data: status }]);
    if (this.resumeNote) {
      this.noteRecording('resumed', this.resumeNote, true);
      this.resumeNote = undefined;
    }
    this.gapOpen = false;
    this.downRecorded = false;
    this.ready = true;
    this.lifecycle.send({ type: 'helper.ready', ts: this.ts(), seq: this.seq() });
    const w = this.readyWaiters;
    this.readyWaiters = [];
    for (const fn of w) fn();
  }

  private onExit(id: number, x: HelperExit): void {
    if (id !== this.session) return;
    this.ready = false;
    this.client = null;
    for (const fn of this.scanWaiters.values()) fn(true);
    this.scanWaiters.clear();
    if (this.stopping) return;
    // When the host ended the helper itself, its reason is the one history should keep.
    const reason = this.killReason ?? describeExit(x);
    this.killReason = undefined;
    this.log('warn', reason);
    if (!this.downRecorded) {
      this.observe([{ ts: this.ts(), src: 'host', type: 'helper.status', data: { state: 'down', gap: true, reason } }]);
      this.downRecorded = true;
    }
    this.gapOpen = true;
    this.lifecycle.send({ type: 'helper.exited', ts: this.ts(), seq: this.seq(), reason });
  }

  /**
   * End the helper session on purpose and start a new one at once (no backoff, attempts reset): the
   * gap is recorded with its reason and the new session's scan reconciles what was missed.
   */
  private rescan(reason: string): void {
    if (this.stopping || this.pressure === 'paused') return;
    this.log('warn', `${reason}: rescanning`);
    if (!this.downRecorded) {
      this.observe([{ ts: this.ts(), src: 'host', type: 'helper.status', data: { state: 'down', gap: true, reason } }]);
      this.downRecorded = true;
    }
    this.gapOpen = true;
    const c = this.dropSession();
    this.lifecycle.send({ type: 'helper.stop', ts: this.ts(), seq: this.seq() });
    if (c) void c.close();
    this.lifecycle.send({ type: 'helper.start', ts: this.ts(), seq: this.seq() });
  }

  /** Let go of the helper session on purpose: its later events and its exit are not history. Returns its client, to close. */
  private dropSession(): HelperClient | null {
    this.session++;
    const c = this.client;
    this.client = null;
    this.ready = false;
    for (const fn of this.scanWaiters.values()) fn(true);
    this.scanWaiters.clear();
    return c;
  }

  private waitScan(root: string): Promise<boolean> {
    return new Promise((resolve) => this.scanWaiters.set(root, resolve));
  }

  private onEvent(ev: HelperEvent, client: HelperClient): void {
    switch (ev.event) {
      case 'xs.watch': {
        const obs = this.observer.watch(ev.data);
        // A guest's events that bring nothing to record (folded by the helper, or the value already recorded) are counted.
        const repeats = (ev.data.merged ?? 0) + (obs.length === 0 && !ev.data.scan && typeof ev.data.value === 'string' ? 1 : 0);
        if (repeats > 0) this.seal(this.guestFilter.countRepeat(ev.data.path, repeats, this.ts()));
        this.observe(obs);
        const p = ev.data.path;
        // A new domain name: follow its logs.
        if (this.ready && typeof ev.data.value === 'string' && /^\/local\/domain\/\d+\/name$/.test(p)) void this.followDomain(client, ev.data.value, 'start');
        return;
      }
      case 'xs.scan': {
        this.observe(this.observer.endScan(ev.data.path, ev.data.truncated));
        const w = this.scanWaiters.get(ev.data.path);
        this.scanWaiters.delete(ev.data.path);
        w?.(ev.data.truncated);
        return;
      }
      case 'xs.introduce':
        this.observe(this.observer.introduce(ev.data.domid));
        return;
      case 'xs.release':
        this.observe(this.observer.release(ev.data.domid));
        return;
      case 'xs.lost':
        // The helper lost xenstored and with it every watch: a new session re-scans.
        this.killReason = `the helper lost its xenstore connection (${ev.data.error})`;
        this.log('warn', `${this.killReason}: restarting it`);
        client.proc.kill('SIGTERM');
        return;
      case 'dominfo':
        this.observe(this.observer.dominfoList(ev.data.domains));
        return;
      case 'log.line':
        this.observe(this.observer.logLine(ev.data));
        return;
      case 'dm.status':
        this.observe(this.observer.dmStatus(ev.data));
        return;
      case 'xs.overflow':
        // The helper could not keep every watch event while this host read slowly: a gap, then a rescan.
        this.rescan(`the helper's pending watch events overflowed while Xendeck fell behind (${ev.data.dropped} not kept)`);
        return;
      case 'xl.line':
        return; // xl's stderr while a command runs: it is in the command's result
      default:
        missingCase(ev);
    }
  }

  /**
   * Follow a domain's logs. Domains found by the initial scan are followed from the end (their
   * earlier lines are old news, and would get today's timestamps); a domain that appears while we
   * watch is followed from the start, since xl and libxl start its logs afresh when they create it
   * and its first lines (the device model's PV probe, xl's monitor) come before we learn its name.
   */
  private async followDomain(client: HelperClient, name: string, from: 'start' | 'end' = 'end'): Promise<void> {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) return;
    await this.follow(client, `xl-${name}.log`, from);
    await this.follow(client, `qemu-dm-${name}.log`, from);
  }

  private async follow(client: HelperClient, file: string, from: 'start' | 'end' = 'end'): Promise<void> {
    if (this.followed.has(file)) return;
    this.followed.add(file);
    try {
      await client.request('log.follow', { file, from });
    } catch (e) {
      this.log('warn', `log.follow ${file}: ${(e as Error).message}`);
    }
  }

  // Record clock -------------------------------------------------------------------------------

  /** If an actor's deadline has passed, record a host.tick so the timeout fires now, as it would in replay. */
  tick(): void {
    if (!this.recorder) return;
    if (this.unwritten.length > 0) this.retryUnwritten();
    this.checkPressure();
    // Paused: nothing is observed, so no deadline may be judged (the reconciling scan comes first).
    if (this.pressure === 'paused') return;
    this.seal(this.guestFilter.flush(this.ts()));
    const now = this.clockNow();
    let due = false;
    for (const a of this.recorder.router.view().actors) {
      const d = (a.context as { deadline?: unknown } | undefined)?.deadline;
      if (!a.retired && typeof d === 'number' && d <= now) {
        due = true;
        break;
      }
    }
    if (due) this.observe([{ ts: this.ts(), src: 'host', type: 'host.tick', data: {} }]);
  }

  // Backpressure -------------------------------------------------------------------------------

  /** Shed, pause or resume by how full the outbox is (electron/host/README.md, "Backpressure"). */
  private checkPressure(): void {
    if (!this.recorder || this.stopping) return;
    const level = this.fullness();
    if (this.pressure === 'paused') {
      if (this.pauseReason === 'outbox-full' && level < SHED_AT) this.resumeRecording();
      return;
    }
    if (level >= 1) {
      this.pause('outbox-full', `${this.outbox.size} records (${this.outbox.bytes} bytes) wait for a store to commit them; the outbox holds at most ${this.cap.records} records or ${this.cap.bytes} bytes`);
    } else if (this.pressure === 'normal' && level >= SHED_AT) {
      this.pressure = 'shedding';
      this.guestFilter.setShedding(true);
      this.log('warn', `the outbox is over ${SHED_AT * 100}% full: guest input is summarised until it drains`);
      this.noteRecording('shedding', 'outbox-high', false);
      this.emitStatus();
    } else if (this.pressure === 'shedding' && level < SHED_UNTIL) {
      this.pressure = 'normal';
      this.guestFilter.setShedding(false);
      this.noteRecording('normal', 'outbox-high', false);
      this.emitStatus();
    }
  }

  /** How full the outbox is: the larger of its two fractions (records, bytes) of the cap. */
  private fullness(): number {
    return Math.max(this.outbox.size / this.cap.records, this.outbox.bytes / this.cap.bytes);
  }

  /** Record a step of the backpressure policy (`recording.status`), with what the outbox holds. */
  private noteRecording(state: 'shedding' | 'normal' | 'paused' | 'resumed', reason: 'outbox-high' | PauseReason, gap: boolean, detail?: string): void {
    const data = { state, reason, gap, pending: this.pendingCount(), bytes: this.outbox.bytes, ...(detail !== undefined ? { detail } : {}) };
    this.observe([{ ts: this.ts(), src: 'host', type: 'recording.status', data }]);
  }

  /** Stop observing (a gap): the helper is stopped so nothing piles up; commands are refused. */
  private pause(reason: PauseReason, detail: string): void {
    if (this.pressure === 'paused') return;
    this.pressure = 'paused';
    this.pauseReason = reason;
    this.pauseDetail = detail;
    this.log('error', `recording paused: ${detail}`);
    // What the guest input limits hold goes in before the gap.
    this.seal(this.guestFilter.drain(this.clockNow()));
    this.guestFilter.setShedding(true);
    this.noteRecording('paused', reason, true, detail);
    this.restartOnResume = this.lifeState === 'starting' || this.lifeState === 'up' || this.lifeState === 'backoff';
    const c = this.dropSession();
    this.gapOpen = true;
    this.downRecorded = true;
    if (this.restartOnResume) this.lifecycle.send({ type: 'helper.stop', ts: this.ts(), seq: this.seq() });
    if (c) void c.close();
    this.emitStatus();
  }

  /** The cause of the pause has cleared: observe again, starting with a reconciling scan. */
  private resumeRecording(): void {
    const reason = this.pauseReason!;
    this.pressure = this.fullness() >= SHED_UNTIL ? 'shedding' : 'normal';
    this.guestFilter.setShedding(this.pressure === 'shedding');
    this.pauseReason = undefined;
    this.pauseDetail = undefined;
    this.log('info', `recording resumes (${reason} cleared)`);
    this.resumeNote = reason;
    if (this.restartOnResume) {
      this.restartOnResume = false;
      this.lifecycle.send({ type: 'helper.start', ts: this.ts(), seq: this.seq() });
    } else {
      // The helper was not running (given up): nothing to reconcile through it.
      this.noteRecording('resumed', reason, true);
      this.resumeNote = undefined;
    }
    this.emitStatus();
  }

  /** Try the records the disk refused again; once they are written, recording resumes. */
  private retryUnwritten(): void {
    const b = this.unwritten;
    try {
      this.outbox.append(b);
    } catch (e) {
      if (!isDiskFull(e)) throw e;
      return;
    }
    this.unwritten = [];
    this.delivered(b);
    if (this.pressure === 'paused' && this.pauseReason === 'disk-full') this.resumeRecording();
    this.flush();
  }

  private log(level: LogLevel, msg: string): void {
    this.logFn(level, msg);
  }
}

function missingCase(x: never): never {
  throw new Error(`unhandled helper event: ${JSON.stringify(x)}`);
}
