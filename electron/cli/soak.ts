/**
 * `xendeck soak [--minutes M] [--speed X] [--scenario NAME] [--sample S]
 * [--out FILE] [--expect KIND:NAME ...] [--lazy-gc] [--node-arg OPT ...] [--json]`: the soak of a simulated
 * host. `xendeck serve --sim SCENARIO --loop N` runs in a child process (the
 * host, the simulator and the real helper, as a person would run them) with the
 * scenario looped for M simulated minutes, compressed by X; this process is the
 * store: it connects over the loopback API as the renderer does, keeps every
 * record pushed and acks it. Meanwhile the resident memory (VmRSS) of every
 * process of the run is sampled. At the end the records are written as a
 * bundle, `xendeck verify` judges it, `xendeck incidents --json` lists what
 * the machines detected, and the soak checks:
 *
 * - verify passes;
 * - every pass of the scenario played, and each shows the expected incidents
 *   (by default those of the demo that are observed at any compressed speed);
 * - each long-lived process's RSS is flat: the mean over the last 20% of the
 *   run exceeds the mean over 20–40% of the run (after warm-up) by no more than
 *   the tolerance (10%). The host's garbage is collected before each sample
 *   (see `lazyGc`).
 *
 * Exit 0 when all hold, 1 when one does not (the summary says which), 2 on bad
 * usage or when the run could not start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import WebSocket from 'ws';
import { manifestFor } from '../../machines/events/bundle.ts';
import { machineVersions } from '../../machines/host/bindings.ts';
import { ZERO_HASH, type XRecord } from '../../machines/events/record.ts';
import { writeBundleFile } from '../shared/bundle-io.ts';
import { createApi, wsTransport, wsUrlFor, type WebSocketLike } from '../shared/api-client.std.ts';
import { parseScenario } from '../sim/scenarios/schema.ts';
import { REPO_ROOT, scenarioPath } from '../host/runtime.ts';
import { args, UsageError, type Io } from './main.ts';

export interface SoakOptions {
  /** Scenario name or file (default: demo). */
  scenario?: string;
  /** Simulated minutes to loop the scenario for (whole passes: at least this long). */
  minutes: number;
  /** Time compression of the simulator (xendeck serve --speed). */
  speed: number;
  /** Real milliseconds between RSS samples (default 1000). */
  sampleMs?: number;
  /** Where to write the bundle (default: a temporary file, removed at the end). */
  out?: string;
  /** Incidents each pass must show, as kind and the domain's name (default for the demo: DEMO_EXPECTED). */
  expect?: ExpectedIncident[];
  /** Largest RSS growth allowed for a flat process (fraction; default 0.10). */
  tolerance?: number;
  /** Progress lines (passes, samples). */
  progress?: (line: string) => void;
  /** Give up after this many real ms (default: 4 × the compressed run + 120 s). */
  timeoutMs?: number;
  /** Options for the node running `xendeck serve` (diagnostics: --trace-gc, --heapsnapshot-signal=SIGUSR2). */
  nodeArgs?: string[];
  /**
   * Sample the host's RSS as V8 leaves it, without collecting garbage first. By default the soak
   * asks the host's V8 for a full collection (through the inspector, on 127.0.0.1 only) before
   * each sample, so that RSS measures what the host holds rather than what V8 has not yet
   * collected: left to itself V8 may let garbage grow the heap by tens of MB before a full
   * collection, which would hide a leak as well as fake one.
   */
  lazyGc?: boolean;
  /** Called once the serve process runs, with its pid (diagnostics: signals, /proc). */
  onServe?: (pid: number) => void;
}

export interface ExpectedIncident {
  kind: string;
  name: string;
}

/**
 * What every pass of the demo shows at any speed up to 100: db crashes (on_crash=preserve)
 * and stays crashed for 8 simulated seconds. The demo's short-lived states (build's crash and
 * restart within 2 s, win10's soft reset) are seen at low speeds only: the helper reads the
 * hypervisor's domain list (`xl list`) in real time, and a compressed second can pass unseen.
 */
