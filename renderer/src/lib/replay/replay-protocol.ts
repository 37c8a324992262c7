/**
 * Messages between the replay client (in the page) and the replay worker. The
 * handler runs the same in the worker and in the page (tests, small stores).
 */
import type { HostView, Incident } from '../../../../machines/host/router.ts';
import { Dexie } from 'dexie';
import { AppDb } from '../db/app-db.ts';
import { ReplayEngine, type StateDiff } from './replay-engine.ts';

export type ReplayRequest =
  | { id: number; op: 'open'; db: string; snapshotEvery?: number }
  | { id: number; op: 'bounds' }
  | { id: number; op: 'seek'; seq: number }
  | { id: number; op: 'step'; n: number }
  | { id: number; op: 'diff'; a: number; b: number }
  | { id: number; op: 'incidents' }
  | { id: number; op: 'close' };

export interface ReplayResults {
  open: { from: number; to: number };
  bounds: { from: number; to: number };
  seek: HostView;
  step: HostView;
  diff: StateDiff;
  incidents: Incident[];
  close: null;
}

export type ReplayReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** One replay session: a store and an engine over it. */
export class ReplaySession {
  private db: AppDb | null = null;
  private engine: ReplayEngine | null = null;

  async handle(msg: ReplayRequest): Promise<ReplayReply> {
    try {
      return { id: msg.id, ok: true, result: await this.run(msg) };
    } catch (e) {
      return { id: msg.id, ok: false, error: (e as Error).message ?? String(e) };
    }
  }

  private need(): ReplayEngine {
    if (!this.engine) throw new Error('replay: open a store first');
    return this.engine;
  }

  private async run(msg: ReplayRequest): Promise<unknown> {
    switch (msg.op) {
      case 'open':
        // Opening a name that does not exist would create an empty store: refuse instead.
        if (!(await Dexie.exists(msg.db))) throw new Error(`replay: no store named ${msg.db}`);
        this.db?.close();
        this.db = new AppDb(msg.db);
        await this.db.open();
        this.engine = new ReplayEngine(this.db, { snapshotEvery: msg.snapshotEvery });
        return this.engine.bounds();
      case 'bounds':
        return this.need().bounds();
      case 'seek':
        return this.need().seek(msg.seq);
      case 'step':
        return this.need().step(msg.n);
      case 'diff':
        return this.need().diff(msg.a, msg.b);
      case 'incidents':
        return this.need().incidents();
      case 'close':
        this.db?.close();
        this.db = null;
        this.engine = null;
        return null;
      default:
        return missingCase(msg);
    }
  }
}

function missingCase(x: never): never {
  throw new Error(`replay: unknown request ${JSON.stringify(x)}`);
}
