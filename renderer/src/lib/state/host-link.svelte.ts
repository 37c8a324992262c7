/**
 * The link between the host and this page's store (DESIGN.md section 2): on
 * start the store reports its tail and the host re-sends what the store lacks;
 * every pushed batch is committed to IndexedDB in one transaction and the
 * highest seq acked. After each commit the live view (the host router folded
 * over the store, the same code replay runs) and the domain facts move on.
 * Commands a person gives go through here and their results are kept.
 */
import type { Api, CommandRequest, CommandResult, ConnectResult, HostStatus } from '../../../../electron/shared/ipc-contract.std.ts';
import type { HostView } from '../../../../machines/host/router.ts';
import type { XRecord } from '../../../../machines/events/record.ts';
import type { AppDb } from '../db/app-db.ts';
import { appendEvents, type AppendResult } from '../db/append-event.ts';
import { abortedReason, storageFullReason } from '../db/storage-full.ts';
import { readStats, readTail } from '../db/meta.ts';
import { rebuildIncidents } from '../db/projections/incidents.ts';
import { ReplayEngine } from '../replay/replay-engine.ts';
import { HostFacts } from '../model/host-facts.ts';

export type LinkState = 'connecting' | 'live' | 'lost' | 'conflict' | 'behind' | 'refused' | 'no-host';

export const EMPTY_VIEW: HostView = { seq: 0, ts: 0, actors: [], incidents: [], faults: [] };

export interface CommandLog {
  id: number;
  req: CommandRequest;
  at: number;
  result?: CommandResult;
  error?: string;
}

/**
 * The store cannot commit because storage is full (IndexedDB quota or disk):
 * recording into this store is paused until a retry commits again.
 */
export interface StorePause {
  /** Why, in a person's words (from the browser's error). */
  detail: string;
  /** When the pause began (ms since the epoch). */
  since: number;
  /** Retries made so far. */
  retries: number;
  /** When the next retry is due (ms since the epoch), and the wait before it (doubles up to STORE_RETRY.maxMs). */
  nextRetry: number;
  waitMs: number;
  /** The host has been told (storeStatus full). */
  reported: boolean;
}

/** Backoff between retries while the store is full: the first wait, doubled each time up to the last. */
export const STORE_RETRY = { firstMs: 2000, maxMs: 30_000 } as const;

/** How many records of history the facts fold reads at start (the newest ones). */
const FACTS_START = 200_000;

export class HostLink {
  state = $state<LinkState>('connecting');
  /** What a person should know about the link (why it is not live, what to do). */
  message = $state<string | undefined>(undefined);
  status = $state.raw<HostStatus | null>(null);
  /** Highest seq committed to the store. */
  tail = $state(0);
  view = $state.raw<HostView>(EMPTY_VIEW);
  /** Bumped whenever facts change (facts themselves are a plain object). */
  factsVersion = $state(0);
  commands = $state.raw<CommandLog[]>([]);
  /** ts of the newest record committed. */
  lastTs = $state(0);
  /** Set while storage is full: nothing is appended or acked; the host keeps every record in its outbox meanwhile. */
  storePause = $state.raw<StorePause | null>(null);

  readonly facts = new HostFacts();
  private engine: ReplayEngine;
  private queue: Promise<void> = Promise.resolve();
  private anchor: { seq: number; prev: string } | undefined;
  private unsubs: (() => void)[] = [];
  private listeners = new Set<(batch: XRecord[]) => void>();
  private nextCmd = 1;
  private incidentCount = 0;
  private stopped = false;

  private heartbeat: ReturnType<typeof setInterval> | undefined;
  /** The batch whose commit hit full storage: a retry commits it again (it is the probe that space is back). */
  private held: { records: XRecord[]; anchor: { seq: number; prev: string } | undefined } | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryWait = 0;
  /** The last failure of a retry that was not storage full (reported once, not at every retry). */
  private lastRetryError: string | undefined;
  /** After a resume: batches pushed before the host re-sends from the store's tail may not chain; they are dropped, not refused. */
  private awaitingResend = false;

