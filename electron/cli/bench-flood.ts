/**
 * The flood load (issue 8, "Must show"): many simulated domains with six
 * devices each (console, two vbd, two vif, a xen-9pfsd share) booted at once
 * through the simulator, the real native helper and the live host; then one
 * guest floods its `data/` subtree while every other guest writes a key each
 * second and some of them shut down or reboot. Everything the host seals goes
 * through its outbox to a sink that acks each batch, as a store does.
 *
 * `runLoad` measures what the load test asserts and the benchmark prints:
 *  - for every write a well-behaved guest made: the simulated and wall time it
 *    was made, and when the host pushed its record to the sink (delay);
 *  - the flood: writes the simulator made, writes the host observed (the helper
 *    merges identical pending watch events and reads each value once), flood
 *    records sealed, and what the `dropped` summaries count;
 *  - resident memory (VmRSS) of this process and of the helper, sampled, plus
 *    their peaks (VmHWM).
 * `floodBench` (for `xendeck bench`) runs it twice in one run: with the flood
 * and, as the baseline, without it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Bench, BenchResult } from './bench.ts';
import { startRuntime, type Runtime } from '../host/runtime.ts';
import type { Simulator } from '../sim/sim.ts';
import type { SimDomain } from '../sim/host/host.ts';
import type { GuestInputConfig } from '../shared/guest-input.std.ts';
import { writeBundleFile } from '../shared/bundle-io.ts';
import { manifestFor } from '../../machines/events/bundle.ts';
import { machineVersions } from '../../machines/host/bindings.ts';
import { ZERO_HASH, type Observation, type XRecord } from '../../machines/events/record.ts';

export interface LoadOptions {
  /** Simulated domains, all booted at once (the first one floods). */
  domains: number;
  /** Flood writes per second (simulated), spread over `floodKeys` keys under `data/`. */
  floodRate: number;
  /** How long the flood runs (simulated ms); 0 = no flood (the baseline). */
  floodMs: number;
  floodKeys: number;
  /** Each other guest writes `data/tick` this often (simulated ms). */
  tickMs: number;
  /** Guests that reboot, and guests that power off, during the flood (never the flooding one). */
  reboots: number;
  poweroffs: number;
  /** Simulator time compression (1 = real time). */
  speed: number;
  /** Working directory (scenario, outbox). */
  dir: string;
  /** Limits on guest input, passed to the host. */
  guestInput?: Partial<GuestInputConfig>;
  /** Keep every sealed record (the load test checks and exports them). */
  keepRecords?: boolean;
  /** How often resident memory is sampled (wall ms). */
  sampleMs?: number;
  log?: (s: string) => void;
}

/** One write a well-behaved guest made, and when its record reached the sink. */
export interface QuietWrite {
  name: string;
  path: string;
  value: string;
  simMs: number;
  wallMs: number;
  /** When the host pushed the record (undefined: never). */
  pushedSimMs?: number;
  pushedWallMs?: number;
  /** When the host took in the observation (before the guest input filter). */
  observedWallMs?: number;
  seq?: number;
}

