/**
 * The simulated device model (QEMU 7.2 for Xen, `-no-shutdown`): run state,
 * the emulated CD-ROM drives with their trays and media, fd sets, and the QMP
 * commands libxl and Xendeck use. Replies and error texts follow QEMU 7.2 as
 * observed on the real-qemu fixture (its README lists them). Effects on the
 * domain (a guest reset turning into a Xen reboot, quit killing QEMU) go
 * through `hooks`, which the simulated host provides.
 */

export type RunState = 'prelaunch' | 'running' | 'paused' | 'shutdown' | 'io-error';

export interface FdInfo {
  /** Access mode of the passed fd: O_RDONLY → 'r', O_WRONLY → 'w', O_RDWR → 'rw'. */
  mode: 'r' | 'w' | 'rw';
  /** The file it refers to, when known. */
  path?: string;
}

interface FdEntry {
  fd: number;
  opaque?: string;
  info: FdInfo;
}

interface FdSet {
  id: number;
  fds: FdEntry[];
  /** Media currently opened through /dev/fdset/<id>. */
  holders: number;
}

export interface BlockDev {
  id: string;
  cdrom: boolean;
  tray_open: boolean;
  locked: boolean;
  inserted?: { file: string; format: string; ro: boolean; fdset?: number; node: string; size: number };
}

export type QmpResult = { ok: true; value: unknown } | { ok: false; cls: string; desc: string };

export interface DmHooks {
  /** The guest asked for (or QMP forced) a reset: on Xen QEMU turns it into a reboot shutdown. */
  reset?(guest: boolean): void;
  /** ACPI power button pressed. */
  powerdown?(): void;
  /** QEMU is exiting (quit or kill). */
  quit?(): void;
  stop?(): void;
  cont?(): void;
  saveDevices?(filename: string): void;
  /** Size of an image file, for query-block. */
  imageSize?(path: string): number | undefined;
}

export interface DmOptions {
  version: { major: number; minor: number; micro: number };
  pkg: string;
  status?: RunState;
  drives?: Array<{ id: string; cdrom: boolean; file?: string; format?: string }>;
}

const ok = (value: unknown = {}): QmpResult => ({ ok: true, value });
const err = (desc: string, cls = 'GenericError'): QmpResult => ({ ok: false, cls, desc });

type Args = Record<string, unknown>;

/** Parameters each command accepts (name → type; a trailing ? marks optional). */
const SCHEMA: Record<string, Record<string, string>> = {
  qmp_capabilities: { 'enable?': 'array' },
  'query-version': {},
  'query-status': {},
  'query-block': {},
  'query-fdsets': {},
  'query-commands': {},
  eject: { 'device?': 'string', 'id?': 'string', 'force?': 'boolean' },
  'blockdev-change-medium': {
    'device?': 'string',
    'id?': 'string',
    filename: 'string',
    'format?': 'string',
    'force?': 'boolean',
    'read-only-mode?': 'string',
  },
  'blockdev-open-tray': { 'device?': 'string', 'id?': 'string', 'force?': 'boolean' },
  'blockdev-close-tray': { 'device?': 'string', 'id?': 'string' },
  'add-fd': { 'fdset-id?': 'int', 'opaque?': 'string' },
  'remove-fd': { 'fdset-id': 'int', 'fd?': 'int' },
  getfd: { fdname: 'string' },
  closefd: { fdname: 'string' },
  stop: {},
  cont: {},
  system_reset: {},
  system_powerdown: {},
  quit: {},
  'xen-save-devices-state': { filename: 'string', 'live?': 'boolean' },
  'xen-set-global-dirty-log': { enable: 'boolean' },
};

function checkArgs(cmd: string, args: Args): QmpResult | undefined {
  const schema = SCHEMA[cmd];
  for (const k of Object.keys(args)) {
    if (!(k in schema) && !(`${k}?` in schema)) return err(`Parameter '${k}' is unexpected`);
  }
  for (const [rawKey, type] of Object.entries(schema)) {
    const optional = rawKey.endsWith('?');
    const key = optional ? rawKey.slice(0, -1) : rawKey;
    const v = args[key];
    if (v === undefined) {
      if (!optional) return err(`Parameter '${key}' is missing`);
      continue;
    }
    const good =
      type === 'string'
        ? typeof v === 'string'
        : type === 'boolean'
          ? typeof v === 'boolean'
          : type === 'int'
            ? typeof v === 'number' && Number.isInteger(v)
            : Array.isArray(v);
    if (!good) return err(`Invalid parameter type for '${key}', expected: ${type === 'int' ? 'integer' : type}`);
  }
  return undefined;
}

