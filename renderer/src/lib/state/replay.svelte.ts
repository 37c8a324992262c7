/**
 * Replay: the UI at any point of history. A cursor over a store's seqs, moved
 * by seek, step, play (the player machine's ticks) and jumps to incidents;
 * the state at the cursor comes from the replay worker. Two marks give a diff.
 * `close()` returns to live. A store opened from a bundle is always shown
 * through here (it has no live side).
 */
import type { HostView, Incident } from '../../../../machines/host/router.ts';
import type { XRecord } from '../../../../machines/events/record.ts';
import { ReplayClient, workerTransport, type ReplayTransport } from '../replay/replay-client.ts';
import type { StateDiff } from '../replay/replay-engine.ts';
import { AppDb } from '../db/app-db.ts';
import { HostFacts } from '../model/host-facts.ts';
import { useActor, type ActorHandle } from '../actors/use-actor.svelte.ts';
import { playerMachine } from '../actors/player.machine.ts';

export interface ReplayOptions {
  transport?: () => ReplayTransport;
  /** Called when the cursor moves (the timeline follows it). */
  onMove?: (seq: number) => void;
}

export class ReplayState {
  /** Which store is being replayed (null: none, the UI is live). */
  dbName = $state<string | null>(null);
  view = $state.raw<HostView | null>(null);
  bounds = $state({ from: 1, to: 0 });
  cursor = $state(0);
  busy = $state(false);
  error = $state<string | undefined>(undefined);
  markA = $state<number | undefined>(undefined);
  markB = $state<number | undefined>(undefined);
  diff = $state.raw<StateDiff | null>(null);
  /** Every incident of the replayed history (for jumps and the scrubber's marks). */
  allIncidents = $state.raw<Incident[]>([]);
  /** The incident being replayed, if any. */
  incident = $state.raw<Incident | null>(null);
  /** Facts (memory, vCPUs, start times) of the replayed store, when it is not the live one. */
  facts = $state.raw<HostFacts | null>(null);

  readonly player: ActorHandle<typeof playerMachine>;
  private client: ReplayClient | null = null;
  private moving: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: ReplayOptions = {}) {
    this.player = useActor(
      playerMachine.provide({
        actions: {
          advance: () => void this.advance(),
        },
      }),
      { input: { speed: 1 } },
    );
  }

  get active(): boolean {
    return this.dbName !== null;
  }

  get playing(): boolean {
    return this.player.snapshot.matches({ history: 'playing' });
  }

  get speed(): number {
    return this.player.snapshot.context.speed;
  }

  /** Open a store at a seq (default: its tail, or its first record for a bundle). */
  async open(dbName: string, at?: number, opts: { facts?: HostFacts; startAtFirst?: boolean } = {}): Promise<void> {
    if (this.client && this.dbName !== dbName) await this.close();
    this.error = undefined;
    try {
      if (!this.client) {
        const { client } = await ReplayClient.open(dbName, this.opts.transport ? { transport: this.opts.transport() } : { transport: workerTransport() });
        this.client = client;
        this.bounds = { ...client.bounds };
        this.dbName = dbName;
        this.player.send({ type: 'player.open' });
        this.allIncidents = await client.incidents();
        if (opts.facts) this.facts = opts.facts;
        else if (dbName !== 'xendeck') this.facts = await foldFacts(dbName);
      }
      const target = at ?? (opts.startAtFirst ? this.bounds.from : this.bounds.to);
      await this.seek(target);
    } catch (e) {
      this.error = `Replay could not open this history: ${(e as Error).message}`;
      throw e;
    }
  }

  /** Refresh the range (the live store grew). */
  async refreshBounds(tail: number): Promise<void> {
    if (this.dbName === 'xendeck' && tail > this.bounds.to) {
      this.bounds = { ...this.bounds, to: tail };
      const c = this.client;
      const here = this.cursor;
      if (c) {
        const run = this.moving.then(async () => {
          this.allIncidents = await c.incidents();
          await c.seek(here);
        });
        this.moving = run.catch(() => undefined);
        await run;
      }
    }
  }

  async seek(seq: number): Promise<void> {
    const c = this.client;
    if (!c) return;
    const run = this.moving.then(async () => {
      this.busy = true;
      try {
        const v = await c.seek(seq);
        this.view = v;
        this.cursor = v.seq;
        this.opts.onMove?.(v.seq);
      } finally {
        this.busy = false;
      }
    });
    this.moving = run.catch(() => undefined);
    await run;
  }

  async step(n: number): Promise<void> {
    await this.seek(Math.max(this.bounds.from - 1, Math.min(this.bounds.to, this.cursor + n)));
  }

  private async advance(): Promise<void> {
    if (this.busy) return;
    if (this.cursor >= this.bounds.to) {
      this.player.send({ type: 'player.end' });
      return;
    }
    await this.step(1);
    if (this.cursor >= this.bounds.to) this.player.send({ type: 'player.end' });
  }

  play(): void {
    if (!this.active) return;
    if (this.cursor >= this.bounds.to) void this.seek(this.bounds.from - 1);
    this.player.send({ type: 'player.play' });
  }

  pause(): void {
    this.player.send({ type: 'player.pause' });
  }

  setSpeed(speed: number): void {
    this.player.send({ type: 'player.speed', speed });
  }

  /** Replay an incident: the cursor goes to just before its first record, paused. */
  async openIncident(dbName: string, i: Incident): Promise<void> {
    this.incident = i;
    await this.open(dbName, Math.max(0, i.from - 1));
    this.pause();
  }

  setMark(which: 'a' | 'b'): void {
    if (which === 'a') this.markA = this.cursor;
    else this.markB = this.cursor;
    this.diff = null;
  }

  async computeDiff(): Promise<void> {
    const c = this.client;
    if (!c || this.markA === undefined || this.markB === undefined) return;
    const a = this.markA;
    const b = this.markB;
    const here = this.cursor;
    const run = this.moving.then(async () => {
      this.diff = await c.diff(a, b);
      // diff moves the worker's position: bring it back to the cursor.
      this.view = await c.seek(here);
    });
    this.moving = run.catch(() => undefined);
    await run;
  }

  /** Back to live. */
  async close(): Promise<void> {
    this.player.send({ type: 'player.close' });
    const c = this.client;
    this.client = null;
    this.dbName = null;
    this.view = null;
    this.diff = null;
    this.markA = undefined;
    this.markB = undefined;
    this.incident = null;
    this.allIncidents = [];
    this.facts = null;
    await c?.close().catch(() => undefined);
  }
}

/** Facts of a store other than the live one (a bundle opened read-only). */
async function foldFacts(dbName: string): Promise<HostFacts> {
  const db = new AppDb(dbName);
  const facts = new HostFacts();
  try {
    await db.open();
    let a = 0;
    for (;;) {
      const rows: XRecord[] = await db.events.where('seq').above(a).limit(5000).toArray();
      if (!rows.length) break;
      for (const r of rows) facts.apply(r);
      a = rows[rows.length - 1].seq;
    }
  } finally {
    db.close();
  }
  return facts;
}
