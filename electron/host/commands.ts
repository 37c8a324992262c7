/**
 * A person's commands (DESIGN.md section 1: Xendeck acts through xl). Each
 * request is checked against the contract again here (the renderer checked it
 * before sending; the host trusts no caller), recorded as `cmd.request` with
 * the OS user, run through the helper, and ended by `cmd.result` carrying xl's
 * own words when it fails.
 *
 * QMP is used only where xl has no verb: a forced eject of a tray the guest
 * has locked. That is one transient QMP session (`eject` with force), its
 * reply recorded as `qmp.reply`, followed by `xl cd-eject` so libxl's view of
 * the drive matches QEMU's again.
 */
import { randomUUID } from 'node:crypto';
import type { Observation } from '../../machines/events/record.ts';
import { tryVdevToDevid } from '../../machines/cdrom/cdrom.vdev.ts';
import { commandRequest, type CommandRequest, type CommandResult } from '../shared/ipc-contract.std.ts';
import { zodReason } from '../shared/helper-protocol.std.ts';
import { HelperRequestError, type HelperClient } from './helper-client.ts';

export interface CommandDeps {
  /** The helper, when it is up. */
  helper(): HelperClient | null;
  /** Why commands cannot run now (recording paused), if they cannot. */
  refuse?(): string | undefined;
  /** Seal observations into history (in order). */
  observe(obs: Observation[]): void;
  now(): number;
  /** The OS user issuing the command. */
  user: string;
  /** The domid of a domain name, as observed. */
  domidOfName(name: string): number | undefined;
  uuidOf(domid: number): string | undefined;
  /** Make a command id (tests pass a counter). */
  newId?: () => string;
}

const OUTPUT_MAX = 4000;
const XL_TIMEOUT_MS = 120_000;

/** The xl argv a command runs (after "xl"). */
export function xlArgvFor(c: CommandRequest): string[] {
  const d = (x: string | number) => String(x);
  switch (c.op) {
    case 'create':
      return ['create', c.config];
    case 'shutdown':
      return ['shutdown', ...(c.wait ? ['-w'] : []), ...(c.force ? ['-F'] : []), d(c.domain)];
    case 'reboot':
      return ['reboot', ...(c.force ? ['-F'] : []), d(c.domain)];
    case 'destroy':
    case 'pause':
    case 'unpause':
      return [c.op, d(c.domain)];
    // Media changes run verbose: libxl's step lines (QMP steps, retries) land in cmd.result's
    // output, where the CD-ROM machine follows the change step by step.
    case 'cd-insert':
      return ['-v', 'cd-insert', d(c.domain), c.vdev, c.path];
    case 'cd-eject':
    case 'cd-force-eject':
      // After a forced eject through QEMU, xl cd-eject is the step that resyncs libxl.
      return ['-v', 'cd-eject', d(c.domain), c.vdev];
    case 'block-attach': {
      const spec = [`target=${c.target}`, `vdev=${c.vdev}`, ...(c.format ? [`format=${c.format}`] : []), ...(c.access ? [`access=${c.access}`] : []), ...(c.devtype ? [`devtype=${c.devtype}`] : [])];
      return ['block-attach', d(c.domain), spec.join(',')];
    }
    case 'block-detach':
      return ['block-detach', ...(c.force ? ['-f'] : []), d(c.domain), c.vdev];
    default:
      return missingCase(c);
  }
}

/** Run one command end to end. Never throws: every failure is a cmd.result with ok false. */
export async function runCommand(deps: CommandDeps, raw: unknown): Promise<CommandResult> {
  const parsed = commandRequest.safeParse(raw);
  const cmd = deps.newId ? deps.newId() : randomUUID();
  if (!parsed.success) {
    // Refused before anything ran; still history: someone asked.
    const op = typeof (raw as { op?: unknown })?.op === 'string' ? String((raw as { op: string }).op).slice(0, 64) : 'unknown';
    const result: CommandResult = { cmd, ok: false, error: `refused: ${zodReason(parsed.error)}` };
    deps.observe([request(deps, cmd, op, {}), resultObs(deps, result)]);
    return result;
  }
  const c = parsed.data;
  const { op, ...args } = c;
  const domid = domidOf(deps, c);
  deps.observe([request(deps, cmd, op, args, domid)]);
  const result = await execute(deps, cmd, c, domid);
  deps.observe([resultObs(deps, result, domid)]);
  return result;
}

