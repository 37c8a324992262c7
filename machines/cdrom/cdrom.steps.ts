/**
 * What one observation means for a media change in progress (seed 000): the
 * parser of libxl's verbose step lines, and `verdictOf`, which classifies an
 * event against the change in progress. Pure; the machine's guards and
 * actions are thin wrappers around it.
 */
import type { CdromContext, CdromEvent, StepSource, XlStep, XlStepName } from './cdrom.types.ts';
import { mediaPathOf } from './cdrom.vdev.ts';

/** libxl's ERROR_QMP_GENERIC_ERROR: what remove-fd on an empty fdset gives. */
export const ERROR_QMP_GENERIC_ERROR = -28;
/** blockdev-change-medium is retried this many times (seed 000: `retries++ < 10`). */
export const MAX_CHANGE_RETRIES = 10;
/** ms between blockdev-change-medium retries (seed 000). */
export const CHANGE_RETRY_MS = 100;
/** libxl's overall timeout for a media change (reference 4.3, LIBXL_HOTPLUG_TIMEOUT). */
export const CD_OPERATION_TIMEOUT_MS = 40_000;
/** Timeline entries kept per change. */
export const TIMELINE_MAX = 100;

/** QEMU's answer to eject on a tray the guest has locked. */
const LOCKED_RE = /is locked and force was not specified/;

const LINE_RE = /^libxl: (\w+): [^:\s]+:\d+:(\w+): (?:Domain (\d+):)?(.*)$/;

const RC_STEP: Record<string, XlStepName> = {
  cdrom_insert_lock_acquired: 'lock-acquired',
  cdrom_insert_stubdom_ejected: 'stubdom-ejected',
  cdrom_insert_stubdom_disk_ejected_aocomplete: 'stubdom-disk-ejected',
  cdrom_insert_stubdom_disk_ejected: 'stubdom-disk-ejected',
  cdrom_insert_ejected_aodevcb: 'stubdom-disk-attached',
  cdrom_insert_ejected: 'ejected',
  cdrom_insert_addfd_cb: 'addfd-cb',
  cdrom_insert_inserted: 'inserted',
  cdrom_insert_done: 'done',
};

/**
 * One line of `xl -v` output or of an xl log, as a media-change step; undefined
 * for lines that are not about a CD-ROM change.
 */
