/**
 * Putting a live host together, for the CLI (serve, record, demo) and the
 * Electron shell: where the helper binary is, how it is started (pkexec on a
 * real host; directly and unelevated, pointed at the simulator's sockets, with
 * `--sim`), and the simulator itself when asked for.
 */
import { existsSync } from 'node:fs';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LiveHost, type HostOptions, type LogLevel } from './host.ts';
import { spawnHelper, type HelperLaunch } from './helper-client.ts';
import type { HostStatus } from '../shared/ipc-contract.std.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The repository root (for renderer/dist, native/build, the scenarios). */
export const REPO_ROOT = ROOT;

/** Where the deb package (and `make -C native install`) puts the helper; the polkit action names this exact path. */
export const INSTALLED_HELPER = '/usr/libexec/xendeck/xendeck-helper';

/**
 * The helper binary: $XENDECK_HELPER; for a real host the installed one (pkexec
 * only runs the path the polkit action names); else the packaged resource, or
 * the one `make -C native` builds.
 */
export function helperPath(resourcesPath?: string, elevated = false): string {
  const env = process.env.XENDECK_HELPER;
  if (env) return env;
  if (elevated && existsSync(INSTALLED_HELPER)) return INSTALLED_HELPER;
  if (resourcesPath) {
    const packaged = join(resourcesPath, 'xendeck-helper');
    if (existsSync(packaged)) return packaged;
  }
  return join(ROOT, 'native', 'build', 'xendeck-helper');
}

/** Where a scenario name or path points: a file, or `electron/sim/scenarios/<name>.json`. */
export function scenarioPath(nameOrFile: string | undefined): string {
  const n = nameOrFile ?? 'demo';
  if (n.includes('/') || n.endsWith('.json')) return resolve(n);
  return join(ROOT, 'electron', 'sim', 'scenarios', `${n}.json`);
}

/** The user data dir of the headless modes (Electron uses app.getPath('userData')). */
export function defaultDataDir(): string {
  const base = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(base, 'xendeck');
}

export interface RuntimeOptions {
  mode: HostStatus['mode'];
  /** Run against a simulated host playing this scenario (name or file). Undefined: the real host. */
  sim?: { scenario?: string; speed?: number; loop?: boolean | number } | undefined;
  /** Outbox and state; a throw-away dir for --sim when omitted. */
  dataDir?: string;
  helper?: string;
  resourcesPath?: string;
  awaitBase?: boolean;
  log?: (level: LogLevel, msg: string) => void;
  host?: Partial<HostOptions>;
}

export interface SimHandle {
  done: Promise<void>;
  /** `pass` ({pass, of, at}) as each pass of a looped scenario begins (electron/sim/sim.ts). */
  events: { on(e: 'pass', fn: (p: { pass: number; of: number | undefined; at: number }) => void): unknown };
  /** Passes of the scenario begun so far. */
  readonly passes: number;
  begin(): void;
  xenstoreSocket: string;
  xlPath: string;
  stop(): Promise<void>;
}

export interface Runtime {
  host: LiveHost;
  sim: SimHandle | null;
  dataDir: string;
  stop(): Promise<void>;
}

export class RuntimeError extends Error {}