export class DeviceModel {
  status: RunState;
  readonly blocks = new Map<string, BlockDev>();
  private readonly fdsets = new Map<number, FdSet>();
  private readonly namedFds = new Map<string, FdInfo>();
  private nodeCounter = 200;
  /** Fault: the next N blockdev-change-medium calls fail as if the fd set were missing. */
  changeFailures = 0;
  /** Set by the QMP endpoint: delivers an event to the connected client. */
  onEvent: (name: string, data?: Record<string, unknown>) => void = () => undefined;
  hooks: DmHooks = {};
  alive = true;

  constructor(private readonly opts: DmOptions) {
    this.status = opts.status ?? 'running';
    for (const d of opts.drives ?? []) {
      const b: BlockDev = { id: d.id, cdrom: d.cdrom, tray_open: false, locked: false };
      if (d.file) b.inserted = this.medium(d.file, d.format ?? 'raw', d.cdrom);
      this.blocks.set(d.id, b);
    }
  }

  versionReply(): Record<string, unknown> {
    const v = this.opts.version;
    return { qemu: { micro: v.micro, minor: v.minor, major: v.major }, package: this.opts.pkg };
  }

  greeting(): Record<string, unknown> {
    return { QMP: { version: this.versionReply(), capabilities: ['oob'] } };
  }

  /** The guest locks or unlocks the tray (e.g. a mounted CD). */
  setTrayLock(id: string, locked: boolean): boolean {
    const b = this.blocks.get(id);
    if (!b) return false;
    b.locked = locked;
    return true;
  }

  /** A medium added by the device model itself (e.g. the stub domain adding /dev/xvdX to its fd set). */
  addOwnFd(fdsetId: number, info: FdInfo, opaque?: string): number {
    const set = this.fdsets.get(fdsetId) ?? { id: fdsetId, fds: [], holders: 0 };
    this.fdsets.set(fdsetId, set);
    const fd = this.nextFd();
    set.fds.push({ fd, info, opaque });
    return fd;
  }

  /** QEMU's monitor cleanup when a QMP client disconnects: unused fds of sets nobody holds are closed. */
  clientGone(): void {
    for (const [id, set] of this.fdsets) {
      if (set.holders === 0) this.fdsets.delete(id);
    }
  }

  private nextFd(): number {
    const used = new Set<number>();
    for (const s of this.fdsets.values()) for (const f of s.fds) used.add(f.fd);
    let fd = 12;
    while (used.has(fd)) fd++;
    return fd;
  }

  private medium(file: string, format: string, ro: boolean, fdset?: number): NonNullable<BlockDev['inserted']> {
    const path = fdset !== undefined ? this.fdsets.get(fdset)?.fds[0]?.info.path : file;
    const size = (path ? this.hooks.imageSize?.(path) : undefined) ?? 358400;
    return { file, format, ro, fdset, node: `#block${(this.nodeCounter += 66)}`, size };
  }

  private release(b: BlockDev): void {
    const fdset = b.inserted?.fdset;
    b.inserted = undefined;
    if (fdset === undefined) return;
    const set = this.fdsets.get(fdset);
    if (!set) return;
    set.holders--;
    if (set.holders <= 0 && set.fds.length === 0) this.fdsets.delete(fdset);
  }

  private findBlock(args: Args): BlockDev | QmpResult {
    const id = args.id as string | undefined;
    const device = args.device as string | undefined;
    if ((id === undefined) === (device === undefined)) return err("Need exactly one of 'device' and 'id'");
    const name = (id ?? device)!;
    const b = this.blocks.get(name);
    if (!b) return err(`Device '${name}' not found`, 'DeviceNotFound');
    return b;
  }

