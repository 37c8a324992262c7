/**
 * Pure parsers for the lines xl's monitor daemon writes to
 * `/var/log/xen/xl-<name>.log` (Xen 4.17 `tools/xl/xl_vmcontrol.c`, plus the
 * libxl soft-reset errors that land in the same file). Each pattern is
 * anchored at both ends: a line that is not exactly one of these shapes is not
 * a decision, and the domain machine never guesses from free text.
 */

/** What xl does after a shutdown (`libxl_action_on_shutdown`, as xl names it). */
export type OnShutdownAction =
  | 'destroy'
  | 'restart'
  | 'rename-restart'
  | 'preserve'
  | 'coredump-destroy'
  | 'coredump-restart'
  | 'soft-reset';

export const ON_SHUTDOWN_ACTIONS: readonly OnShutdownAction[] = [
  'destroy',
  'restart',
  'rename-restart',
  'preserve',
  'coredump-destroy',
  'coredump-restart',
  'soft-reset',
];

/** Hypervisor SHUTDOWN_* code → libxl reason name (reference 3.2). */
export const REASON_BY_CODE = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'] as const;
export type ReasonName = (typeof REASON_BY_CODE)[number];

/** One recognised xl log line. */
export type XlDecision =
  /** "Waiting for domain NAME (domid N) to die [pid P]": the monitor watches (again) a created / re-created domain. */
  | { kind: 'waiting'; name: string; domid: number; pid: number }
  /** "Domain N has shut down, reason code C 0xC": the monitor saw the shutdown. */
  | { kind: 'shutdown'; domid: number; code: number; reason: ReasonName | undefined }
  /** "Action for shutdown reason code C is ACTION": the on_* action chosen. */
  | { kind: 'action'; code: number; reason: ReasonName | undefined; action: OnShutdownAction }
  /** "Unknown shutdown reason code C. Destroying domain." */
  | { kind: 'action'; code: number; reason: undefined; action: 'destroy'; unknownReason: true }
  /** "Domain has suspended.": a suspend shutdown is only logged. */
  | { kind: 'suspended' }
  /** "dumping core to FILE" (coredump-destroy / coredump-restart). */
  | { kind: 'coredump'; file: string }
  /** "core dump failed (rc=N)." */
  | { kind: 'coredump-failed'; rc: number }
  /** "Domain N needs to be cleaned up: destroying the domain" (destroy and restart). */
  | { kind: 'destroying'; domid: number }
  /** "Preserving domain N NAME with suffix-SUFFIX" (rename-restart). */
  | { kind: 'preserving'; domid: number; name: string; suffix: string }
  /** "Done. Rebooting now": xl is about to re-create (restart, rename-restart, soft-reset). */
  | { kind: 'rebooting' }
  /** "Done. Exiting now": no restart; the monitor exits. */
  | { kind: 'exiting' }
  /** "Domain N has been destroyed.": the domain died under the monitor (e.g. `xl destroy`). */
  | { kind: 'destroyed'; domid: number }
  /** libxl soft-reset step failed ("libxl: error: libxl_create.c:L:FUNC: Domain N:MESSAGE"). */
  | { kind: 'soft-reset-failed'; domid: number; message: string };

const RE_WAITING = /^Waiting for domain (.+) \(domid (\d+)\) to die \[pid (\d+)\]$/;
const RE_SHUTDOWN = /^Domain (\d+) has shut down, reason code (\d+) 0x([0-9a-f]+)$/;
const RE_ACTION = /^Action for shutdown reason code (\d+) is ([a-z-]+)$/;
const RE_UNKNOWN = /^Unknown shutdown reason code (-?\d+)\. Destroying domain\.$/;
const RE_COREDUMP = /^dumping core to (\S.*)$/;
const RE_COREDUMP_FAILED = /^core dump failed \(rc=(-?\d+)\)\.$/;
const RE_DESTROYING = /^Domain (\d+) needs to be cleaned up: destroying the domain$/;
const RE_PRESERVING = /^Preserving domain (\d+) (\S+) with suffix(-\S+)$/;
const RE_DESTROYED = /^Domain (\d+) has been destroyed\.$/;
/** The soft-reset functions of libxl_create.c that log on failure (4.17). */
const RE_SOFT_RESET_FAILED =
  /^libxl: error: libxl_create\.c:\d+:(?:domain_soft_reset_cb|do_domain_soft_reset|soft_reset_dm_suspended): Domain (\d+):(.+)$/;

function reasonOf(code: number): ReasonName | undefined {
  return code >= 0 && code < REASON_BY_CODE.length ? REASON_BY_CODE[code] : undefined;
}

function isAction(s: string): s is OnShutdownAction {
  return (ON_SHUTDOWN_ACTIONS as readonly string[]).includes(s);
}

/**
 * Parse one xl log line (trailing newline / CR tolerated). Returns null for
 * any line that is not one of xl's recognised monitor lines.
 */
export function parseXlLogLine(line: string): XlDecision | null {
  const s = line.replace(/[\r\n]+$/, '');
  let m: RegExpExecArray | null;
  switch (s) {
    case 'Domain has suspended.':
      return { kind: 'suspended' };
    case 'Done. Rebooting now':
      return { kind: 'rebooting' };
    case 'Done. Exiting now':
      return { kind: 'exiting' };
  }
  if ((m = RE_ACTION.exec(s))) {
    const code = Number(m[1]);
    const action = m[2] ?? '';
    return isAction(action) ? { kind: 'action', code, reason: reasonOf(code), action } : null;
  }
  if ((m = RE_SHUTDOWN.exec(s))) {
    const code = Number(m[2]);
    // xl prints the same code twice (decimal, hex); a mismatch is not xl's line.
    if (parseInt(m[3] ?? '', 16) !== code) return null;
    return { kind: 'shutdown', domid: Number(m[1]), code, reason: reasonOf(code) };
  }
  if ((m = RE_DESTROYING.exec(s))) return { kind: 'destroying', domid: Number(m[1]) };
  if ((m = RE_WAITING.exec(s))) return { kind: 'waiting', name: m[1] ?? '', domid: Number(m[2]), pid: Number(m[3]) };
  if ((m = RE_DESTROYED.exec(s))) return { kind: 'destroyed', domid: Number(m[1]) };
  if ((m = RE_UNKNOWN.exec(s))) {
    return { kind: 'action', code: Number(m[1]), reason: undefined, action: 'destroy', unknownReason: true };
  }
  if ((m = RE_PRESERVING.exec(s))) {
    return { kind: 'preserving', domid: Number(m[1]), name: m[2] ?? '', suffix: m[3] ?? '' };
  }
  if ((m = RE_COREDUMP.exec(s))) return { kind: 'coredump', file: m[1] ?? '' };
  if ((m = RE_COREDUMP_FAILED.exec(s))) return { kind: 'coredump-failed', rc: Number(m[1]) };
  if ((m = RE_SOFT_RESET_FAILED.exec(s))) {
    return { kind: 'soft-reset-failed', domid: Number(m[1]), message: m[2] ?? '' };
  }
  return null;
}