export const DEMO_EXPECTED: ExpectedIncident[] = [{ kind: 'crash', name: 'db' }];

/** The processes of a run, grouped by what they are. */
export type Role = 'host' | 'helper' | 'qmp-bridge' | 'esbuild' | 'xl' | 'other';
/**
 * Roles judged for flatness: the long-lived processes of the run. `esbuild` is the TypeScript
 * loader's transform service (the CLI runs the sources through tsx), a child of the host.
 */
export const LONG_LIVED: readonly Role[] = ['host', 'helper', 'qmp-bridge', 'esbuild'];

export interface Sample {
  /** Real ms since the first sample. */
  t: number;
  /** Total VmRSS (kB) and process count per role. */
  roles: Partial<Record<Role, { kb: number; n: number }>>;
  /** This process (the store), kB. */
  store: number;
  /** Records the host had sealed but the store not acked, at the last status before the sample. */
  pending?: number;
}

export interface RoleFigures {
  role: Role;
  /** Samples in which the role had a process. */
  samples: number;
  /** Most processes seen at once, and distinct pids over the run. */
  maxProcesses: number;
  pids: number;
  startKb: number;
  midKb: number;
  endKb: number;
  maxKb: number;
  /** Mean over 20–40% of the run and over its last 20%. */
  warmMeanKb: number;
  endMeanKb: number;
  /** endMean / warmMean − 1 (null when a window had no sample of the role). */
  change: number | null;
  /** Judged for flatness (long-lived), and whether it is flat within the tolerance. */
  judged: boolean;
  flat: boolean;
}

export interface PassFigures {
  pass: number;
  /** Simulated clock (ms since the epoch) at which the pass began. */
  at: number;
  records: number;
  /** Incidents (kind and domain name) whose first record is in this pass. */
  incidents: string[];
  /**
   * Expected incidents the machines did not detect in this pass although history holds xl's
   * word for them (its "has shut down" line for the pass's domain), observed too late to tell
   * (see `lateEvidence`).
   */
  late: string[];
  /** Expected incidents with neither detection nor evidence: the soak fails. */
  missing: string[];
}

export interface SoakResult {
  ok: boolean;
  problems: string[];
  scenario: string;
  speed: number;
  minutes: number;
  expectedPasses: number;
  passes: PassFigures[];
  records: number;
  /** Simulated ms from the first record to the last. */
  simulatedMs: number;
  realMs: number;
  verify: { code: number; out: string };
  incidents: number;
  rss: RoleFigures[];
  storeRss: { startKb: number; endKb: number };
  /** Every RSS sample, in order. */
  samples: Sample[];
  /** The host's garbage was collected before each sample (`forced`), or left to V8 (`lazy`). */
  gc: 'forced' | 'lazy';
  /** Times the store's socket was opened again (the host let it go, or it dropped). */
  reconnects: number;
  bundle: string | undefined;
}

interface Incident {
  kind: string;
  from: number;
  to: number;
  ts: number;
  summary: string;
}

const BIN = join(REPO_ROOT, 'bin', 'xendeck.mjs');

/** Every pid whose parent chain leads to `root` (root included), from /proc, with each one's parent. */
export function descendants(root: number): { pids: number[]; parentOf: (pid: number) => number | undefined } {
  const parent = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(e), ppid);
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  for (const pid of parent.keys()) {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parent.get(p), hops++) {
      if (p === root) {
        out.push(pid);
        break;
      }
    }
  }
  return { pids: out, parentOf: (pid) => parent.get(pid) };
}