  private tray(b: BlockDev, open: boolean): void {
    if (b.tray_open === open) return;
    b.tray_open = open;
    this.onEvent('DEVICE_TRAY_MOVED', { device: b.id, 'tray-open': open, id: b.id });
  }

  /** Guest-side tray action (the guest OS opening or closing the drive). */
  guestTray(id: string, open: boolean): void {
    const b = this.blocks.get(id);
    if (!b) return;
    if (open) this.release(b);
    this.tray(b, open);
  }

  private setStatus(s: RunState): void {
    this.status = s;
  }

  /** A guest-initiated shutdown or reset as QEMU reports it under -no-shutdown. */
  guestShutdown(reason: 'guest-shutdown' | 'guest-reset' | 'guest-panic'): void {
    this.onEvent('SHUTDOWN', { guest: true, reason });
    if (this.status === 'running') this.onEvent('STOP');
    this.setStatus('shutdown');
  }

  guestReset(): void {
    this.onEvent('RESET', { guest: true, reason: 'guest-reset' });
  }

  /** Runs one QMP command; `fds` are the descriptors passed with it by SCM_RIGHTS. */
  execute(cmd: string, args: Args, fds: FdInfo[] = []): QmpResult {
    if (!(cmd in SCHEMA) || cmd === 'qmp_capabilities') return err(`The command ${cmd} has not been found`, 'CommandNotFound');
    const bad = checkArgs(cmd, args);
    if (bad) return bad;
    switch (cmd) {
      case 'query-version':
        return ok(this.versionReply());
      case 'query-status':
        return ok({ status: this.status, singlestep: false, running: this.status === 'running' });
      case 'query-commands':
        return ok(Object.keys(SCHEMA).map((name) => ({ name })));
      case 'query-block':
        return ok([...this.blocks.values()].map((b) => this.blockInfo(b)));
      case 'query-fdsets':
        return ok(
          [...this.fdsets.values()].map((s) => ({
            fds: s.fds.map((f) => (f.opaque !== undefined ? { fd: f.fd, opaque: f.opaque } : { fd: f.fd })),
            'fdset-id': s.id,
          })),
        );
      case 'eject': {
        const b = this.findBlock(args);
        if (!('id' in b && 'cdrom' in b)) return b;
        if (b.locked && args.force !== true && !b.tray_open) {
          return err(`Device '${b.id}' is locked and force was not specified, wait for tray to open and try again`);
        }
        this.tray(b, true);
        this.release(b);
        return ok();
      }
      case 'blockdev-open-tray': {
        const b = this.findBlock(args);
        if (!('id' in b && 'cdrom' in b)) return b;
        if (b.locked && args.force !== true && !b.tray_open) {
          return err(`Device '${b.id}' is locked and force was not specified, wait for tray to open and try again`);
        }
        this.tray(b, true);
        return ok();
      }
      case 'blockdev-close-tray': {
        const b = this.findBlock(args);
        if (!('id' in b && 'cdrom' in b)) return b;
        this.tray(b, false);
        return ok();
      }
      case 'blockdev-change-medium':
        return this.changeMedium(args);
      case 'add-fd': {
        if (fds.length === 0) return err('No file descriptor supplied via SCM_RIGHTS');
        let id = args['fdset-id'] as number | undefined;
        if (id === undefined) {
          id = 0;
          while (this.fdsets.has(id)) id++;
        }
        const set = this.fdsets.get(id) ?? { id, fds: [], holders: 0 };
        this.fdsets.set(id, set);
        const fd = this.nextFd();
        set.fds.push({ fd, info: fds[0], opaque: args.opaque as string | undefined });
        return ok({ fd, 'fdset-id': id });
      }
      case 'remove-fd': {
        const id = args['fdset-id'] as number;
        const fd = args.fd as number | undefined;
        const set = this.fdsets.get(id);
        const matching = set ? set.fds.filter((f) => fd === undefined || f.fd === fd) : [];
        if (!set || matching.length === 0) {
          return err(fd === undefined ? `File descriptor named 'fdset-id:${id}' not found` : `File descriptor named 'fdset-id:${id}, fd:${fd}' not found`);
        }
        set.fds = set.fds.filter((f) => !matching.includes(f));
        if (set.fds.length === 0 && set.holders === 0) this.fdsets.delete(id);
        return ok();
      }
      case 'getfd':
        if (fds.length === 0) return err('No file descriptor supplied via SCM_RIGHTS');
        this.namedFds.set(args.fdname as string, fds[0]);
        return ok();
      case 'closefd':
        if (!this.namedFds.delete(args.fdname as string)) return err(`File descriptor named '${args.fdname as string}' not found`);
        return ok();
      case 'stop':
        if (this.status === 'running') {
          this.setStatus('paused');
          this.onEvent('STOP');
          this.hooks.stop?.();
        }
        return ok();
      case 'cont':
        if (this.status !== 'running') {
          this.setStatus('running');
          this.onEvent('RESUME');
          this.hooks.cont?.();
        }
        return ok();
      case 'system_reset':
        this.onEvent('RESET', { guest: false, reason: 'host-qmp-system-reset' });
        this.hooks.reset?.(false);
        return ok();
      case 'system_powerdown':
        this.onEvent('POWERDOWN');
        this.hooks.powerdown?.();
        return ok();
      case 'quit':
        this.onEvent('SHUTDOWN', { guest: false, reason: 'host-qmp-quit' });
        return ok();
      case 'xen-save-devices-state': {
        const wasRunning = this.status === 'running';
        if (wasRunning) this.onEvent('STOP');
        this.hooks.saveDevices?.(args.filename as string);
        if (wasRunning) this.onEvent('RESUME');
        return ok();
      }
      case 'xen-set-global-dirty-log':
        return ok();
      default:
        return err(`The command ${cmd} has not been found`, 'CommandNotFound');
    }
  }

