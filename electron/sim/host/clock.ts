/**
 * The simulator's clock: scenario and device timings are given in simulated
 * milliseconds and paced against real time divided by `speed`, so `--speed 50`
 * plays a 50 s scenario in about one second.
 *
 * Timers run as discrete events in due-time order. Each is released when the
 * scaled real time reaches its due time; a wait shorter than a millisecond of
 * real time is skipped (setImmediate). When the simulator falls behind (the
 * event loop cannot turn fast enough) simulated time lags instead of jumping:
 * `now()` is real time minus the current lag and never runs ahead of the next
 * pending event. So a chain of short steps keeps its simulated durations at
 * any speed, while sockets and other real-time inputs still see time pass.
 */
interface Timer {
  due: number;
  seq: number;
  fn: () => void;
}

export class SimClock {
  private readonly realStart = Date.now();
  private readonly queue: Timer[] = [];
  private logical: number;
  /** How far simulated time lags behind scaled real time (negative after skipping a short wait). */
  private lag = 0;
  private seq = 0;
  /** Total of the wall clock's steps back (see `wall`). */
  private back = 0;
  private handle: { kind: 'timeout'; h: NodeJS.Timeout } | { kind: 'immediate'; h: NodeJS.Immediate } | undefined;
  private stopped = false;

  constructor(
    readonly speed = 1,
    private readonly simStart = Date.now(),
  ) {
    if (!(speed > 0)) throw new Error(`speed must be > 0, got ${speed}`);
    this.logical = simStart;
  }

  private real(): number {
    return this.simStart + (Date.now() - this.realStart) * this.speed;
  }

  private virt(): number {
    return this.real() - this.lag;
  }

  /** Simulated wall-clock time in ms since the epoch. */
  now(): number {
    const next = this.queue.length ? this.queue[0].due : Infinity;
    return Math.max(this.logical, Math.min(this.virt(), next));
  }

  /**
   * The host's wall clock as dom0 reads it: simulated time, minus every step back a
   * `clock-back` fault made. Timers keep running on `now()`; only this reading jumps.
   */
  wall(): number {
    return this.now() - this.back;
  }

  /** The wall clock steps back by `ms`. */
  stepBack(ms: number): void {
    this.back += ms;
  }

  /** Simulated ms elapsed since the clock started. */
  elapsed(): number {
    return this.now() - this.simStart;
  }

  /** Runs fn after `ms` simulated milliseconds; returns a cancel function. */
  after(ms: number, fn: () => void): () => void {
    if (this.stopped) return () => undefined;
    const t: Timer = { due: this.now() + Math.max(0, ms), seq: this.seq++, fn };
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1].due > t.due || (this.queue[i - 1].due === t.due && this.queue[i - 1].seq > t.seq))) i--;
    this.queue.splice(i, 0, t);
    if (i === 0) this.arm();
    return () => {
      const k = this.queue.indexOf(t);
      if (k < 0) return;
      this.queue.splice(k, 1);
      if (k === 0) this.arm();
    };
  }

  /** Resolves after `ms` simulated milliseconds. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      this.after(ms, resolve);
    });
  }

  private disarm(): void {
    if (!this.handle) return;
    if (this.handle.kind === 'timeout') clearTimeout(this.handle.h);
    else clearImmediate(this.handle.h);
    this.handle = undefined;
  }

  private arm(): void {
    this.disarm();
    if (this.stopped || this.queue.length === 0) return;
    const wait = (this.queue[0].due - this.virt()) / this.speed;
    if (wait < 1) this.handle = { kind: 'immediate', h: setImmediate(() => this.tick()) };
    else this.handle = { kind: 'timeout', h: setTimeout(() => this.tick(), wait) };
  }

  private tick(): void {
    this.handle = undefined;
    const t = this.queue.shift();
    if (t) {
      this.logical = Math.max(this.logical, t.due);
      this.lag = this.real() - this.logical;
      try {
        t.fn();
      } finally {
        this.arm();
      }
    }
  }

  /** Cancels every pending timer; later `after` calls do nothing. */
  stop(): void {
    this.stopped = true;
    this.disarm();
    this.queue.length = 0;
  }
}