async function execute(deps: CommandDeps, cmd: string, c: CommandRequest, domid: number | undefined): Promise<CommandResult> {
  const why = deps.refuse?.();
  if (why) return { cmd, ok: false, error: `${why}: nothing was done` };
  const h = deps.helper();
  if (!h) return { cmd, ok: false, error: 'the privileged helper is not running: nothing was done' };
  try {
    if (c.op === 'cd-force-eject') {
      const devid = tryVdevToDevid(c.vdev);
      if (domid === undefined) return { cmd, ok: false, error: `no running domain ${String(c.domain)} is known` };
      if (devid === undefined) return { cmd, ok: false, error: `${c.vdev} is not a device name libxl accepts` };
      const r = await h.request('qmp', { domid, execute: 'eject', arguments: { id: `ide-${devid}`, force: true } }, { timeoutMs: 45_000 });
      const obs: Observation[] = [];
      for (const e of r.events) obs.push(qmpObs(deps, 'qmp.event', { domid, event: e.event, ...(isObj(e.data) ? { data: e.data } : {}) }, domid));
      const rep = r.replies[0];
      if (rep) {
        obs.push(qmpObs(deps, 'qmp.reply', rep.ok ? { domid, command: 'eject', ok: true, return: rep.return ?? {} } : { domid, command: 'eject', ok: false, error: rep.error }, domid));
      }
      deps.observe(obs);
      if (!rep || !rep.ok) return { cmd, ok: false, error: rep && !rep.ok ? `QEMU refused the eject: ${rep.error.class}: ${rep.error.desc}` : 'QEMU did not answer the eject' };
      // QEMU's tray is open now; xl cd-eject brings libxl's view (and xenstore) in line.
    }
    const x = await h.request('xl', { argv: xlArgvFor(c), timeout_ms: XL_TIMEOUT_MS }, { timeoutMs: XL_TIMEOUT_MS + 5000 });
    const output = clip([x.stdout, x.stderr].filter((s) => s.trim() !== '').join('\n'));
    if (x.timed_out) return { cmd, ok: false, error: `xl ${c.op} did not finish in ${XL_TIMEOUT_MS / 1000} s and was stopped`, ...(output ? { output } : {}) };
    if (x.status !== 0) {
      const why = x.stderr.trim() || x.stdout.trim() || (x.signal ? `xl was ended by signal ${x.signal}` : `xl exited with status ${x.status}`);
      return { cmd, ok: false, error: clip(why), ...(output ? { output } : {}) };
    }
    return { cmd, ok: true, ...(output ? { output } : {}) };
  } catch (e) {
    if (e instanceof HelperRequestError) return { cmd, ok: false, error: `the helper refused or failed: ${e.code}: ${e.message}` };
    return { cmd, ok: false, error: (e as Error).message };
  }
}

function domidOf(deps: CommandDeps, c: CommandRequest): number | undefined {
  if (!('domain' in c)) return undefined;
  return typeof c.domain === 'number' ? c.domain : deps.domidOfName(c.domain);
}

function request(deps: CommandDeps, cmd: string, op: string, args: Record<string, unknown>, domid?: number): Observation {
  return withDomain(deps, { ts: deps.now(), src: 'user', type: 'cmd.request', data: { cmd, user: deps.user, op, args } }, domid);
}

function resultObs(deps: CommandDeps, r: CommandResult, domid?: number): Observation {
  return withDomain(deps, { ts: deps.now(), src: 'xl', type: 'cmd.result', data: { ...r } }, domid);
}

function qmpObs(deps: CommandDeps, type: string, data: Record<string, unknown>, domid: number): Observation {
  return withDomain(deps, { ts: deps.now(), src: 'qmp', type, data }, domid);
}

function withDomain(deps: CommandDeps, o: Observation, domid: number | undefined): Observation {
  if (domid === undefined) return o;
  const uuid = deps.uuidOf(domid);
  return { ...o, domid, ...(uuid ? { uuid } : {}) };
}

function clip(s: string): string {
  return s.length > OUTPUT_MAX ? s.slice(0, OUTPUT_MAX) + '…' : s;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function missingCase(x: never): never {
  throw new Error(`unhandled command: ${JSON.stringify(x)}`);
}