  private changeMedium(args: Args): QmpResult {
    const b = this.findBlock(args);
    if (!('id' in b && 'cdrom' in b)) return b;
    const filename = args.filename as string;
    const format = (args.format as string | undefined) ?? 'raw';
    const ro = b.cdrom || args['read-only-mode'] === 'read-only';
    const m = /^\/dev\/fdset\/(\d+)$/.exec(filename);
    if (this.changeFailures > 0) {
      this.changeFailures--;
      return err(`Could not dup FD for ${filename} flags 0: No such file or directory`);
    }
    let fdset: number | undefined;
    if (m) {
      fdset = Number(m[1]);
      const set = this.fdsets.get(fdset);
      if (!set || set.fds.length === 0) return err(`Could not dup FD for ${filename} flags 0: No such file or directory`);
      if (ro && !set.fds.some((f) => f.info.mode === 'r')) return err(`Could not dup FD for ${filename} flags 0: Permission denied`);
    }
    if (b.locked && args.force !== true && !b.tray_open) {
      return err(`Device '${b.id}' is locked and force was not specified, wait for tray to open and try again`);
    }
    this.tray(b, true);
    this.release(b);
    if (fdset !== undefined) this.fdsets.get(fdset)!.holders++;
    b.inserted = this.medium(filename, format, ro, fdset);
    this.tray(b, false);
    return ok();
  }

  private blockInfo(b: BlockDev): Record<string, unknown> {
    const info: Record<string, unknown> = { 'io-status': 'ok', device: b.id, locked: b.locked, removable: b.cdrom };
    if (b.inserted) {
      const i = b.inserted;
      info.inserted = {
        iops_rd: 0,
        detect_zeroes: 'off',
        image: { 'virtual-size': i.size, filename: i.file, format: i.format, 'actual-size': i.size + 2048, 'dirty-flag': false },
        iops_wr: 0,
        ro: i.ro,
        'node-name': i.node,
        backing_file_depth: 0,
        drv: i.format,
        iops: 0,
        bps_wr: 0,
        write_threshold: 0,
        encrypted: false,
        bps: 0,
        bps_rd: 0,
        cache: { 'no-flush': false, direct: false, writeback: true },
        file: i.file,
      };
    }
    info.qdev = b.id;
    if (b.cdrom) info.tray_open = b.tray_open;
    info.type = 'unknown';
    return info;
  }
}