export function parseXlStep(line: string): XlStep | undefined {
  const m = LINE_RE.exec(line.trim());
  if (!m) return undefined;
  const [, level, func, dom, rawMsg] = m;
  const msg = rawMsg.trim();
  const domid = dom === undefined ? undefined : Number(dom);
  const base = { line: line.trim(), ...(domid === undefined ? {} : { domid }) };
  // libxl logs QEMU's error text; the locked-tray refusal is the one a CD-ROM change must show.
  if (func === 'qmp_ev_parse_error_messages' && LOCKED_RE.test(msg)) return { step: 'eject-locked', ...base };
  if (!func.startsWith('cdrom_insert') && func !== 'libxl_cdrom_insert') return undefined;
  if (msg.startsWith('Retrying QMP cdrom change')) return { step: 'retrying', ...base };
  if (msg === 'Doing qmp add-fd path') return { step: 'add-fd-path', ...base };
  if (msg === 'Skipping qmp add-fd path') return { step: 'skip-add-fd-path', ...base };
  let n = /^(?:no callback; )?stubdom_id=(-?\d+)$/.exec(msg);
  if (n) return { step: 'stubdom-id', value: Number(n[1]), ...base };
  n = /^out label rc=(-?\d+)$/.exec(msg);
  if (n) return { step: 'out-label', rc: Number(n[1]), ...base };
  if (/isn't hdX or xvdY/.test(msg)) return { step: 'vdev-invalid', ...base };
  if (func === 'cdrom_insert_timout') return { step: 'timeout', ...base };
  n = /^rc=(-?\d+)$/.exec(msg);
  if (n && RC_STEP[func]) return { step: RC_STEP[func], rc: Number(n[1]), ...base };
  if (level === 'error') return { step: 'error', ...base };
  return undefined;
}

/** The meaning of one event for the change in progress. */
export type VerdictKind =
  | 'ignore'
  | 'progress'
  | 'insert-phase'
  | 'change-ok'
  | 'change-failed'
  | 'done'
  | 'locked'
  | 'fatal';

export interface Verdict {
  kind: VerdictKind;
  source: StepSource;
  step: string;
  ok: boolean;
  detail?: string;
  /** The error this step carries, kept as the change's last error. */
  error?: string;
}

const IGNORE: Verdict = { kind: 'ignore', source: 'xs', step: '', ok: true };

function qmpVerdict(ctx: CdromContext, e: Extract<CdromEvent, { type: 'cd.qmp' }>): Verdict {
  const err = e.error ? `${e.error.class}: ${e.error.desc}` : undefined;
  const v = (kind: VerdictKind, detail?: string): Verdict => ({
    kind,
    source: 'qmp',
    step: e.command,
    ok: e.ok,
    ...(detail ?? err ? { detail: detail ?? err } : {}),
    ...(err && kind !== 'progress' ? { error: err } : {}),
  });
  switch (e.command) {
    case 'query-version':
    case 'query-fdsets':
      return v(e.ok ? 'progress' : 'fatal');
    case 'eject':
      if (e.ok) return v('progress');
      return v(e.error?.class === 'GenericError' && LOCKED_RE.test(e.error.desc) ? 'locked' : 'fatal');
    case 'remove-fd':
      // Seed 000: the fdset is empty the first time, so GenericError is tolerated; any other error is fatal.
      if (e.ok) return v('progress');
      if (e.error?.class === 'GenericError') return v('progress', `tolerated: ${err}`);
      return v('fatal');
    case 'add-fd': {
      if (!e.ok) return v('fatal');
      const fdset = (e.ret as { 'fdset-id'?: unknown } | undefined)?.['fdset-id'];
      return v('insert-phase', typeof fdset === 'number' ? `fdset ${fdset}` : undefined);
    }
    case 'blockdev-change-medium':
      return changeVerdict(ctx, 'qmp', v(e.ok ? 'change-ok' : 'change-failed'));
    default:
      return IGNORE;
  }
}

/** A change outcome counts only from the source that reported the first one, so retries are not counted twice. */
function changeVerdict(ctx: CdromContext, source: 'qmp' | 'xl', v: Verdict): Verdict {
  const owner = ctx.op?.changeSource;
  if (owner !== undefined && owner !== source) return { ...v, kind: 'progress' };
  return v;
}

function stepVerdict(ctx: CdromContext, e: Extract<CdromEvent, { type: 'cd.step' }>): Verdict {
  if (e.cmd !== undefined && e.cmd !== ctx.op?.cmd) return IGNORE;
  const rcBad = e.rc !== undefined && e.rc !== 0;
  const rcText = e.rc !== undefined ? `rc=${e.rc}` : undefined;
  const v = (kind: VerdictKind, ok = !rcBad, detail = rcText): Verdict => ({
    kind,
    source: 'xl',
    step: e.step,
    ok,
    ...(detail ? { detail } : {}),
    ...(kind === 'fatal' || kind === 'change-failed' || (kind === 'progress' && !ok)
      ? { error: `${e.step}: ${detail ?? e.line}` }
      : {}),
  });
  const insertish = ctx.op?.path !== undefined || ctx.stubdom;
  switch (e.step) {
    case 'lock-acquired':
    case 'stubdom-disk-ejected':
    case 'out-label':
      return v(rcBad ? 'fatal' : 'progress');
    case 'stubdom-ejected':
      if (e.rc === ERROR_QMP_GENERIC_ERROR) return v('progress', true, 'tolerated: remove-fd GenericError');
      return v(rcBad ? 'fatal' : 'progress');
    case 'stubdom-disk-attached':
    case 'addfd-cb':
    case 'add-fd-path':
      return v(rcBad ? 'fatal' : 'insert-phase');
    case 'ejected':
      return v(rcBad ? 'fatal' : insertish ? 'insert-phase' : 'progress');
    case 'skip-add-fd-path':
    case 'retrying':
    case 'stubdom-id':
      return v('progress', true, e.value !== undefined ? String(e.value) : undefined);
    case 'inserted':
      return changeVerdict(ctx, 'xl', v(rcBad ? 'change-failed' : 'change-ok'));
    case 'done':
      return v(rcBad ? 'fatal' : 'done');
    case 'timeout':
      return v('fatal', false, e.line);
    case 'vdev-invalid':
      return v('fatal', false, e.line);
    case 'eject-locked':
      return { kind: 'locked', source: 'xl', step: e.step, ok: false, detail: e.line, error: e.line.replace(/^.*?Domain \d+:/, '') };
    case 'error':
      return v('progress', false, e.line);
  }
}

function paramsVerdict(ctx: CdromContext, e: Extract<CdromEvent, { type: 'cd.params' }>, inEject: boolean): Verdict {
  if (e.fromStubdom !== ctx.stubdom) return IGNORE;
  const base = { source: 'xs' as const, step: `params (${e.where})`, ok: true, detail: JSON.stringify(e.value) };
  if (e.value === '') {
    if (!inEject) return { ...base, kind: 'progress' };
    // Eject only, no stub domain: clearing params is libxl's last step.
    return { ...base, kind: ctx.op?.path !== undefined || ctx.stubdom ? 'insert-phase' : 'done' };
  }
  // In a stub domain the PV disk attach writes the new path before QEMU has the media; wait for the change.
  if (!ctx.stubdom && ctx.op?.path !== undefined && mediaPathOf(e.value) === ctx.op.path) return { ...base, kind: 'done' };
  return { ...base, kind: 'progress' };
}

/**
 * What `event` means for the change in progress. `inEject` is true while the
 * machine is still in the eject phase.
 */
export function verdictOf(ctx: CdromContext, event: CdromEvent, inEject: boolean): Verdict {
  switch (event.type) {
    case 'cd.qmp':
      return qmpVerdict(ctx, event);
    case 'cd.step':
      return stepVerdict(ctx, event);
    case 'cd.params':
      return paramsVerdict(ctx, event, inEject);
    case 'cd.type':
      if (event.fromStubdom !== ctx.stubdom) return IGNORE;
      return { kind: 'progress', source: 'xs', step: `type (${event.where})`, ok: true, detail: event.value };
    case 'cd.detached':
      if (event.fromStubdom) return { kind: 'progress', source: 'xs', step: 'stubdom-disk-detached', ok: true };
      return { kind: 'fatal', source: 'xs', step: 'device-removed', ok: false, error: 'the CD-ROM device was removed' };
    case 'cd.device':
      if (event.fromStubdom && ctx.op?.stubDetached)
        return { kind: 'insert-phase', source: 'xs', step: 'stubdom-disk-attached', ok: true };
      return IGNORE;
    case 'cd.tray':
      return { kind: 'progress', source: 'qmp', step: event.open ? 'tray-open' : 'tray-closed', ok: true };
    case 'cd.request':
    case 'cd.result':
    case 'clock.tick':
      return IGNORE;
  }
}

/** Whether a command's error text is QEMU's refusal to eject a locked tray. */
export function isLockedText(text: string | undefined): boolean {
  return text !== undefined && LOCKED_RE.test(text);
}