  constructor(
    private readonly api: Api | null,
    readonly db: AppDb,
    private readonly opts: {
      onError?: (e: unknown) => void;
      heartbeatMs?: number;
      answerMs?: number;
      /** Backoff of the retries while storage is full (default STORE_RETRY). */
      retry?: { firstMs: number; maxMs: number };
    } = {},
  ) {
    this.engine = new ReplayEngine(db);
    if (!api) this.state = 'no-host';
  }

  /** Called with every committed batch (the timeline extends its filtered rows with it). */
  onBatch(fn: (batch: XRecord[]) => void): () => void {
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }

  /** Load what the store holds, then connect to the host. */
  async start(): Promise<void> {
    const tail = await readTail(this.db);
    this.tail = tail.seq;
    await this.foldStored(tail.seq);
    if (!this.api) return;
    this.unsubs.push(
      this.api.on('records', ({ records }) => this.enqueue(records as XRecord[])),
      this.api.on('status', (s) => {
        this.status = s;
      }),
    );
    await this.connect();
    const every = this.opts.heartbeatMs ?? 5000;
    if (every > 0) this.heartbeat = setInterval(() => void this.check(), every);
  }

  /** Ask the host for its status: no answer in time means the link is down (the transport reconnects by itself). */
  async check(): Promise<void> {
    if (!this.api || this.stopped) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const s = await Promise.race([
        this.api.status(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no answer')), this.opts.answerMs ?? 3000))),
      ]);
      this.status = s;
      // Back after a loss: report the tail again so nothing pushed meanwhile is missed.
      if (this.state === 'lost') await this.connect();
    } catch (e) {
      if (this.state === 'live' || this.state === 'connecting') {
        const why = (e as Error).message;
        this.lost(`The connection to the host was lost${/lost/.test(why) ? '' : ` (${why})`}. Xendeck keeps trying to reconnect; check that xendeck serve or the app is still running. History recorded so far is safe in this browser.`);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** (Re)connect: report the store's tail; the host answers with what it will send. */
  async connect(): Promise<void> {
    if (!this.api || this.stopped) return;
    this.state = 'connecting';
    let res: ConnectResult;
    try {
      const tail = await readTail(this.db);
      res = await this.api.connect({ tail });
    } catch (e) {
      this.state = 'lost';
      this.message = `The host did not answer (${(e as Error).message}). Xendeck reconnects by itself; check that xendeck serve or the app is still running.`;
      return;
    }
    this.status = res.host;
    this.anchor = res.anchor;
    if (res.status === 'ok') {
      this.state = 'live';
      this.message = undefined;
    } else if (res.status === 'behind') {
      this.state = 'behind';
      this.message = res.message ?? 'This store misses records the host no longer holds: history here has a gap. Export what you have, then start a new store to follow the host again.';
    } else {
      this.state = 'conflict';
      this.message = res.message ?? 'This store holds another host history than the one the host is recording. Export it if you need it, then start a new store to follow this host.';
    }
  }

  /** The connection was re-opened (serve restarted, laptop woke up). */
  reconnected(): void {
    void this.connect();
  }

  lost(why: string): void {
    this.state = 'lost';
    this.message = why;
  }

  private enqueue(records: XRecord[]): void {
    if (!records.length) return;
    this.queue = this.queue.then(() => this.commit(records)).catch((e) => this.opts.onError?.(e));
  }

  private async commit(records: XRecord[]): Promise<void> {
    // Paused: the host keeps these in its outbox and re-sends them after the resume.
    if (this.storePause || this.stopped) return;
    if (this.awaitingResend && records[0].seq > this.tail + 1) return;
    const anchor = this.anchor;
    let r: AppendResult;
    try {
      r = await appendEvents(this.db, records, anchor ? { anchor } : {});
    } catch (e) {
      // Storage full, or a transaction aborted without a cause: nothing of the batch was written; pause and retry.
      const why = storageFullReason(e) ?? abortedReason(e);
      if (why === null) throw e;
      this.pause(why, records, anchor);
      return;
    }
    await this.committed(records, r);
  }

  /** What follows a commit (or a refusal): ack, facts, live view, listeners. */
  private async committed(records: XRecord[], r: AppendResult): Promise<void> {
    if (!r.ok) {
      this.state = 'refused';
      this.message = `The store refused a batch from the host at seq ${r.refusal.seq}: ${r.refusal.message}. Nothing of that batch was written.`;
      return;
    }
    this.anchor = undefined;
    this.awaitingResend = false;
    if (this.state === 'refused') this.state = 'live';
    if (r.appended > 0 || r.duplicates > 0) await this.api?.ack({ seq: r.ack }).catch(() => undefined);
    const fresh = records.filter((x) => x.seq > this.facts.seq);
    for (const x of fresh) this.facts.apply(x);
    if (fresh.length) this.factsVersion++;
    this.tail = r.ack;
    const last = records[records.length - 1];
    if (last.ts > this.lastTs) this.lastTs = last.ts;
    await this.refreshView();
    for (const fn of this.listeners) fn(fresh);
  }

  // Storage full -----------------------------------------------------------------------

  /**
   * A commit hit full storage: stop appending and acking, drop what is queued (the host keeps
   * every unacked record in its outbox), tell the host, and retry with backoff.
   */
  private pause(detail: string, records: XRecord[], anchor: { seq: number; prev: string } | undefined): void {
    this.held = { records, anchor };
    this.retryWait = (this.opts.retry ?? STORE_RETRY).firstMs;
    this.storePause = { detail, since: Date.now(), retries: 0, nextRetry: Date.now() + this.retryWait, waitMs: this.retryWait, reported: false };
    // Batches already queued return at once (paused); nothing new is queued behind a retry.
    void this.report();
    this.schedule();
  }

  private async report(): Promise<void> {
    const p = this.storePause;
    if (!p || p.reported || !this.api) return;
    try {
      await this.api.storeStatus({ state: 'full', detail: p.detail.slice(0, 500) });
      if (this.storePause === p) this.storePause = { ...p, reported: true };
    } catch {
      // The host is out of reach: the next retry tells it again.
    }
  }

  private schedule(): void {
    clearTimeout(this.retryTimer);
    if (this.stopped || !this.storePause) return;
    this.retryTimer = setTimeout(() => void this.retryNow(), this.retryWait);
  }

  /**
   * Try the held batch again now (a person's "Try again", or the backoff timer). On success the
   * host is told, and the store reconnects with its tail so the host re-sends what it holds.
   * Resolves to whether storage took the batch.
   */
  retryNow(): Promise<boolean> {
    const run = this.queue.then(() => this.retry());
    this.queue = run.then(() => undefined).catch((e) => this.opts.onError?.(e));
    return run.catch(() => false);
  }

  private async retry(): Promise<boolean> {
    const p = this.storePause;
    const held = this.held;
    if (!p || !held || this.stopped) return !p;
    clearTimeout(this.retryTimer);
    let r: AppendResult;
    try {
      // On a full disk Chromium closes the connection ("Connection is closing because of: IO error"): open it again.
      if (!this.db.isOpen()) await this.db.open();
      r = await appendEvents(this.db, held.records, held.anchor ? { anchor: held.anchor } : {});
    } catch (e) {
      // Still paused whatever the failure: the host keeps the records, and a later retry may succeed.
      const why = storageFullReason(e);
      if (why === null && abortedReason(e) === null) {
        const msg = String((e as Error)?.message ?? e);
        if (msg !== this.lastRetryError) this.opts.onError?.(e);
        this.lastRetryError = msg;
      }
      const { maxMs } = this.opts.retry ?? STORE_RETRY;
      this.retryWait = Math.min(maxMs, this.retryWait * 2);
      this.storePause = { ...p, detail: why ?? p.detail, retries: p.retries + 1, nextRetry: Date.now() + this.retryWait, waitMs: this.retryWait };
      await this.report();
      this.schedule();
      return false;
    }
    this.lastRetryError = undefined;
    this.held = null;
    // The host hears first (its status stops saying a store is full), then the banner goes.
    await this.api?.storeStatus({ state: 'ok' }).catch(() => undefined);
    this.storePause = null;
    try {
      await this.committed(held.records, r);
    } finally {
      // Report the tail (whatever showing the batch met): the host re-sends every record it holds after it,
      // those dropped while paused. The resend is queued behind this; once it has been taken, gaps are refused again.
      this.awaitingResend = true;
      void this.connect().then(() => {
        this.queue = this.queue.then(() => {
          this.awaitingResend = false;
        });
      });
    }
    return true;
  }

  /** Fold the stored history so the page shows the host as recorded before any push arrives. */
  private async foldStored(tail: number): Promise<void> {
    if (tail === 0) return;
    const stats = await readStats(this.db);
    const from = Math.max(stats.firstSeq, tail - FACTS_START + 1);
    let a = from;
    while (a <= tail) {
      const rows = await this.db.events.where('seq').between(a, tail, true, true).limit(5000).toArray();
      if (!rows.length) break;
      for (const x of rows) this.facts.apply(x);
      a = rows[rows.length - 1].seq + 1;
      if (rows.length) this.lastTs = Math.max(this.lastTs, rows[rows.length - 1].ts);
    }
    this.factsVersion++;
    await this.refreshView();
  }

  private refreshing = false;
  private again = false;
  private async refreshView(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return;
    }
    this.refreshing = true;
    try {
      do {
        this.again = false;
        const v = await this.seekTail();
        this.view = v;
        if (v.incidents.length !== this.incidentCount) {
          this.incidentCount = v.incidents.length;
          // Keep the stored incident list (with people's notes) in step with what the machines found.
          // With storage full it is rebuilt on a later change; the records it is derived from are safe.
          await rebuildIncidents(this.db, this.engine).catch((e) => {
            if (storageFullReason(e) === null && abortedReason(e) === null) this.opts.onError?.(e);
          });
        }
      } while (this.again);
    } finally {
      this.refreshing = false;
    }
  }

  /** The live view at the tail. With storage full the engine cannot keep its snapshots: fold without keeping them. */
  private async seekTail(): Promise<HostView> {
    try {
      return await this.engine.seek(this.tail);
    } catch (e) {
      if (storageFullReason(e) === null && abortedReason(e) === null) throw e;
      return new ReplayEngine(this.db, { persist: false }).seek(this.tail);
    }
  }

  /** A person's command; the result (and any error) is kept in `commands`. */
  async command(req: CommandRequest): Promise<CommandResult> {
    if (!this.api) throw new Error('no host: open the URL xendeck serve printed, or start the desktop app');
    const entry: CommandLog = { id: this.nextCmd++, req, at: Date.now() };
    this.commands = [entry, ...this.commands].slice(0, 50);
    try {
      const result = await this.api.command(req);
      this.update(entry.id, { result });
      return result;
    } catch (e) {
      const error = (e as Error).message;
      this.update(entry.id, { error });
      return { cmd: '', ok: false, error };
    }
  }

  private update(id: number, patch: Partial<CommandLog>): void {
    this.commands = this.commands.map((c) => (c.id === id ? { ...c, ...patch } : c));
  }

  /** Wait until every batch received so far is committed (tests). */
  settled(): Promise<void> {
    return this.queue;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retryTimer);
    for (const u of this.unsubs.splice(0)) u();
  }
}
