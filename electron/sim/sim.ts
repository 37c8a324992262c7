/**
 * The simulated Xen host as one process-local service: the xenstore wire
 * server (electron/sim/xenstore/), the simulated toolstack, backends, QEMU and
 * guests (host/), QMP endpoints (qmp/), and the `xl` command (xl/) reached over
 * a control socket. `startSimulator` returns the paths the native helper
 * takes as overrides: --xenstore-socket, --qmp-dir, --xl, --log-dir, --lock-dir.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventEmitter } from 'node:events';
import { createSimXenstore, type SimXenstore } from './xenstore/store.ts';
import { startXenstoreServer, type XenstoreServer } from './xenstore/server.ts';
import { SimClock } from './host/clock.ts';
import { HostFs } from './host/hostfs.ts';
import { SimHost } from './host/host.ts';
import { startXlControl } from './xl/control.ts';
import { runXl, type XlResult } from './xl/xl-lib.ts';
import { parseScenario, type Scenario, type Step } from './scenarios/schema.ts';
import type { DomainSpecInput } from './host/types.ts';
import type { QmpListener } from './qmp/qmp-server.ts';
import { fdBridgeListener } from './qmp/fd-bridge.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Finds a file shipped beside this module (the `xl` script), also when this
 * module has been bundled elsewhere (e.g. out/main/ of the Electron build).
 */
export function simAsset(rel: string): string {
  const candidates = [path.join(here, rel), path.join(here, '..', '..', 'electron', 'sim', rel), path.join(process.cwd(), 'electron', 'sim', rel)];
  return candidates.find((c) => fs.existsSync(c)) ?? candidates[0];
}

export interface SimulatorOptions {
  /** A scenario file path or an already-parsed scenario. */
  scenario?: string | Scenario;
  /** Working directory for sockets, logs and locks (created if missing). */
  dir: string;
  /** Time compression: 1 = real time. */
  speed?: number;
  /** Where to serve xenstore (default `<dir>/xenstored.sock`). */
  socketPath?: string;
  /** Do not play the scenario's steps (domains are still created). */
  noSteps?: boolean;
  /**
   * Hold the scenario (autostart and steps) until `begin()` is called, so an observer that
   * connects first (the live host recording a scenario) sees every domain boot from the start.
   */
  deferStart?: boolean;
  /** Device model for HVM guests without a stub domain: simulated QEMU (default) or a real qemu-system-x86_64 (`--dm qemu`). */
  dm?: 'sim' | 'qemu';
  /** QMP listener; the python3 fd-passing bridge when python3 is there, else Node's own. */
  qmpListener?: QmpListener;
  /**
   * Play the scenario again and again (true: until stopped; a number: that many passes in all).
   * Between passes the host goes back to the scenario's start: every domain destroyed, the
   * scenario's xenstore nodes written again, its autostart domains created; simulated time runs on.
   */
  loop?: boolean | number;
}

/** A pass of a looped scenario begins (`pass` counts from 1; `at` is the simulated clock, ms since the epoch). */
export interface PassEvent {
  pass: number;
  of: number | undefined;
  at: number;
}

export interface Simulator {
  xenstoreSocket: string;
  xlPath: string;
  qmpDir: string;
  logDir: string;
  lockDir: string;
  host: SimHost;
  store: SimXenstore;
  clock: SimClock;
  /**
   * Emits `fault` ({fault, ...}) for faults the simulator cannot carry out itself (helper-kill),
   * `step` for each step played, `pass` (PassEvent) as each pass of a looped scenario begins
   * (once its domains are created), and `observation` ({src:'sim', type, domid, data}) for what only
   * the simulator sees (`ioreq.op`, machines/ioreq/README.md).
   */
  events: EventEmitter;
  /** Resolves when every scenario step has run (at once without a scenario); looped, after the last pass (with `loop: true`, once stopped). Also resolves on stop. */
  done: Promise<void>;
  /** Passes of the scenario begun so far (1 once it plays; more when looped). */
  readonly passes: number;
  /** Start a scenario held with `deferStart` (no-op otherwise, or when called again). */
  begin(): void;
  /** Runs xl in-process, as the `xl` script would. */
  xl(argv: string[]): Promise<XlResult>;
  stop(): Promise<void>;
}