/** VmRSS of a process in kB (undefined when it is gone or a zombie). */
export function vmRssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function roleOf(pid: number, root: number, parentOf: (pid: number) => number | undefined): Role {
  if (pid === root) return 'host';
  let cmd = '';
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return 'other';
  }
  // The helper is the host's child; its own children (forked to run xl, before exec) are short-lived.
  if (/xendeck-helper/.test(cmd)) return parentOf(pid) === root ? 'helper' : 'xl';
  if (/fd-bridge\.py/.test(cmd)) return 'qmp-bridge';
  if (/esbuild --service/.test(cmd)) return 'esbuild';
  if (/(^|\/)xl(\s|$)|sim\/xl\/xl/.test(cmd)) return 'xl';
  return 'other';
}

const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** Flatness of each role over the samples (windows by real time: 20–40% after warm-up, and the last 20%). */
export function rssFigures(samples: Sample[], pidsSeen: Map<Role, Set<number>>, tolerance: number): RoleFigures[] {
  const span = samples.length ? samples[samples.length - 1].t : 0;
  const roles = new Set<Role>();
  for (const s of samples) for (const r of Object.keys(s.roles) as Role[]) roles.add(r);
  const figures: RoleFigures[] = [];
  for (const role of [...roles].sort()) {
    const with_ = samples.filter((s) => s.roles[role]);
    const kb = (s: Sample) => s.roles[role]?.kb ?? 0;
    // Over the samples that found the role (a process replaced now and then is absent from some).
    const inWindow = (a: number, b: number) => with_.filter((s) => s.t >= a * span && s.t <= b * span).map(kb);
    const warm = mean(inWindow(0.2, 0.4));
    const end = mean(inWindow(0.8, 1));
    const ratio = end / warm - 1;
    const change = Number.isFinite(ratio) ? ratio : null;
    const judged = LONG_LIVED.includes(role);
    figures.push({
      role,
      samples: with_.length,
      maxProcesses: Math.max(0, ...with_.map((s) => s.roles[role]!.n)),
      pids: pidsSeen.get(role)?.size ?? 0,
      startKb: with_.length ? kb(with_[0]) : 0,
      midKb: with_.length ? kb(with_[Math.floor(with_.length / 2)]) : 0,
      endKb: with_.length ? kb(with_[with_.length - 1]) : 0,
      maxKb: Math.max(0, ...with_.map(kb)),
      warmMeanKb: Number.isFinite(warm) ? Math.round(warm) : 0,
      endMeanKb: Number.isFinite(end) ? Math.round(end) : 0,
      change,
      judged,
      // Flat: no growth past the tolerance. Memory given back (V8 returning pages after a
      // collection) is no leak; the figures show it.
      flat: change !== null && change <= tolerance,
    });
  }
  return figures;
}

/** Runs a CLI command of this build in a child process; its stdout and exit code. */
function cliChild(argv: string[], timeoutMs = 300_000): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    c.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, out, err });
    });
  });
}

export class SoakError extends Error {}

/** A full garbage collection in a node process, through its inspector (HeapProfiler.collectGarbage). */
async function inspectorGc(url: string): Promise<{ socket: WebSocket; gc: () => Promise<void> }> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let id = 0;
  const waiting = new Map<number, () => void>();
  socket.on('message', (m) => {
    const msg = JSON.parse(String(m)) as { id?: number };
    if (msg.id !== undefined) waiting.get(msg.id)?.();
    if (msg.id !== undefined) waiting.delete(msg.id);
  });
  socket.on('error', () => {});
  const gc = () =>
    new Promise<void>((resolve) => {
      if (socket.readyState !== socket.OPEN) return resolve();
      const n = ++id;
      const timer = setTimeout(() => {
        waiting.delete(n);
        resolve();
      }, 10_000);
      waiting.set(n, () => {
        clearTimeout(timer);
        resolve();
      });
      socket.send(JSON.stringify({ id: n, method: 'HeapProfiler.collectGarbage' }));
    });
  return { socket, gc };
}

const XL_REASONS: Record<string, string> = { '3': 'crash', '4': 'watchdog' };

