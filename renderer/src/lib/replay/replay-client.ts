/**
 * The page's handle on a replay: seek, step, diff and incidents over one store,
 * answered by the replay worker (or in the page, for tests). A replay opened
 * on an imported bundle starts paused at its first record.
 */
import type { HostView, Incident } from '../../../../machines/host/router.ts';
import type { StateDiff } from './replay-engine.ts';
import { ReplaySession, type ReplayReply, type ReplayRequest, type ReplayResults } from './replay-protocol.ts';

type Body = ReplayRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface ReplayTransport {
  send(msg: ReplayRequest): void;
  onReply(fn: (r: ReplayReply) => void): void;
  terminate(): void;
}

/** Runs the replay in a module worker (the app). */
export function workerTransport(): ReplayTransport {
  const w = new Worker(new URL('./replay-worker.ts', import.meta.url), { type: 'module', name: 'xendeck-replay' });
  return {
    send: (m) => w.postMessage(m),
    onReply: (fn) => {
      w.onmessage = (ev: MessageEvent<ReplayReply>) => fn(ev.data);
    },
    terminate: () => w.terminate(),
  };
}

/** Runs the replay in the page, in order (tests, small stores). */
export function inPageTransport(): ReplayTransport {
  const s = new ReplaySession();
  let fn: (r: ReplayReply) => void = () => {};
  let queue: Promise<unknown> = Promise.resolve();
  return {
    send: (m) => {
      queue = queue.then(async () => fn(await s.handle(m)));
    },
    onReply: (f) => {
      fn = f;
    },
    terminate: () => {},
  };
}

export class ReplayClient {
  private nextId = 1;
  private waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** seq of the record the view shows (after it was applied). */
  position = -1;
  paused = true;
  bounds = { from: 1, to: 0 };
  private timer: ReturnType<typeof setTimeout> | null = null;

  private constructor(private readonly t: ReplayTransport) {
    t.onReply((r) => {
      const w = this.waiting.get(r.id);
      if (!w) return;
      this.waiting.delete(r.id);
      if (r.ok) w.resolve(r.result);
      else w.reject(new Error(r.error));
    });
  }

  /** Open a store by name; the replay is paused at its first record. */
  static async open(dbName: string, opts: { transport?: ReplayTransport; snapshotEvery?: number } = {}): Promise<{ client: ReplayClient; view: HostView }> {
    const c = new ReplayClient(opts.transport ?? workerTransport());
    c.bounds = await c.call<'open'>({ op: 'open', db: dbName, ...(opts.snapshotEvery ? { snapshotEvery: opts.snapshotEvery } : {}) });
    const view = await c.seek(c.bounds.from);
    return { client: c, view };
  }

  private call<K extends keyof ReplayResults>(body: Body & { op: K }): Promise<ReplayResults[K]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.t.send({ ...body, id } as ReplayRequest);
    });
  }

  async seek(seq: number): Promise<HostView> {
    const v = await this.call<'seek'>({ op: 'seek', seq });
    this.position = v.seq;
    return v;
  }

  async step(n = 1): Promise<HostView> {
    const v = await this.call<'step'>({ op: 'step', n });
    this.position = v.seq;
    return v;
  }

  diff(a: number, b: number): Promise<StateDiff> {
    return this.call<'diff'>({ op: 'diff', a, b });
  }

  incidents(): Promise<Incident[]> {
    return this.call<'incidents'>({ op: 'incidents' });
  }

  /** Step forward every `ms` until the end or `pause()`; `onView` sees each state. */
  play(onView: (v: HostView) => void, ms = 200): void {
    this.paused = false;
    const tick = async () => {
      if (this.paused) return;
      if (this.position >= this.bounds.to) {
        this.paused = true;
        return;
      }
      onView(await this.step(1));
      this.timer = setTimeout(tick, ms);
    };
    void tick();
  }

  pause(): void {
    this.paused = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  async close(): Promise<void> {
    this.pause();
    await this.call<'close'>({ op: 'close' });
    this.t.terminate();
  }
}