function loadScenario(s: string | Scenario): Scenario {
  if (typeof s !== 'string') return s;
  return parseScenario(JSON.parse(fs.readFileSync(s, 'utf8')));
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const dir = path.resolve(opts.dir);
  const scenario = opts.scenario ? loadScenario(opts.scenario) : undefined;
  const logDir = path.join(dir, 'log');
  const qmpDir = path.join(dir, 'run');
  const lockDir = path.join(dir, 'lock');
  for (const d of [dir, logDir, qmpDir, lockDir]) fs.mkdirSync(d, { recursive: true });
  const xenstoreSocket = opts.socketPath ?? path.join(dir, 'xenstored.sock');
  const store = createSimXenstore();
  let server: XenstoreServer = await startXenstoreServer({ socketPath: xenstoreSocket, store });
  const clock = new SimClock(opts.speed ?? 1);
  const events = new EventEmitter();
  const simLog = (line: string) => fs.appendFileSync(path.join(logDir, 'xendeck-sim.log'), `[${Math.round(clock.elapsed())}] ${line}\n`);
  const fsys = new HostFs({ dirs: scenario?.host.dirs, files: { '/var/lib/images/disk.img': 20 << 30, '/var/lib/isos/tools.iso': 60 << 20, ...(scenario?.host.files ?? {}) } });
  const host = new SimHost({
    store,
    clock,
    logDir,
    qmpDir,
    lockDir,
    info: scenario ? { xen: scenario.host.xen, qemu: scenario.host.qemu, profile: scenario.host.profile } : undefined,
    fs: fsys,
    qmpListener: opts.qmpListener ?? fdBridgeListener(),
    dm: opts.dm,
    onEvent: simLog,
    onObservation: (rec) => events.emit('observation', rec),
  });
  const writeInitialNodes = () => {
    for (const [p, v] of Object.entries(scenario?.xenstore ?? {})) store.as(0).write(p, v);
  };
  writeInitialNodes();
  const specs = new Map<string, DomainSpecInput>((scenario?.domains ?? []).map((d) => [d.name, d]));
  const ctx = { host, specs };
  const controlSocket = path.join(dir, 'xl-control.sock');
  const control = await startXlControl(controlSocket, ctx);
  const xlPath = path.join(dir, 'xl');
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  // Inside Electron, execPath is the Electron binary (RunAsNode is fused off): use the system's node.
  const nodeBin = process.versions.electron ? 'node' : q(process.execPath);
  fs.writeFileSync(xlPath, `#!/bin/sh\nXENDECK_SIM_XL_SOCKET=${q(controlSocket)} exec ${nodeBin} ${q(simAsset(path.join('xl', 'xl')))} "$@"\n`, { mode: 0o755 });

  let release: () => void = () => {};
  const begun = opts.deferStart ? new Promise<void>((r) => (release = r)) : Promise.resolve();
  const createInitialDomains = async () => {
    for (const d of scenario?.domains ?? []) {
      if (!d.autostart || stopped) continue;
      const r = await runXl(ctx, ['create', d.name]);
      simLog(`autostart ${d.name}: exit ${r.code}${r.stderr ? ` ${r.stderr.trim()}` : ''}`);
    }
  };
  let stopped = false;
  const autostart = (async () => {
    await begun;
    await createInitialDomains();
  })();
  if (!opts.deferStart) await autostart;

  const play = async (step: Step): Promise<void> => {
    events.emit('step', step);
    simLog(`step ${JSON.stringify(step)}`);
    const dom = (name: string) => {
      const d = host.find(name);
      if (!d) simLog(`step skipped: no domain ${name}`);
      return d;
    };
    if ('xl' in step) {
      const r = await runXl(ctx, step.xl);
      simLog(`xl ${step.xl.join(' ')}: exit ${r.code}${r.stderr ? ` ${JSON.stringify(r.stderr.trim())}` : ''}`);
      return;
    }
    if ('guest' in step) {
      const [action, ...rest] = step.do.split(' ');
      host.guestDo(step.guest, action, step.arg ?? (rest.length ? rest.join(' ') : undefined));
      return;
    }
    switch (step.fault) {
      case 'qmp-change-fails': {
        const d = dom(step.domain);
        if (d?.dm) d.dm.changeFailures += step.count;
        return;
      }
      case 'backend-stall':
        host.armFault(step.domain, { backendStall: step.device });
        return;
      case 'hotplug-error':
        host.armFault(step.domain, { hotplugError: { device: step.device, message: step.message } });
        return;
      case 'frontend-write': {
        const d = dom(step.domain);
        if (d) host.frontendWrite(d, step.path, step.value);
        return;
      }
      case 'ioreq-create': {
        const d = dom(step.domain);
        for (let i = 0; d?.ioreq && i < step.count; i++) d.ioreq.create(step.emulator, 1);
        return;
      }
      case 'qemu-kill': {
        const d = dom(step.domain);
        if (d) host.qemuKill(d);
        return;
      }
      case 'guest-flood': {
        const d = dom(step.domain);
        if (d) host.guestFlood(d, step.path, step.rate, step.ms);
        return;
      }
      case 'xenstored-restart':
        await server.close();
        server = await startXenstoreServer({ socketPath: xenstoreSocket, store });
        return;
      case 'clock-back':
        clock.stepBack(step.ms);
        return;
      case 'helper-kill':
      case 'disk-fill':
      case 'disk-free':
        events.emit('fault', step);
        return;
    }
  };

  const steps = opts.noSteps ? [] : [...(scenario?.steps ?? [])].sort((a, b) => a.at - b.at);
  const of = opts.loop === true ? undefined : typeof opts.loop === 'number' ? Math.max(1, Math.floor(opts.loop)) : 1;
  let passes = 0;
  let t0 = clock.elapsed();
  const playOnce = async (): Promise<void> => {
    t0 = clock.elapsed();
    for (const s of steps) {
      const wait = s.at - (clock.elapsed() - t0);
      if (wait > 0) await clock.sleep(wait);
      if (stopped) return;
      try {
        await play(s);
      } catch (e) {
        simLog(`step failed: ${(e as Error).message}`);
      }
    }
    if (scenario?.end !== undefined) {
      const wait = scenario.end - (clock.elapsed() - t0);
      if (wait > 0 && !stopped) await clock.sleep(wait);
    }
  };
  let onStop: () => void = () => {};
  const stoppedP = new Promise<void>((r) => (onStop = r));
  const played = (async () => {
    await autostart;
    // Looped: a turn of the event loop first, so that whoever started the simulator hears pass 1 too.
    if (of !== 1) await new Promise((r) => setImmediate(r));
    for (;;) {
      passes++;
      if (of !== 1) {
        simLog(`pass ${passes}${of ? ` of ${of}` : ''} begins`);
        events.emit('pass', { pass: passes, of, at: clock.now() } satisfies PassEvent);
      }
      await playOnce();
      if (stopped || (of !== undefined && passes >= of)) return;
      // Back to the scenario's start for the next pass.
      await host.reset();
      writeInitialNodes();
      await createInitialDomains();
      if (stopped) return;
    }
  })();
  // A stopped clock drops its timers, so a pass cut short would never end: stopping ends it.
  const done = Promise.race([played, stoppedP]);

  return {
    xenstoreSocket,
    xlPath,
    qmpDir,
    logDir,
    lockDir,
    host,
    store,
    clock,
    events,
    done,
    get passes() {
      return passes;
    },
    begin: () => release(),
    xl: (argv) => runXl(ctx, argv),
    async stop() {
      if (stopped) return;
      stopped = true;
      onStop();
      await host.stop();
      clock.stop();
      await control.close();
      await server.close();
    },
  };
}