/**
 * Per pass, the crashes (and watchdog shutdowns) history holds xl's word for: its line
 * "Domain D has shut down, reason code 3" about a domid D that had the domain's name in that
 * pass, whenever the line was recorded. A compressed run multiplies the observation latency
 * (the helper reads logs and `xl list` in real time, and not while an xl command runs): under
 * load a line can arrive a pass late, after the domain it speaks of has gone, and the machines
 * then rightly decline to move the domain of the moment.
 */
export function lateEvidence(records: XRecord[], passOf: (ts: number) => number): Map<number, Set<string>> {
  // The pass (and name) of each domid, from the first time the domain's name was written.
  const byDomid = new Map<number, { name: string; pass: number }>();
  for (const r of records) {
    if (r.type !== 'xs.write') continue;
    const d = r.data as { path?: string; value?: string };
    const m = /^\/local\/domain\/(\d+)\/name$/.exec(d.path ?? '');
    if (m && d.value && !byDomid.has(Number(m[1]))) byDomid.set(Number(m[1]), { name: d.value, pass: passOf(r.ts) });
  }
  const out = new Map<number, Set<string>>();
  for (const r of records) {
    if (r.type !== 'log.line') continue;
    const d = r.data as { file?: string; line?: string };
    const m = d.file === 'xl' ? /^Domain (\d+) has shut down, reason code (\d+)/.exec(d.line ?? '') : null;
    const kind = m ? XL_REASONS[m[2]] : undefined;
    const dom = m ? byDomid.get(Number(m[1])) : undefined;
    if (!kind || !dom) continue;
    let set = out.get(dom.pass);
    if (!set) out.set(dom.pass, (set = new Set()));
    set.add(`${kind} ${dom.name}`);
  }
  return out;
}

