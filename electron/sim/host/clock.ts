/**
 * The simulator's clock: scenario and device timings are given in simulated
 * milliseconds and run in real time divided by `speed`, so `--speed 50`
 * plays a 50 s scenario in one second. `now()` is the simulated wall clock
 * (ms since the epoch) that logs and xenstore values such as start_time use.
 */
export class SimClock {
  private readonly realStart = Date.now();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    readonly speed = 1,
    private readonly simStart = Date.now(),
  ) {
    if (!(speed > 0)) throw new Error(`speed must be > 0, got ${speed}`);
  }

  /** Simulated wall-clock time in ms since the epoch. */
  now(): number {
    return this.simStart + (Date.now() - this.realStart) * this.speed;
  }

  /** Simulated ms elapsed since the clock started. */
  elapsed(): number {
    return (Date.now() - this.realStart) * this.speed;
  }

  /** Runs fn after `ms` simulated milliseconds; returns a cancel function. */
  after(ms: number, fn: () => void): () => void {
    if (this.stopped) return () => undefined;
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        fn();
      },
      Math.max(0, ms / this.speed),
    );
    this.timers.add(t);
    return () => {
      clearTimeout(t);
      this.timers.delete(t);
    };
  }

  /** Resolves after `ms` simulated milliseconds. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      this.after(ms, resolve);
    });
  }

  /** Cancels every pending timer; later `after` calls do nothing. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