export interface Percentiles {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export interface LoadResult {
  options: Omit<LoadOptions, 'log'>;
  /** Wall ms for every domain's devices to connect after the creates were issued at once. */
  bootWallMs: number;
  devicesConnected: number;
  quiet: QuietWrite[];
  /** Delay from a well-behaved guest's write to its record pushed: simulated and wall ms. */
  delaySim: Percentiles;
  delayWall: Percentiles;
  /** Of which: from the write to the host taking in the observation (simulator, helper, pipe). */
  delayToHost: Percentiles;
  flood: {
    /** Writes the simulator made (each key counts 0, 1, 2, ...). */
    made: number;
    /** Guest writes under the flood keys that reached the host (after the helper merged pending events). */
    observed: number;
    /** Flood writes recorded as xs.write records. */
    recorded: number;
    /** Dropped summaries about the flooding domain, and the writes they count. */
    summaries: number;
    counted: number;
    /** Watch events of the flood that brought no new value (the helper folded them), counted as `repeat`. */
    repeats: number;
    /** Most flood records in any one second of record time. */
    maxPerSecond: number;
    /** First and last flood record ts (record clock, ms). */
    span: [number, number];
    /** Simulated and wall ms the flood phase took. */
    simMs: number;
    wallMs: number;
  };
  /** Records pushed to the sink while the flood phase ran, per wall second. */
  pipelineRecordsPerSec: number;
  /** Observations (before the guest input filter) the host took in per wall second during that phase. */
  pipelineObservationsPerSec: number;
  /** Simulated time the flood phase began. */
  phaseStartSimMs: number;
  /** The guests that rebooted or powered off during the flood phase, and when (simulated ms). */
  churn: Array<{ name: string; action: 'reboot' | 'poweroff'; simMs: number }>;
  records: XRecord[];
  recordCount: number;
  rss: { nodeMaxMB: number; nodePeakMB: number; helperMaxMB: number; helperPeakMB: number; samples: number };
  /** Simulated ms per wall ms over the flood phase (1 at speed 1 when the simulator keeps up). */
  simPace: number;
}

export const FLOODER = 'g000';

/** Steps of the flood (simulated ms): long enough to be paced by a timer, not skipped as a short wait. */
const FLOOD_STEP_MS = 10;

/**
 * The flooding guest: `rate` writes per simulated second, round robin over `keys` (each key gets
 * 0, 1, 2, ...), paced against the simulator's clock in steps of FLOOD_STEP_MS, so the rate holds
 * at any speed and the simulated clock cannot run ahead of real time on a chain of sub-millisecond
 * waits. Returns a cancel function; `made` hears the running total.
 */
export function flood(sim: Simulator, d: SimDomain, keys: string[], rate: number, ms: number, made: (n: number) => void): () => void {
  const g = sim.store.as(d.domid);
  const start = sim.clock.now();
  const next = keys.map(() => 0);
  let n = 0;
  let cancel = () => {};
  const step = () => {
    const elapsed = Math.min(ms, sim.clock.now() - start);
    const target = Math.floor((rate * elapsed) / 1000);
    try {
      while (n < target) {
        const k = n % keys.length;
        g.write(`/local/domain/${d.domid}/${keys[k]}`, String(next[k]++));
        n++;
      }
    } catch {
      return; // the guest is gone
    } finally {
      made(n);
    }
    if (elapsed < ms) cancel = sim.clock.after(FLOOD_STEP_MS, step);
  };
  step();
  return () => cancel();
}
const name = (i: number): string => `g${String(i).padStart(3, '0')}`;

/** The scenario: `domains` guests, six devices each, none started (they are created at once). */
export function loadScenario(domains: number): Record<string, unknown> {
  const files: Record<string, number> = {};
  const specs = [];
  for (let i = 0; i < domains; i++) {
    const n = name(i);
    files[`/var/lib/images/${n}-a.img`] = 8 << 30;
    files[`/var/lib/images/${n}-b.img`] = 1 << 30;
    specs.push({
      name: n,
      type: 'pv',
      memory: 256,
      vcpus: 1,
      disks: [
        { vdev: 'xvda', target: `/var/lib/images/${n}-a.img` },
        { vdev: 'xvdb', target: `/var/lib/images/${n}-b.img` },
      ],
      nics: 2,
      p9: [{ tag: 'share', path: `/srv/share/${n}` }],
      boot_ms: 500,
      autostart: false,
    });
  }
  return {
    format: 'xendeck-scenario',
    version: 1,
    name: `load-${domains}`,
    description: `${domains} guests with six devices each (console, two vbd, two vif, a xen-9pfsd share), created at once by the load driver`,
    host: { xen: '4.17.7', qemu: '7.2.22', profile: 'seed', files, dirs: specs.map((s) => s.p9[0].path) },
    domains: specs,
    steps: [],
  };
}

function vmKB(pid: number | 'self', field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function percentiles(xs: number[]): Percentiles {
  if (xs.length === 0) return { n: 0, p50: 0, p99: 0, max: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const pathOf = (o: { data: unknown }): string | undefined => (o.data as { path?: string } | null)?.path;
const FRONT_STATE = /^\/local\/domain\/\d+\/device\/[^/]+\/\d+\/state$/;
const TICK = /^\/local\/domain\/(\d+)\/data\/tick$/;

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const log = o.log ?? (() => {});
  mkdirSync(o.dir, { recursive: true });
  const scenarioFile = join(o.dir, `load-${o.domains}.json`);
  writeFileSync(scenarioFile, JSON.stringify(loadScenario(o.domains)));
  const rt: Runtime = await startRuntime({ mode: 'record', sim: { scenario: scenarioFile, speed: o.speed }, dataDir: join(o.dir, 'data'), host: { guestInput: o.guestInput ?? {} } });
  const sim = rt.sim as unknown as Simulator;
  const host = rt.host;
  const clock = sim.clock;

  // What the well-behaved guests wrote, by "path=value" (a path carries the domid: a reboot gives a new one).
  const quiet: QuietWrite[] = [];
  const pending = new Map<string, QuietWrite>();
  const records: XRecord[] = [];
  let recordCount = 0;
  let pushedRecords = 0;
  /** Frontend state nodes recorded at Connected. */
  const frontsUp = new Set<string>();
  const floodPrefix = `/local/domain/`;
  let flooderDomid = -1;
  /** Record ts of each flood record, and the dropped summaries about the flooding guest. */
  const floodTs: number[] = [];
  let summaries = 0;
  let counted = 0;
  let repeats = 0;
  const isFlood = (p: string | undefined): boolean => !!p && p.startsWith(`${floodPrefix}${flooderDomid}/data/flood`);

  let stopping = false;
  // The sink: a store that acks every batch it gets, from seq 1.
  const sink = {
    push(b: XRecord[]) {
      const simNow = clock.now();
      const wallNow = performance.now();
      for (const r of b) {
        recordCount++;
        pushedRecords++;
        if (o.keepRecords) records.push(r);
        if (r.type === 'dropped' && r.domid === flooderDomid) {
          summaries++;
          // Repeats are watch events that brought no value to record (folded by the helper): counted apart,
          // since they never reached the filter as observations.
          if ((r.data as { reason: string }).reason === 'repeat') repeats += (r.data as { count: number }).count;
          else counted += (r.data as { count: number }).count;
        }
        if (r.type !== 'xs.write') continue;
        const p = pathOf(r);
        if (isFlood(p)) floodTs.push(r.ts);
        if (p && FRONT_STATE.test(p) && (r.data as { value: string }).value === '4') frontsUp.add(p);
        if (!p || !TICK.test(p)) continue;
        const w = pending.get(`${p}=${(r.data as { value: string }).value}`);
        if (!w || w.seq !== undefined) continue;
        w.pushedSimMs = simNow;
        w.pushedWallMs = wallNow;
        w.seq = r.seq;
      }
      // Acked after the push returns, as a store acks once it has committed (asynchronously).
      const last = b[b.length - 1].seq;
      queueMicrotask(() => {
        if (!stopping) host.ack(last);
      });
    },
  };
  host.connect(sink, { seq: 0, hash: ZERO_HASH });

  // Observations entering the host (before the guest input filter): the helper's side of the funnel.
  let observed = 0;
  let observedFlood = 0;
  const observe = host.observe.bind(host);
  host.observe = (obs: Observation[]) => {
    observed += obs.length;
    for (const x of obs) {
      if (x.type !== 'xs.write') continue;
      const p = pathOf(x);
      if (isFlood(p)) observedFlood++;
      else if (p && TICK.test(p)) {
        const w = pending.get(`${p}=${(x.data as { value: string }).value}`);
        if (w && w.observedWallMs === undefined) w.observedWallMs = performance.now();
      }
    }
    observe(obs);
  };

  // Resident memory, sampled.
  const rss = { nodeMaxMB: 0, nodePeakMB: 0, helperMaxMB: 0, helperPeakMB: 0, samples: 0 };
  const sample = () => {
    rss.samples++;
    rss.nodeMaxMB = Math.max(rss.nodeMaxMB, vmKB('self', 'VmRSS') / 1024);
    const pid = host.helperProcess?.pid;
    if (pid) {
      rss.helperMaxMB = Math.max(rss.helperMaxMB, vmKB(pid, 'VmRSS') / 1024);
      rss.helperPeakMB = Math.max(rss.helperPeakMB, vmKB(pid, 'VmHWM') / 1024);
    }
  };
  const sampler = setInterval(sample, o.sampleMs ?? 250);

  const stopTicks: Array<() => void> = [];
  let floodKeys: string[] = [];
  let floodMade = 0;
  let phaseStart = 0;
  const churned: LoadResult['churn'] = [];
  let floodSim = 0;
  let floodWall = 0;
  let pipeRecs = 0;
  let pipeObs = 0;
  let bootWallMs = 0;
  let devicesConnected = 0;
  try {
    await host.whenReady();
    const names = Array.from({ length: o.domains }, (_, i) => name(i));

    // Boot: every guest created at once.
    log(`creating ${o.domains} guests at once`);
    const b0 = performance.now();
    const created = await Promise.all(names.map((n) => sim.xl(['create', n])));
    const failed = created.map((r, i) => [names[i], r] as const).filter(([, r]) => r.code !== 0);
    if (failed.length) throw new Error(`xl create failed for ${failed.length} guests: ${failed[0][0]}: ${failed[0][1].stderr.trim()}`);
    // Connected: every backend of every guest at state 4 (console has no xenbus state).
    const backendsUp = () => {
      let n = 0;
      for (const d of sim.host.domains.values()) for (const dev of d.devices) if (dev.kind !== 'console' && sim.store.as(0).read(`${dev.be}/state`) === '4') n++;
      return n;
    };
    const want = o.domains * 5;
    await until(() => backendsUp() >= want, `${want} backends connected`, 120_000);
    bootWallMs = performance.now() - b0;
    devicesConnected = [...sim.host.domains.values()].reduce((n, d) => n + d.devices.length, 0);
    // ...and the host has recorded every frontend reaching Connected.
    await until(() => frontsUp.size >= want, 'every frontend recorded Connected', 60_000);
    log(`${o.domains} guests, ${devicesConnected} devices connected in ${(bootWallMs / 1000).toFixed(1)} s (wall)`);
    // The boot settles (guest agents, the 9pfs daemon, log follows): no record for a second, or 20 s at most.
    const settle0 = performance.now();
    for (let last = recordCount, quietSince = performance.now(); performance.now() - quietSince < 1000 && performance.now() - settle0 < 20_000; ) {
      await sleep(100);
      if (recordCount !== last) {
        last = recordCount;
        quietSince = performance.now();
      }
    }
    log(`settled in ${((performance.now() - settle0) / 1000).toFixed(1)} s`);

    // Well-behaved guests: one write each tickMs, staggered over the period.
    // The guest's running domain (after a reboot, the new one: the old may linger while it is torn down).
    const dom = (n: string): SimDomain | undefined => [...sim.host.domains.values()].find((d) => d.name === n && !d.dying && !d.shutdown && d.booted);
    const counter = new Map<string, number>();
    const halted = new Set<string>();
    const tickOne = (n: string) => {
      const d = halted.has(n) ? undefined : dom(n);
      if (d) {
        const k = (counter.get(n) ?? 0) + 1;
        const path = `/local/domain/${d.domid}/data/tick`;
        const w: QuietWrite = { name: n, path, value: String(k), simMs: clock.now(), wallMs: performance.now() };
        try {
          sim.host.frontendWrite(d, 'data/tick', w.value);
          counter.set(n, k);
          quiet.push(w);
          pending.set(`${path}=${w.value}`, w);
        } catch {
          // the guest went away between the check and the write: nothing was written
        }
      }
      stopTicks.push(clock.after(o.tickMs, () => tickOne(n)));
    };
    const others = names.slice(1);
    others.forEach((n, i) => stopTicks.push(clock.after((o.tickMs * i) / others.length, () => tickOne(n))));

    // The flood, beside them.
    const flooder = sim.host.find(FLOODER)!;
    flooderDomid = flooder.domid;
    floodKeys = Array.from({ length: o.floodKeys }, (_, k) => `data/flood${k}`);
    const s0 = clock.now();
    phaseStart = s0;
    const w0 = performance.now();
    const r0 = pushedRecords;
    const ob0 = observed;
    const phaseMs = o.floodMs > 0 ? o.floodMs : 10_000;
    if (o.floodMs > 0) stopTicks.push(flood(sim, flooder, floodKeys, o.floodRate, o.floodMs, (n) => (floodMade = n)));

    // Some guests shut down or reboot while it runs (their ticks pause 1 s before, so no write races the teardown).
    const churn = others.slice(-(o.reboots + o.poweroffs));
    churn.forEach((n, i) => {
      // Between 20% and 70% of the phase: each guest has written before, and a rebooted one writes again after.
      const at = phaseMs * (0.2 + (0.5 * i) / Math.max(1, churn.length - 1));
      const reboot = i < o.reboots;
      stopTicks.push(clock.after(Math.max(0, at - 1000), () => halted.add(n)));
      stopTicks.push(
        clock.after(at, () => {
          sim.host.guestDo(n, 'shutdown', reboot ? 'reboot' : 'poweroff');
          // A rebooted guest writes again once it is back (new domid).
          churned.push({ name: n, action: reboot ? 'reboot' : 'poweroff', simMs: clock.now() });
          // (ticks skip the guest until its new domain has booted)
          if (reboot) stopTicks.push(clock.after(1000, () => halted.delete(n)));
        }),
      );
    });

    await clock.sleep(phaseMs);
    await clock.sleep(20); // the flood's last step
    floodSim = clock.now() - s0;
    floodWall = performance.now() - w0;
    pipeRecs = pushedRecords - r0;
    pipeObs = observed - ob0;
    for (const s of stopTicks.splice(0)) s();
    halted.clear();
    for (const n of names) halted.add(n);
    // Every write a well-behaved guest made reaches the sink (bounded wait; the test asserts none is missing).
    await until(() => quiet.every((w) => w.seq !== undefined), 'the well-behaved guests\' writes recorded', 30_000).catch(() => undefined);
    sample();
  } finally {
    clearInterval(sampler);
    stopping = true;
    await rt.stop(); // drains the guest input filter: pending summaries and held values are sealed and pushed
  }
  rss.nodePeakMB = vmKB('self', 'VmHWM') / 1024;

  const made = floodMade;
  let maxPerSecond = 0;
  for (let i = 0, j = 0; j < floodTs.length; j++) {
    while (floodTs[j] - floodTs[i] >= 1000) i++;
    maxPerSecond = Math.max(maxPerSecond, j - i + 1);
  }
  const done = quiet.filter((w) => w.seq !== undefined);
  const { log: _log, ...options } = o;
  return {
    options,
    bootWallMs,
    devicesConnected,
    quiet,
    delaySim: percentiles(done.map((w) => w.pushedSimMs! - w.simMs)),
    delayWall: percentiles(done.map((w) => w.pushedWallMs! - w.wallMs)),
    delayToHost: percentiles(done.filter((w) => w.observedWallMs !== undefined).map((w) => w.observedWallMs! - w.wallMs)),
    flood: {
      made,
      observed: observedFlood,
      recorded: floodTs.length,
      summaries,
      counted,
      repeats,
      maxPerSecond,
      span: floodTs.length ? [floodTs[0], floodTs[floodTs.length - 1]] : [0, 0],
      simMs: floodSim,
      wallMs: floodWall,
    },
    pipelineRecordsPerSec: floodWall > 0 ? pipeRecs / (floodWall / 1000) : 0,
    pipelineObservationsPerSec: floodWall > 0 ? pipeObs / (floodWall / 1000) : 0,
    churn: churned,
    phaseStartSimMs: phaseStart,
    records,
    recordCount,
    rss,
    simPace: floodWall > 0 ? floodSim / floodWall : 0,
  };
}

/** Writes what a load run recorded as a bundle (for `xendeck verify`). */
export async function writeLoadBundle(file: string, recs: XRecord[]): Promise<void> {
  const m = manifestFor(recs, { host: { hostname: hostname(), xen: 'simulated' }, created: new Date().toISOString(), machines: machineVersions() });
  await writeBundleFile(file, m, recs);
}

/** One line of figures for a run. */
export function describeLoad(r: LoadResult): string {
  const f = r.flood;
  const ms = (p: Percentiles) => `p50 ${p.p50.toFixed(1)} / p99 ${p.p99.toFixed(1)} / max ${p.max.toFixed(1)} ms (n=${p.n})`;
  return [
    `boot: ${r.options.domains} guests, ${r.devicesConnected} devices connected in ${(r.bootWallMs / 1000).toFixed(1)} s wall`,
    `quiet guests: ${r.delayWall.n} of ${r.quiet.length} writes recorded; delay, write → record pushed: sim ${ms(r.delaySim)}; wall ${ms(r.delayWall)}; of which write → host took it in: wall ${ms(r.delayToHost)}`,
    `worst: ${[...r.quiet].filter((w) => w.seq !== undefined).sort((a, b) => b.pushedWallMs! - b.wallMs - (a.pushedWallMs! - a.wallMs)).slice(0, 6).map((w) => `${w.name}#${w.value} at +${((w.simMs - r.phaseStartSimMs) / 1000).toFixed(2)}s: ${(w.pushedWallMs! - w.wallMs).toFixed(0)} ms`).join(', ')}; never recorded: ${r.quiet.filter((w) => w.seq === undefined).map((w) => `${w.name}#${w.value} at +${((w.simMs - r.phaseStartSimMs) / 1000).toFixed(2)}s`).join(', ') || 'none'}`,
    `flood: made ${f.made}, observed ${f.observed}, recorded ${f.recorded}, ${f.summaries} dropped summaries counting ${f.counted} (+ ${f.repeats} events folded by the helper, counted as repeat); most flood records in 1 s ${f.maxPerSecond}; ${(f.simMs / 1000).toFixed(1)} s sim in ${(f.wallMs / 1000).toFixed(1)} s wall`,
    `pipeline during the flood phase: ${Math.round(r.pipelineRecordsPerSec)} records/s pushed, ${Math.round(r.pipelineObservationsPerSec)} observations/s in; ${r.recordCount} records in all`,
    `RSS: node max ${r.rss.nodeMaxMB.toFixed(0)} MB (peak ${r.rss.nodePeakMB.toFixed(0)}), helper max ${r.rss.helperMaxMB.toFixed(1)} MB (peak ${r.rss.helperPeakMB.toFixed(1)}), ${r.rss.samples} samples`,
  ].join('\n');
}

/**
 * Bench: the same load with and without the flood, one run each (about a minute in all):
 *  - flood-pipeline: records/s sealed and pushed to the acking sink while 100 guests run and one
 *    floods data/ at 10,000 writes/s, against the same pipeline without the flood; the notes give
 *    the funnel (writes made, observed by the host after the helper merged identical pending
 *    events, recorded, counted in dropped summaries) and the observations/s the host took in;
 *  - flood-latency: the well-behaved guests' worst write-to-push latency (wall ms) with the flood,
 *    against the worst without it; p50/p99 and the simulated-clock figures in the notes.
 */
export const floodBench: Bench = {
  name: 'flood',
  async run(ctx): Promise<BenchResult[]> {
    const base = { domains: 100, floodRate: 10_000, floodKeys: 4, tickMs: 1000, reboots: 3, poweroffs: 3, speed: 1, log: ctx.log };
    const off = await runLoad({ ...base, floodMs: 0, dir: join(ctx.dir, 'flood-off') });
    ctx.log(`without the flood:\n${describeLoad(off)}`);
    const on = await runLoad({ ...base, floodMs: 15_000, dir: join(ctx.dir, 'flood-on') });
    ctx.log(`with the flood:\n${describeLoad(on)}`);
    const ms = (p: Percentiles) => ({ p50: +p.p50.toFixed(1), p99: +p.p99.toFixed(1), max: +p.max.toFixed(1), n: p.n });
    const lost = (r: LoadResult) => r.quiet.filter((w) => w.seq === undefined).length;
    return [
      {
        name: 'flood-pipeline',
        figure: Math.round(on.pipelineRecordsPerSec),
        unit: 'records/s',
        baseline: Math.round(off.pipelineRecordsPerSec),
        baselineLabel: 'same pipeline, no flood',
        ratio: on.pipelineRecordsPerSec / Math.max(1, off.pipelineRecordsPerSec),
        notes: {
          floodWritesPerSec: Math.round(on.flood.made / (on.flood.simMs / 1000)),
          made: on.flood.made,
          observed: on.flood.observed,
          recorded: on.flood.recorded,
          counted: on.flood.counted,
          summaries: on.flood.summaries,
          observationsPerSec: Math.round(on.pipelineObservationsPerSec),
          baselineObservationsPerSec: Math.round(off.pipelineObservationsPerSec),
          simSecondsPerWallSecond: +on.simPace.toFixed(2),
          nodeRssMB: Math.round(on.rss.nodeMaxMB),
          helperRssMB: +on.rss.helperMaxMB.toFixed(1),
        },
      },
      {
        name: 'flood-latency',
        figure: +on.delayWall.max.toFixed(1),
        unit: 'ms',
        baseline: +off.delayWall.max.toFixed(1),
        baselineLabel: 'worst without the flood',
        ratio: off.delayWall.max / Math.max(0.1, on.delayWall.max),
        notes: { wall: ms(on.delayWall), sim: ms(on.delaySim), baselineWall: ms(off.delayWall), lost: lost(on), baselineLost: lost(off) },
      },
    ];
  },
};