/** The soak itself (see the top of this file). */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const scenarioFile = scenarioPath(o.scenario);
  if (!existsSync(scenarioFile)) throw new SoakError(`no scenario ${o.scenario ?? 'demo'} (looked for ${scenarioFile})`);
  const scenario = parseScenario(JSON.parse(readFileSync(scenarioFile, 'utf8')));
  const passMs = scenario.end ?? Math.max(0, ...scenario.steps.map((s) => s.at));
  if (!(passMs > 0)) throw new SoakError(`scenario ${scenario.name} has no length to loop (no steps, no end)`);
  const expectedPasses = Math.max(1, Math.ceil((o.minutes * 60_000) / passMs));
  const expect = o.expect ?? (scenario.name === 'demo' ? DEMO_EXPECTED : []);
  const tolerance = o.tolerance ?? 0.1;
  const sampleMs = o.sampleMs ?? 1000;
  const timeoutMs = o.timeoutMs ?? Math.round(((expectedPasses * passMs) / o.speed) * 4 + 120_000);
  const progress = o.progress ?? (() => {});
  const problems: string[] = [];

  const realStart = Date.now();
  const inspect = o.lazyGc ? [] : ['--inspect=127.0.0.1:0'];
  const child: ChildProcess = spawn(process.execPath, [...inspect, ...(o.nodeArgs ?? []), BIN, 'serve', '--sim', scenarioFile, '--speed', String(o.speed), '--loop', String(expectedPasses)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const root = child.pid!;
  o.onServe?.(root);
  // Interrupted: stop the serve process too (the run then ends as one whose serve exited early).
  let interrupted = false;
  const interrupt = () => {
    interrupted = true;
    child.kill('SIGTERM');
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let stderrTail = '';
  let resolveInspector: (u: string) => void = () => {};
  const inspectorUrl = new Promise<string>((r) => (resolveInspector = r));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderrTail = (stderrTail + d).slice(-4000);
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(stderrTail);
    if (m) resolveInspector(m[1]);
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));

  const passStarts: Array<{ pass: number; at: number }> = [];
  let hasPlayed = false;
  let lastTail: number | undefined;
  let resolveUrl: (u: string) => void = () => {};
  let resolvePlayed: () => void = () => {};
  const url = new Promise<string>((r) => (resolveUrl = r));
  const played = new Promise<void>((r) => (resolvePlayed = r));
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    const u = /open (http:\/\/\S+)/.exec(line);
    if (u) resolveUrl(u[1]);
    const p = /pass (\d+)(?: of \d+)? begins at (\d+)/.exec(line);
    if (p) {
      passStarts.push({ pass: Number(p[1]), at: Number(p[2]) });
      progress(`pass ${p[1]} of ${expectedPasses} begins (${Math.round((Date.now() - realStart) / 1000)} s)`);
    }
    if (/the scenario has played/.test(line)) {
      hasPlayed = true;
      resolvePlayed();
    }
  });

  // RSS sampling of every process under the serve child.
  const samples: Sample[] = [];
  const pidsSeen = new Map<Role, Set<number>>();
  let t0: number | undefined;
  const sample = () => {
    const roles: Sample['roles'] = {};
    const tree = descendants(root);
    for (const pid of tree.pids) {
      const kb = vmRssKb(pid);
      if (kb === undefined) continue;
      const role = roleOf(pid, root, tree.parentOf);
      const r = (roles[role] ??= { kb: 0, n: 0 });
      r.kb += kb;
      r.n++;
      let seen = pidsSeen.get(role);
      if (!seen) pidsSeen.set(role, (seen = new Set()));
      seen.add(pid);
    }
    const now = Date.now();
    t0 ??= now;
    samples.push({ t: now - t0, roles, store: Math.round(process.memoryUsage().rss / 1024), ...(pending !== undefined ? { pending } : {}) });
  };
  let pending: number | undefined;

  const records: XRecord[] = [];
  let lastRecordAt = Date.now();
  let reconnects = 0;
  let stopSampling = false;
  let inspector: WebSocket | undefined;
  let transport: ReturnType<typeof wsTransport> | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let sampling: Promise<void> = Promise.resolve();
  let collect: { socket: WebSocket; gc: () => Promise<void> } | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    deadline = setTimeout(() => {
      const where = hasPlayed
        ? `all passes played; the host's tail was ${lastTail ?? '?'}, the store's ${records.length ? records[records.length - 1].seq : 0}; the last record came ${Math.round((Date.now() - lastRecordAt) / 1000)} s ago`
        : `${passStarts.length} of ${expectedPasses} passes begun, the last not yet over`;
      reject(new SoakError(`the soak did not finish within ${Math.round(timeoutMs / 1000)} s (${where}; ${records.length} records)`));
    }, timeoutMs);
  });
  const died = exited.then((code) => {
    throw new SoakError(`xendeck serve exited early (code ${code}): ${stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
  });
  const race = <T>(p: Promise<T>) => Promise.race([p, timedOut, died]);
  let realMs = 0;
  try {
    const pageUrl = new URL(await race(url));
    const wsUrl = wsUrlFor({ protocol: pageUrl.protocol, host: pageUrl.host, search: pageUrl.search, hash: pageUrl.hash });
    if (!wsUrl) throw new SoakError(`no token in the URL serve printed: ${pageUrl.href}`);
    // The host takes calls from its own page only: the Origin is this very server's.
    const origin = pageUrl.origin;
    class PageSocket extends WebSocket {
      constructor(u: string) {
        super(u, { origin });
      }
    }
    const tail = () => (records.length ? { seq: records[records.length - 1].seq, hash: records[records.length - 1].hash } : { seq: 0, hash: ZERO_HASH });
    // A socket that was let go (or dropped) is opened again; the store reports its tail, as the renderer does.
    const onReconnect = () => {
      reconnects++;
      api.connect({ tail: tail() }).then(
        (c) => c.status !== 'ok' && problems.push(`after a reconnect the host answered ${c.status}: ${c.message ?? ''}`),
        () => {},
      );
    };
    transport = wsTransport(wsUrl, { WebSocket: PageSocket as unknown as new (url: string) => WebSocketLike, retryMs: 200, onReconnect });
    const api = createApi(transport);
    api.on('records', ({ records: batch }) => {
      for (const r of batch) {
        const last = records.length ? records[records.length - 1].seq : 0;
        if (r.seq <= last) continue; // sent again after a reconnect
        if (r.seq !== last + 1) problems.push(`records ${last + 1}..${r.seq - 1} never reached the store`);
        records.push(r as XRecord);
      }
      if (!batch.length) return;
      lastRecordAt = Date.now();
      // The store committed them: the host may let them go.
      void api.ack({ seq: batch[batch.length - 1].seq }).catch(() => {});
    });
    const c = await race(api.connect({ tail: tail() }));
    if (c.status !== 'ok') throw new SoakError(`the host refused the store: ${c.status} ${c.message ?? ''}`);
    collect = o.lazyGc ? undefined : await race(inspectorGc(await race(inspectorUrl)));
    inspector = collect?.socket;
    sampling = (async () => {
      while (!stopSampling) {
        await collect?.gc();
        if (stopSampling) break;
        sample();
        // For the record of the run: how far the store is behind the host.
        api.status().then(
          (st) => (pending = st.pending),
          () => {},
        );
        await new Promise((r) => (sampler = setTimeout(r, sampleMs)));
      }
    })();
    await race(played);
    progress(`all ${expectedPasses} passes played (${Math.round((Date.now() - realStart) / 1000)} s); waiting for the last records`);
    // The last records: nothing pending in the host, and nothing new for a moment.
    let lastNote = Date.now();
    for (;;) {
      const st = await race(api.status());
      lastTail = st.tail.seq;
      if (Date.now() - lastNote > 5000) {
        lastNote = Date.now();
        progress(`still waiting: the host's tail is ${st.tail.seq}, the store holds ${tail().seq}; helper ${st.helper}, recording ${st.recordingState ?? 'normal'}`);
      }
      // The host's `pending` counts its outbox, which keeps acked records until its saved state covers
      // them (at the next ack after its save interval): the store holding the host's tail is the test.
      if (st.tail.seq === tail().seq && Date.now() - lastRecordAt > 1500) break;
      await race(new Promise((r) => setTimeout(r, 250)));
    }
    // The sampling loop ends after its current pause (at most one sample interval).
    stopSampling = true;
    await sampling;
    await collect?.gc();
    sample();
    realMs = Date.now() - realStart;
  } catch (e) {
    if (interrupted) throw new SoakError('interrupted: the serve process was stopped');
    throw e;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    stopSampling = true;
    if (sampler) clearTimeout(sampler);
    inspector?.close();
    if (deadline) clearTimeout(deadline);
    transport?.close();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    }
  }
  died.catch(() => {});
  const code = await exited;
  if (reconnects) progress(`the store's socket was opened again ${reconnects} time(s)`);
  if (code !== 0) problems.push(`xendeck serve exited with code ${code} when stopped: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}`);

  // The bundle, verify, incidents.
  const tmp = o.out ? undefined : mkdtempSync(join(tmpdir(), 'xendeck-soak-'));
  const bundle = o.out ?? join(tmp!, 'soak.xdb');
  try {
    const m = manifestFor(records, { host: { hostname: hostname(), xen: 'simulated' }, created: new Date().toISOString(), machines: machineVersions() });
    await writeBundleFile(bundle, m, records);
    const verify = await cliChild(['verify', bundle]);
    if (verify.code !== 0) problems.push(`verify failed (exit ${verify.code}): ${(verify.out + verify.err).trim()}`);
    const inc = await cliChild(['incidents', bundle, '--json']);
    let incidents: Incident[] = [];
    if (inc.code !== 0) problems.push(`incidents failed (exit ${inc.code}): ${inc.err.trim()}`);
    else incidents = JSON.parse(inc.out) as Incident[];

    // Passes: records and incidents by the simulated time each pass began at.
    if (passStarts.length !== expectedPasses) problems.push(`${passStarts.length} passes of the scenario began, ${expectedPasses} expected`);
    const passOf = (ts: number) => Math.max(1, passStarts.filter((p) => p.at <= ts).length);
    const tsOf = new Map<number, number>();
    for (const r of records) tsOf.set(r.seq, r.ts);
    const passes: PassFigures[] = passStarts.map((p) => ({ pass: p.pass, at: p.at, records: 0, incidents: [], late: [], missing: [] }));
    for (const r of records) if (passes.length) passes[passOf(r.ts) - 1].records++;
    for (const i of incidents) {
      const ts = tsOf.get(i.from) ?? i.ts;
      if (passes.length) passes[passOf(ts) - 1].incidents.push(`${i.kind} ${i.summary.split(' ')[0]}`);
    }
    const evidence = lateEvidence(records, passOf);
    for (const p of passes) {
      for (const e of expect) {
        const key = `${e.kind} ${e.name}`;
        if (p.incidents.includes(key)) continue;
        if (evidence.get(p.pass)?.has(key)) p.late.push(key);
        else p.missing.push(key);
      }
      if (p.missing.length) problems.push(`pass ${p.pass} lacks the incident(s) ${p.missing.join(', ')} (it shows: ${p.incidents.join(', ') || 'none'})`);
    }

    const rss = rssFigures(samples, pidsSeen, tolerance);
    for (const role of (['host', 'helper'] as const)) if (!rss.some((f) => f.role === role)) problems.push(`no ${role} process was seen`);
    for (const f of rss) {
      if (f.judged && !f.flat && f.change === null && f.role !== 'host' && f.role !== 'helper') continue; // none alive in a window: nothing to compare
      if (f.judged && !f.flat) problems.push(`RSS of ${f.role} is not flat: ${f.warmMeanKb} kB after warm-up, ${f.endMeanKb} kB at the end (${pct(f.change)}, tolerance ${tolerance * 100}%)`);
    }
    const simulatedMs = records.length ? records[records.length - 1].ts - records[0].ts : 0;
    if (simulatedMs < o.minutes * 60_000) problems.push(`the records span ${(simulatedMs / 60_000).toFixed(1)} simulated minutes, ${o.minutes} expected`);
    return {
      ok: problems.length === 0,
      problems,
      scenario: scenario.name,
      speed: o.speed,
      minutes: o.minutes,
      expectedPasses,
      passes,
      records: records.length,
      simulatedMs,
      realMs,
      verify: { code: verify.code, out: (verify.out + verify.err).trim() },
      incidents: incidents.length,
      rss,
      storeRss: { startKb: samples[0]?.store ?? 0, endKb: samples[samples.length - 1]?.store ?? 0 },
      samples,
      gc: o.lazyGc ? 'lazy' : 'forced',
      reconnects,
      bundle: o.out,
    };
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;
const pct = (c: number | null) => (c === null ? 'n/a' : `${c >= 0 ? '+' : ''}${(c * 100).toFixed(1)}%`);

/** The soak's figures, for people. */
export function formatSoak(r: SoakResult): string[] {
  const lines = [
    `soak: ${r.scenario} looped ${r.passes.length}/${r.expectedPasses} passes, ${(r.simulatedMs / 60_000).toFixed(1)} simulated minutes at --speed ${r.speed} in ${(r.realMs / 1000).toFixed(1)} s`,
    `records: ${r.records} (per pass ${Math.min(...r.passes.map((p) => p.records))}..${Math.max(...r.passes.map((p) => p.records))}); incidents: ${r.incidents}`,
    `verify: ${r.verify.code === 0 ? 'passed' : 'FAILED'}: ${r.verify.out.split('\n')[0]}`,
    `RSS (${r.samples.length} samples${r.gc === 'forced' ? ", the host's garbage collected before each" : ''}; start / middle / end; mean 20–40% → mean last 20%):`,
  ];
  for (const f of r.rss) {
    const procs = f.maxProcesses > 1 || f.pids > 1 ? ` [${f.pids} pid(s), up to ${f.maxProcesses} at once]` : '';
    const verdict = f.judged ? (f.flat ? 'flat' : 'NOT FLAT') : 'short-lived, not judged';
    lines.push(`  ${f.role.padEnd(10)} ${mb(f.startKb)} / ${mb(f.midKb)} / ${mb(f.endKb)}; ${mb(f.warmMeanKb)} → ${mb(f.endMeanKb)} (${pct(f.change)}): ${verdict}${procs}`);
  }
  lines.push(`  store (this process, holds every record): ${mb(r.storeRss.startKb)} → ${mb(r.storeRss.endKb)}`);
  const counts = new Map<string, number>();
  for (const p of r.passes) for (const i of new Set(p.incidents)) counts.set(i, (counts.get(i) ?? 0) + 1);
  lines.push(`incidents seen in how many passes: ${[...counts].map(([k, n]) => `${k} ${n}/${r.passes.length}`).join(', ') || 'none'}`);
  const late = r.passes.filter((p) => p.late.length);
  if (late.length) lines.push(`observed too late to be detected (xl's line recorded after the domain had gone): ${late.map((p) => `pass ${p.pass}: ${p.late.join(', ')}`).join('; ')}`);
  lines.push(r.ok ? 'soak: ok' : `soak: FAILED\n${r.problems.map((p) => `  - ${p}`).join('\n')}`);
  return lines;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const a = args(
    argv,
    {
      minutes: { type: 'string' },
      speed: { type: 'string' },
      scenario: { type: 'string' },
      sample: { type: 'string' },
      out: { type: 'string' },
      expect: { type: 'string', multiple: true },
      'node-arg': { type: 'string', multiple: true },
      'lazy-gc': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    0,
  );
  const minutes = a.values.minutes !== undefined ? Number(a.values.minutes) : 30;
  if (!(minutes > 0 && minutes <= 7 * 24 * 60)) throw new UsageError(`--minutes expects simulated minutes (> 0), found "${a.values.minutes}"`);
  const speed = a.values.speed !== undefined ? Number(a.values.speed) : 30;
  if (!(speed > 0 && speed <= 100)) throw new UsageError(`--speed expects a factor in (0, 100], found "${a.values.speed}"`);
  const sampleS = a.values.sample !== undefined ? Number(a.values.sample) : 1;
  if (!(sampleS >= 0.1 && sampleS <= 600)) throw new UsageError(`--sample expects seconds between RSS samples, found "${a.values.sample}"`);
  const expect = (a.values.expect as string[] | undefined)?.map((e) => {
    const m = /^([\w-]+):(.+)$/.exec(e);
    if (!m) throw new UsageError(`--expect takes KIND:NAME (e.g. crash:db), found "${e}"`);
    return { kind: m[1], name: m[2] };
  });
  let r: SoakResult;
  try {
    r = await runSoak({
      minutes,
      speed,
      sampleMs: sampleS * 1000,
      ...(a.values.scenario ? { scenario: String(a.values.scenario) } : {}),
      ...(a.values.out ? { out: String(a.values.out) } : {}),
      ...(expect ? { expect } : {}),
      ...(a.values['node-arg'] ? { nodeArgs: a.values['node-arg'] as string[] } : {}),
      ...(a.values['lazy-gc'] ? { lazyGc: true } : {}),
      progress: a.values.json ? undefined : (l) => io.err(`xendeck soak: ${l}`),
    });
  } catch (e) {
    if (e instanceof SoakError) {
      io.err(`xendeck soak: ${e.message}`);
      return 2;
    }
    throw e;
  }
  if (a.values.json) io.out(JSON.stringify(r, null, 2));
  else for (const l of formatSoak(r)) io.out(l);
  return r.ok ? 0 : 1;
}