export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const elevate = !o.sim && process.getuid?.() !== 0;
  const helper = o.helper ?? helperPath(o.resourcesPath, elevate);
  if (!existsSync(helper)) throw new RuntimeError(`the helper ${helper} is not built: run \`make -C native\` (or \`npm run setup\`)`);
  const cleanups: (() => Promise<void> | void)[] = [];
  let launch: HelperLaunch;
  let sim: SimHandle | null = null;
  let simEvents: { on(e: string, fn: (f: any) => void): unknown } | null = null;
  let simNow: (() => number) | null = null;
  let dataDir = o.dataDir;
  if (o.sim) {
    const file = scenarioPath(o.sim.scenario);
    if (!existsSync(file)) throw new RuntimeError(`no scenario ${o.sim.scenario ?? 'demo'} (looked for ${file})`);
    const dir = mkdtempSync(join(tmpdir(), 'xendeck-sim-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { startSimulator } = await import('../sim/sim.ts');
    const s = await startSimulator({ scenario: file, dir: join(dir, 'host'), speed: o.sim.speed ?? 1, deferStart: true, ...(o.sim.loop ? { loop: o.sim.loop } : {}) });
    sim = s;
    simEvents = s.events;
    // The record clock of a simulated host is its own clock: timeouts (a 10 s InitWait) happen in
    // simulated time, so a compressed run (--speed) records the same history as a real-time one.
    // Whole milliseconds (records carry integer ts): the simulated clock has sub-millisecond timers.
    // The wall clock as dom0 reads it: a scenario's clock-back fault steps it back (the host flags that).
    simNow = () => Math.floor(s.clock.wall());
    cleanups.unshift(() => s.stop());
    launch = { helperPath: helper, elevate: false, overrides: { xenstoreSocket: s.xenstoreSocket, qmpDir: s.qmpDir, xlPath: s.xlPath, logDir: s.logDir, lockDir: s.lockDir } };
    if (!dataDir) dataDir = join(dir, 'data');
  } else {
    launch = { helperPath: helper, elevate };
    if (!dataDir) dataDir = defaultDataDir();
  }
  const host = new LiveHost({
    dataDir,
    launch: () => spawnHelper(launch),
    user: userInfo().username,
    mode: o.mode,
    sim: !!o.sim,
    awaitBase: o.awaitBase ?? false,
    ...(simNow ? { now: simNow } : {}),
    ...(o.log ? { log: o.log } : {}),
    ...o.host,
  });
  // The scenario's helper-kill fault is the host's to carry out: the helper is its child.
  // The disk faults act on the filesystem of the host's data dir (a test's small tmpfs; never a real disk).
  simEvents?.on('fault', (f: { fault?: string }) => {
    if (f.fault === 'helper-kill') host.helperProcess?.kill('SIGKILL');
    else if (f.fault === 'disk-fill') fillDisk(dataDir!, (m) => o.log?.('warn', m));
    else if (f.fault === 'disk-free') rmSync(join(dataDir!, DISK_FILL_FILE), { force: true });
  });
  // What the simulated hypervisor reports that no dom0 interface shows (ioreq server operations,
  // reference section 6): recorded as the simulator's observations, src 'sim'.
  simEvents?.on('observation', (r: { src: 'sim'; type: string; domid: number; data: Record<string, unknown> }) => {
    host.observe([{ ts: host.now(), src: r.src, type: r.type, domid: r.domid, data: r.data }]);
  });
  await host.start();
  // The scenario plays once the host watches (after the helper's initial scan), so it is recorded whole.
  if (sim) {
    const s = sim;
    void host.whenReady().then(() => s.begin());
  }
  let stopped = false;
  return {
    host,
    sim,
    dataDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await host.stop();
      for (const c of cleanups) await c();
    },
  };
}

/** What the disk-fill fault writes in the data dir. */
export const DISK_FILL_FILE = 'disk-fill.bin';
/** The disk-fill fault refuses a filesystem larger than this: it is for a test's tmpfs, never a person's disk. */
export const DISK_FILL_MAX_FS = 256 * 1024 * 1024;

/** Fill the filesystem holding `dir` until it refuses a write (ENOSPC). */
export function fillDisk(dir: string, log: (m: string) => void): void {
  const fs = statfsSync(dir);
  const size = fs.blocks * fs.bsize;
  if (size > DISK_FILL_MAX_FS) {
    log(`disk-fill refused: ${dir} is on a filesystem of ${size} bytes (the fault fills only filesystems up to ${DISK_FILL_MAX_FS} bytes)`);
    return;
  }
  const fd = openSync(join(dir, DISK_FILL_FILE), 'a');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (let n = chunk.length; n >= 1; n = Math.floor(n / 2)) {
      try {
        for (;;) writeSync(fd, chunk, 0, n);
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOSPC') throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
}
