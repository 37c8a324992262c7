/**
 * The simulated Xen 4.17 host around the xenstore: the hypervisor's domain
 * list and flags, libxl's domain and device layout (reference section 3 with
 * its permissions), the kernel and QEMU backends and the guests' frontends
 * playing the xenbus handshake (reference 2.4/2.5) on the simulator's clock,
 * QEMU device models with a QMP endpoint each, the xl monitor daemons with
 * their `on_*` decisions in `xl-<name>.log`, restart with a new domid and
 * soft reset keeping it (reference 9, seed 004), the CD-ROM change of seed 000,
 * xen-9pfsd (seed 001), ioreq servers (seed 002) and the platform device's
 * unplug protocol (seed 003).
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { XsHandle, XsPerm, XsStore } from '../xenstore/store-api.ts';

/** The simulated hypervisor's extra calls on the store (electron/sim/xenstore/store.ts), used when the store has them. */
interface HvStore {
  createDomain?(domid: number): void;
  shutdownDomain?(domid: number): void;
  destroyDomain?(domid: number): void;
  setTarget?(domid: number, target: number): void;
}
import type { SimClock } from './clock.ts';
import { vdevToDevid } from './devid.ts';
import { HostFs } from './hostfs.ts';
import { IoreqTable, deprecatedParam } from './ioreq.ts';
import { AT, libxlLog, silentLogger, type LibxlLogger } from './libxl-log.ts';
import { NinePfsd } from './ninepfsd.ts';
import { PlatformDevice, runPvProbe, type ProbeOutcome } from './unplug.ts';
import { ERROR, SHUTDOWN_REASONS, domainSpecSchema, type DiskSpec, type DomInfo, type DomainSpec, type DomainSpecInput, type HostInfo, type P9Spec, type ShutdownAction, type ShutdownReason } from './types.ts';
import { DeviceModel, type FdInfo } from '../qmp/dm.ts';
import { QmpEndpoint, type QmpListener } from '../qmp/qmp-server.ts';
import { RealQemu } from '../qmp/real-qemu.ts';

/** Simulated durations in ms. */
export const T = {
  backendProbe: 15,
  hotplugScript: 120,
  frontendConnect: 30,
  backendConnect: 20,
  close: 15,
  dmStart: 350,
  stubdomBoot: 300,
  xenconsoled: 25,
  shutdownAck: 40,
  guestShutdown: 400,
  monitorReact: 30,
  rebootSleep: 2000,
  initTimeout: 10_000,
  destroyTimeout: 10_000,
  qemuBodge: 2000,
  stubFdsetAdd: 250,
  acpi: 300,
} as const;

const STATE = { Initialising: '1', InitWait: '2', Initialised: '3', Connected: '4', Closing: '5', Closed: '6' } as const;

export class XlError extends Error {
  constructor(
    readonly rc: number,
    message: string,
  ) {
    super(message);
  }
}

type Kind = 'vbd' | 'vif' | 'console' | '9pfs';

export interface SimDevice {
  kind: Kind;
  devid: number;
  domid: number;
  backend: number;
  beKind: 'vbd' | 'qdisk' | 'vif' | 'console' | '9pfs' | 'xen_9pfs';
  fe: string;
  be: string;
  lx: string;
  disk?: DiskSpec;
  p9?: P9Spec;
  stalled?: boolean;
  hotplugError?: string;
  unwatch: Array<() => void>;
}

export interface SimDomain {
  domid: number;
  uuid: string;
  name: string;
  spec: DomainSpec;
  stubFor?: number;
  stubdomid?: number;
  paused: boolean;
  shutdown: boolean;
  reason?: ShutdownReason;
  dying: boolean;
  created: number;
  devices: SimDevice[];
  monitored: boolean;
  /** pid of the xl monitor daemon (the same process across restarts and soft resets). */
  monitorPid?: number;
  dm?: DeviceModel;
  qmp?: QmpEndpoint;
  /** With `dm: 'qemu'`: the real QEMU serving this domain's QMP socket. */
  realQemu?: RealQemu;
  ioreq?: IoreqTable;
  platform?: PlatformDevice;
  pvUp: boolean;
  booted: boolean;
  probe?: ProbeOutcome;
  grants: Map<number, { ring_order: number }>;
  evtchns: Set<number>;
  cancel: Array<() => void>;
  qemuPid?: number;
  /** Media per cdrom vdev, as libxl's stored config knows it. */
  media: Map<string, string | undefined>;
  /** Faults waiting for this domain. */
  faults: { backendStall: Set<string>; hotplugError: Map<string, string> };
}

export interface HostOptions {
  store: XsStore;
  clock: SimClock;
  logDir: string;
  qmpDir: string;
  lockDir: string;
  info?: Partial<HostInfo>;
  fs?: HostFs;
  qmpListener?: QmpListener;
  /** Device model for HVM guests without a stub domain: the simulated QEMU (default) or a real qemu-system-x86_64. */
  dm?: 'sim' | 'qemu';
  /** Called for every notable simulator event (for the runner's log). */
  onEvent?: (line: string) => void;
  /**
   * Observations only the simulator can make, as records without seq/ts/hash
   * (`{src:'sim', type:'ioreq.op', domid, data}`, see machines/ioreq/README.md).
   */
  onObservation?: (rec: { src: 'sim'; type: string; domid: number; data: Record<string, unknown> }) => void;
  /** Called for every QMP command a device model ran (from any client, the simulated libxl included). */
  onQmp?: (domid: number, cmd: string, args: Record<string, unknown>, reply: unknown) => void;
}

/** uuid derived from a name, so scenario domains keep their uuid across runs. */
function uuidFor(name: string): string {
  let h = 0x811c9dc5;
  const bytes: number[] = [];
  for (let i = 0; i < 16; i++) {
    for (const ch of `${name}#${i}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    bytes.push(h & 0xff);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class SimHost {
  readonly store: XsStore;
  readonly clock: SimClock;
  readonly info: HostInfo;
  readonly fs: HostFs;
  readonly domains = new Map<number, SimDomain>();
  private nextDomid = 1;
  private readonly x0: XsHandle;
  private ninepfsd: NinePfsd | undefined;
  private pidCounter = 4000;
  private stopped = false;
  private readonly recentDomids = new Set<number>();
  /** Bumped by `reset()`: work begun before it (an xl monitor's reboot) is abandoned. */
  private generation = 0;

  constructor(private readonly opts: HostOptions) {
    this.store = opts.store;
    this.clock = opts.clock;
    this.info = { xen: opts.info?.xen ?? '4.17.7', qemu: opts.info?.qemu ?? '7.2.22', profile: opts.info?.profile ?? 'seed' };
    this.fs = opts.fs ?? new HostFs();
    this.x0 = this.store.as(0);
    for (const d of [opts.logDir, opts.qmpDir, opts.lockDir]) fs.mkdirSync(d, { recursive: true });
    this.x0.write('/local/domain/0/name', 'Domain-0');
    this.x0.write('/local/domain/0/domid', '0');
  }

  // ---------------------------------------------------------------- logs

  /** Appends a line to a file in the log directory (xl-<name>.log, qemu-dm-<name>.log, xen-hotplug.log, ...). */
  log(file: string, line: string): void {
    if (this.stopped) return;
    fs.appendFileSync(path.join(this.opts.logDir, file), `${line}\n`);
    this.opts.onEvent?.(`${file}: ${line}`);
  }

  private xlLog(d: SimDomain, line: string): void {
    this.log(`xl-${d.name}.log`, line);
  }

  private qemuLog(d: SimDomain, line: string): void {
    this.log(`qemu-dm-${d.stubFor !== undefined ? this.domains.get(d.stubFor)?.name ?? d.name : d.name}.log`, line);
  }

  // ---------------------------------------------------------------- lookups

  /** libxl_domain_qualifier_to_domid: a domid or a name. */
  find(q: string): SimDomain | undefined {
    if (/^[0-9]+$/.test(q)) return this.domains.get(Number(q));
    return [...this.domains.values()].find((d) => d.name === q);
  }

  dominfo(): DomInfo[] {
    const dom0: DomInfo = { domid: 0, uuid: '00000000-0000-0000-0000-000000000000', name: 'Domain-0', running: true, blocked: false, paused: false, shutdown: false, dying: false, memkb: 4096 * 1024, vcpus: 2, cpuTime: this.clock.elapsed() * 1e5 };
    const rest = [...this.domains.values()]
      .sort((a, b) => a.domid - b.domid)
      .map((d): DomInfo => {
        const active = !d.paused && !d.shutdown && !d.dying;
        return {
          domid: d.domid,
          uuid: d.uuid,
          name: d.name,
          running: false,
          blocked: active,
          paused: d.paused,
          shutdown: d.shutdown,
          dying: d.dying,
          reason: d.shutdown ? d.reason : undefined,
          memkb: d.spec.memory * 1024,
          vcpus: d.spec.vcpus,
          cpuTime: Math.max(0, this.clock.now() - d.created) * 2e5,
        };
      });
    return [dom0, ...rest];
  }

  // ---------------------------------------------------------------- layout

  private perms(owner: number, ...read: number[]): XsPerm[] {
    return [{ domid: owner, perm: 'n' }, ...read.map((domid) => ({ domid, perm: 'r' as const }))];
  }

  /** libxl__domain_make + libxl__build_post: the domain's xenstore skeleton (reference 3). */
  private writeLayout(d: SimDomain): void {
    const dom = `/local/domain/${d.domid}`;
    const vm = `/vm/${d.uuid}`;
    const lx = `/libxl/${d.domid}`;
    const type = d.spec.type;
    const ro = this.perms(0, d.domid);
    const rw: XsPerm[] = [{ domid: d.domid, perm: 'n' }];
    this.x0.transaction((t) => {
      const mknod = (p: string, perms: XsPerm[]) => {
        t.write(p, '');
        t.setPerms(p, perms);
      };
      for (const p of [dom, vm, lx]) if (t.exists(p)) t.rm(p);
      mknod(dom, ro);
      mknod(vm, ro);
      mknod(lx, this.perms(0));
      mknod(`${lx}/device`, this.perms(0));
      t.write(`${dom}/vm`, vm);
      t.write(`${dom}/name`, d.name);
      t.write(`${vm}/name`, d.name);
      mknod(`${dom}/cpu`, ro);
      mknod(`${dom}/memory`, ro);
      mknod(`${dom}/device`, ro);
      mknod(`${dom}/device/suspend/event-channel`, rw);
      mknod(`${dom}/control`, ro);
      if (type === 'hvm') mknod(`${dom}/hvmloader`, ro);
      for (const k of ['shutdown', 'feature-poweroff', 'feature-reboot', 'feature-suspend', ...(type === 'hvm' ? ['feature-s3', 'feature-s4'] : []), 'sysrq']) mknod(`${dom}/control/${k}`, rw);
      for (const k of ['data', 'drivers', 'feature', 'attr', 'error']) mknod(`${dom}/${k}`, rw);
      t.write(`${vm}/uuid`, d.uuid);
      t.write(`${vm}/name`, d.name);
      if (type === 'hvm') {
        t.write(`${dom}/platform/acpi`, '1');
        t.write(`${dom}/platform/acpi_s3`, '1');
        t.write(`${dom}/platform/acpi_s4`, '1');
        t.write(`${dom}/platform/acpi_laptop_slate`, '0');
        t.write(`${dom}/platform/device-model`, 'qemu_xen');
      }
      t.write(`${dom}/control/platform-feature-multiprocessor-suspend`, '1');
      t.write(`${dom}/control/platform-feature-xs_reset_watches`, '1');
      t.write(`${lx}/type`, type);
    });
    // libxl__build_post
    const start = this.clock.now();
    const startTime = `${Math.floor(start / 1000)}.${String(Math.floor((start % 1000) / 10)).padStart(2, '0')}`;
    this.x0.transaction((t) => {
      const memkb = d.spec.memory * 1024;
      t.write(`${dom}/memory/static-max`, String(memkb));
      t.write(`${dom}/memory/target`, String(memkb - (type === 'hvm' ? 8 * 1024 : 0)));
      t.write(`${dom}/memory/videoram`, type === 'hvm' ? '8192' : '0');
      t.write(`${dom}/domid`, String(d.domid));
      t.write(`${dom}/store/port`, '1');
      t.write(`${dom}/store/ring-ref`, String(0xfeffc + d.domid * 0x100000));
      for (let i = 0; i < d.spec.vcpus; i++) t.write(`${dom}/cpu/${i}/availability`, 'online');
      if (type === 'hvm') {
        t.write(`${vm}/rtc/timeoffset`, '');
        t.write(`${vm}/image/ostype`, 'hvm');
        t.write(`${vm}/start_time`, startTime);
      } else if (type === 'pv') {
        t.write(`${vm}/image/ostype`, 'linux');
        t.write(`${vm}/image/kernel`, d.stubFor !== undefined ? '/usr/lib/xen/boot/qemu-stubdom-linux-kernel' : '/boot/vmlinuz');
        t.write(`${vm}/start_time`, startTime);
      } else {
        t.write(`${vm}/start_time`, startTime);
      }
    });
    this.store.introduce(d.domid);
    if (type === 'hvm') {
      this.x0.write(`${lx}/dm-version`, 'qemu_xen');
      this.x0.write(`${dom}/hvmloader/bios`, 'seabios');
      this.x0.write(`${dom}/hvmloader/allow-memory-relocate`, '0');
    }
  }

  // ---------------------------------------------------------------- devices

  private devicePaths(kind: Kind, domid: number, devid: number, backend: number, beKind: string) {
    return {
      fe: kind === 'console' ? `/local/domain/${domid}/console` : `/local/domain/${domid}/device/${kind}/${devid}`,
      be: `/local/domain/${backend}/backend/${beKind}/${domid}/${devid}`,
      lx: `/libxl/${domid}/device/${kind}/${devid}`,
    };
  }

  /** libxl__device_*_add: frontend, backend and /libxl entries in one transaction (reference 2.4 step 1). */
  private addDevice(d: SimDomain, dev: Omit<SimDevice, 'fe' | 'be' | 'lx' | 'unwatch'>, beKeys: Record<string, string>, feKeys: Record<string, string>): SimDevice {
    const p = this.devicePaths(dev.kind, d.domid, dev.devid, dev.backend, dev.beKind);
    const full: SimDevice = { ...dev, ...p, unwatch: [] };
    this.x0.transaction((t) => {
      if (t.exists(p.fe)) t.rm(p.fe);
      if (t.exists(p.be)) t.rm(p.be);
      t.write(p.fe, '');
      t.setPerms(p.fe, this.perms(d.domid, dev.backend));
      t.write(p.be, '');
      t.setPerms(p.be, this.perms(dev.backend, d.domid));
      for (const [k, v] of Object.entries({ frontend: p.fe, 'frontend-id': String(d.domid), online: '1', state: STATE.Initialising, ...beKeys })) t.write(`${p.be}/${k}`, v);
      for (const [k, v] of Object.entries({ backend: p.be, 'backend-id': String(dev.backend), state: STATE.Initialising, ...feKeys })) t.write(`${p.fe}/${k}`, v);
      t.write(`${p.lx}/frontend`, p.fe);
      t.write(`${p.lx}/backend`, p.be);
      for (const [k, v] of Object.entries(beKeys)) t.write(`${p.lx}/${k}`, v);
    });
    d.devices.push(full);
    this.startBackend(d, full);
    return full;
  }

  private readState(p: string): string | undefined {
    return this.x0.tryRead(`${p}/state`);
  }

  private setState(h: XsHandle, p: string, s: string): void {
    try {
      if (h.exists(p)) h.write(`${p}/state`, s);
    } catch {
      /* the device went away meanwhile */
    }
  }

  /** The backend driver's side of the handshake (blkback, netback, QEMU, xenconsoled). xen-9pfsd runs on its own. */
  private startBackend(d: SimDomain, dev: SimDevice): void {
    if (dev.beKind === 'xen_9pfs') return;
    const be = this.store.as(dev.backend);
    const probe = () => {
      if (!this.x0.exists(dev.be) || dev.stalled) return;
      const features: Record<string, string> =
        dev.beKind === 'vbd' || dev.beKind === 'qdisk'
          ? { 'feature-flush-cache': '1', 'feature-discard': '0', 'feature-persistent': '1', 'max-ring-page-order': '4', 'multi-queue-max-queues': '4' }
          : dev.beKind === 'vif'
            ? { 'feature-sg': '1', 'feature-gso-tcpv4': '1', 'feature-rx-copy': '1', 'feature-split-event-channels': '1', 'multi-queue-max-queues': '2' }
            : dev.beKind === '9pfs'
              ? { versions: '1', 'max-rings': '4', 'max-ring-page-order': '9' }
              : {};
      be.transaction((t) => {
        for (const [k, v] of Object.entries(features)) t.write(`${dev.be}/${k}`, v);
        t.write(`${dev.be}/state`, STATE.InitWait);
      });
    };
    const qemuServed = dev.beKind === 'qdisk' || dev.beKind === '9pfs';
    if (qemuServed) {
      const target = d.stubFor !== undefined ? d : d;
      const wait = () => (target.dm?.alive ? probe() : d.cancel.push(this.clock.after(50, wait)));
      d.cancel.push(this.clock.after(T.backendProbe, wait));
    } else {
      d.cancel.push(this.clock.after(T.backendProbe, probe));
    }
    // React to the frontend: connect on Initialised, close on Closed with online=0.
    dev.unwatch.push(
      this.store.watch(
        `${dev.fe}/state`,
        `be-${dev.be}`,
        () => {
          const fe = this.readState(dev.fe);
          const bs = this.readState(dev.be);
          if (bs === undefined || dev.stalled) return;
          if ((fe === STATE.Initialised || fe === STATE.Connected) && bs === STATE.InitWait) {
            const hotplugOk = dev.beKind === 'vbd' || dev.beKind === 'vif' ? this.x0.tryRead(`${dev.be}/hotplug-status`) === 'connected' : true;
            if (!hotplugOk) return;
            d.cancel.push(
              this.clock.after(T.backendConnect, () => {
                if (this.readState(dev.be) !== STATE.InitWait) return;
                be.transaction((t) => {
                  if (dev.kind === 'vbd') {
                    t.write(`${dev.be}/sectors`, String(((dev.disk?.target && this.fs.size(dev.disk.target)) || 20 << 30) / 512));
                    t.write(`${dev.be}/info`, dev.disk?.cdrom ? '5' : '0');
                    t.write(`${dev.be}/sector-size`, '512');
                    t.write(`${dev.be}/physical-sector-size`, '512');
                  }
                  t.write(`${dev.be}/state`, STATE.Connected);
                });
              }),
            );
          } else if (fe === STATE.Closed || fe === STATE.Closing) {
            const online = this.x0.tryRead(`${dev.be}/online`);
            if (fe === STATE.Closed && (online === '0' || bs === STATE.Closing)) d.cancel.push(this.clock.after(T.close, () => this.setState(be, dev.be, STATE.Closed)));
            else if (fe === STATE.Closing && bs !== STATE.Closed) this.setState(be, dev.be, STATE.Closing);
          }
        },
        dev.backend,
      ),
    );
    // Hotplug-status changes (the script finished) can complete a pending connect.
    if (dev.beKind === 'vbd' || dev.beKind === 'vif') {
      dev.unwatch.push(
        this.store.watch(
          `${dev.be}/hotplug-status`,
          `hp-${dev.be}`,
          () => {
            if (this.x0.tryRead(`${dev.be}/hotplug-status`) !== 'connected') return;
            if (this.readState(dev.fe) === STATE.Initialised && this.readState(dev.be) === STATE.InitWait) {
              d.cancel.push(this.clock.after(T.backendConnect, () => this.readState(dev.be) === STATE.InitWait && this.setState(be, dev.be, STATE.Connected)));
            }
          },
          0,
        ),
      );
    }
  }

  /** Waits until `path` reads one of `values` (or `until` says stop), polling the store on the sim clock. */
  private waitFor(pathName: string, ok: (v: string | undefined) => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const started = this.clock.elapsed();
      const tick = () => {
        if (this.stopped) return resolve(false);
        if (ok(this.x0.tryRead(pathName))) return resolve(true);
        if (this.clock.elapsed() - started > timeoutMs) return resolve(false);
        this.clock.after(10, tick);
      };
      tick();
    });
  }

  /** libxl's device-add tail: wait for InitWait (dom0 kernel backends), then run the hotplug script. */
  private async hotplugAdd(d: SimDomain, dev: SimDevice, lg: LibxlLogger): Promise<void> {
    if (dev.beKind !== 'vbd' && dev.beKind !== 'vif') {
      libxlLog(lg, 'debug', AT.hotplugNone, d.domid, 'No hotplug script to execute');
      return;
    }
    const okState = await this.waitFor(`${dev.be}/state`, (v) => v === STATE.InitWait, T.initTimeout);
    if (!okState) {
      libxlLog(lg, 'debug', AT.devstateTimeout, undefined, `backend ${dev.be}/state wanted state 2 timed out`);
      libxlLog(lg, 'error', AT.deviceAddFail, d.domid, `unable to add device with path ${dev.be}`);
      throw new XlError(ERROR.TIMEDOUT, `unable to add device with path ${dev.be}`);
    }
    libxlLog(lg, 'debug', AT.devstateOk, undefined, `backend ${dev.be}/state wanted state 2 ok`);
    const script = dev.beKind === 'vbd' ? '/etc/xen/scripts/block' : '/etc/xen/scripts/vif-bridge';
    libxlLog(lg, 'debug', AT.hotplugCall, d.domid, `calling hotplug script: ${script} add`);
    libxlLog(lg, 'debug', 'libxl_device.c:1270:device_hotplug', d.domid, 'extra args:');
    libxlLog(lg, 'debug', 'libxl_device.c:1278:device_hotplug', d.domid, 'env:');
    const rel = dev.be.replace(/^\/local\/domain\/0\//, '');
    for (const [k, v] of [
      ['script', script],
      ['XENBUS_TYPE', dev.beKind],
      ['XENBUS_PATH', rel],
      ['XENBUS_BASE_PATH', 'backend'],
    ]) {
      libxlLog(lg, 'debug', 'libxl_device.c:1285:device_hotplug', d.domid, `\t${k}: ${v}`);
    }
    await this.clock.sleep(T.hotplugScript);
    const hpErr = d.faults.hotplugError.get(dev.disk?.vdev ?? `${dev.kind}/${dev.devid}`) ?? d.faults.hotplugError.get('*');
    if (hpErr !== undefined) {
      this.x0.write(`${dev.be}/hotplug-error`, hpErr);
      this.x0.write(`${dev.be}/hotplug-status`, 'error');
      this.log('xen-hotplug.log', `${script}: ${hpErr}`);
      libxlLog(lg, 'error', AT.hotplugScriptError, undefined, `script: ${hpErr}`);
      throw new XlError(ERROR.FAIL, `script: ${hpErr}`);
    }
    if (dev.beKind === 'vbd') {
      this.x0.write(`${dev.be}/physical-device`, `7:${d.domid % 8}`);
      this.x0.write(`${dev.be}/physical-device-path`, `/dev/loop${d.domid % 8}`);
    }
    this.x0.write(`${dev.be}/hotplug-status`, 'connected');
  }

  /**
   * libxl__initiate_device_generic_remove (reference 2.5): online=0 and backend
   * Closing in one transaction, wait for Closed, run the remove script, delete
   * the paths. `force`: 'off' fails on timeout, 'auto' retries with force, 'on' forces.
   */
  private async removeDevice(d: SimDomain, dev: SimDevice, force: 'off' | 'auto' | 'on', lg: LibxlLogger = silentLogger): Promise<void> {
    const bs = this.readState(dev.be);
    if (bs === undefined) {
      libxlLog(lg, 'info', AT.backendGone, undefined, `backend ${dev.be} already removed, cleanup frontend only`);
    } else {
      this.x0.transaction((t) => {
        t.write(`${dev.be}/online`, '0');
        if (t.tryRead(`${dev.be}/state`) !== STATE.Closed) t.write(`${dev.be}/state`, STATE.Closing);
      });
      const qemuServed = dev.beKind === 'qdisk' || dev.beKind === '9pfs';
      const frontAlive = d.pvUp && !d.dying && !d.shutdown && !d.paused;
      if (!frontAlive) {
        // Nobody will answer on the frontend side: kernel backends notice the dead frontend; for QEMU libxl writes Closed itself after its bodge timeout.
        d.cancel.push(this.clock.after(qemuServed ? T.qemuBodge : T.close, () => this.setState(this.x0, dev.be, STATE.Closed)));
      }
      const closed = await this.waitFor(`${dev.be}/state`, (v) => v === undefined || v === STATE.Closed, T.destroyTimeout);
      if (!closed) {
        if (force === 'off') {
          libxlLog(lg, 'error', AT.deviceAddFail, d.domid, `unable to remove device with path ${dev.be}`);
          throw new XlError(ERROR.TIMEDOUT, `unable to remove device with path ${dev.be}`);
        }
        libxlLog(lg, 'debug', AT.removeTimeout, d.domid, 'Timeout reached, initiating forced remove');
      }
      if (dev.beKind === 'vbd' || dev.beKind === 'vif') {
        libxlLog(lg, 'debug', AT.hotplugCall, d.domid, `calling hotplug script: ${dev.beKind === 'vbd' ? '/etc/xen/scripts/block' : '/etc/xen/scripts/vif-bridge'} remove`);
        await this.clock.sleep(T.hotplugScript / 2);
      }
    }
    for (const u of dev.unwatch.splice(0)) u();
    this.x0.transaction((t) => {
      for (const p of [dev.fe, dev.be, dev.lx]) if (t.exists(p)) t.rm(p);
      // prune parents left empty
      for (const p of [dev.be, dev.lx]) {
        let parent = p.slice(0, p.lastIndexOf('/'));
        for (let i = 0; i < 2; i++) {
          if (t.exists(parent) && t.directory(parent).length === 0) t.rm(parent);
          parent = parent.slice(0, parent.lastIndexOf('/'));
        }
      }
    });
    d.devices.splice(d.devices.indexOf(dev), 1);
  }

  /** The guest's frontend driver: transport keys and Initialised once the backend waits, Connected after it. */
  private startFrontend(d: SimDomain, dev: SimDevice): void {
    const g = this.store.as(d.domid);
    const act = (): void => {
      if (d.dying || d.shutdown || !d.pvUp) return;
      if (d.paused) {
        // A paused guest runs nothing: its driver acts once unpaused.
        d.cancel.push(this.clock.after(100, act));
        return;
      }
      const bs = this.readState(dev.be);
      const fs0 = this.readState(dev.fe);
      if (fs0 === undefined) return;
      if ((bs === STATE.InitWait || bs === STATE.Connected) && fs0 === STATE.Initialising) {
        d.cancel.push(this.clock.after(T.frontendConnect, () => this.writeTransport(d, dev, g)));
      } else if (bs === STATE.Connected && fs0 === STATE.Initialised) {
        this.setState(g, dev.fe, STATE.Connected);
      } else if (bs === STATE.Closing && fs0 !== STATE.Closed) {
        d.cancel.push(this.clock.after(T.close, () => this.setState(g, dev.fe, STATE.Closed)));
      } else if (bs === STATE.Closed && fs0 !== STATE.Closed && this.x0.tryRead(`${dev.be}/online`) === '1') {
        this.setState(g, dev.fe, STATE.Closed);
      }
    };
    dev.unwatch.push(this.store.watch(`${dev.be}/state`, `fe-${dev.fe}`, act, d.domid));
  }

  private writeTransport(d: SimDomain, dev: SimDevice, g: XsHandle): void {
    if (this.readState(dev.fe) !== STATE.Initialising) return;
    const base = 8 + d.devices.indexOf(dev) * 8;
    try {
      g.transaction((t) => {
        if (dev.kind === 'vbd') {
          t.write(`${dev.fe}/ring-ref`, String(base));
          t.write(`${dev.fe}/event-channel`, String(base + 1));
          t.write(`${dev.fe}/protocol`, 'x86_64-abi');
          t.write(`${dev.fe}/feature-persistent`, '1');
        } else if (dev.kind === 'vif') {
          t.write(`${dev.fe}/tx-ring-ref`, String(base));
          t.write(`${dev.fe}/rx-ring-ref`, String(base + 1));
          t.write(`${dev.fe}/event-channel`, String(base + 2));
          t.write(`${dev.fe}/request-rx-copy`, '1');
          t.write(`${dev.fe}/feature-rx-notify`, '1');
        } else if (dev.kind === 'console') {
          // console 0's ring and port were written by the toolstack
        } else if (dev.kind === '9pfs') {
          const f = dev.p9?.frontend ?? {};
          const rings = f.num_rings ?? 2;
          t.write(`${dev.fe}/version`, f.version ?? '1');
          t.write(`${dev.fe}/num-rings`, String(rings));
          for (let r = 0; r < Math.max(rings, 1) && r < 8; r++) {
            const port = f.event_channel ?? base + 2 * r + 1;
            const ref = f.ring_ref ?? base + 2 * r + 100;
            t.write(`${dev.fe}/event-channel-${r}`, String(port));
            t.write(`${dev.fe}/ring-ref${r}`, String(ref));
            if (!f.bad_evtchn) d.evtchns.add(port);
            if (!f.bad_grant) d.grants.set(ref, { ring_order: f.ring_order ?? 9 });
          }
        }
        t.write(`${dev.fe}/state`, STATE.Initialised);
      });
    } catch (e) {
      this.opts.onEvent?.(`frontend ${dev.fe}: ${(e as Error).message}`);
    }
  }

  private async addDomainDevices(d: SimDomain, lg: LibxlLogger): Promise<void> {
    const spec = d.spec;
    const stub = d.stubFor !== undefined;
    const hvmLike = spec.type === 'hvm';
    // console 0
    const con = this.addDevice(
      d,
      { kind: 'console', devid: 0, domid: d.domid, backend: 0, beKind: 'console' },
      { protocol: 'vt100' },
      { limit: '1048576', type: hvmLike ? 'ioemu' : 'xenconsoled', output: hvmLike ? 'pty' : 'pty', tty: '', port: '2', 'ring-ref': String(0xfefff + d.domid) },
    );
    d.cancel.push(this.clock.after(T.xenconsoled, () => this.x0.exists(con.fe) && this.x0.write(`${con.fe}/tty`, `/dev/pts/${d.domid + 2}`)));
    const pending: Array<Promise<void>> = [];
    const disks = stub ? (this.domains.get(d.stubFor!)?.spec.disks ?? []) : spec.disks;
    for (const disk of disks) {
      const num = vdevToDevid(disk.vdev);
      if (!num) throw new XlError(ERROR.INVAL, `Invalid or unsupported virtual disk identifier ${disk.vdev}`);
      const cdrom = disk.cdrom === true;
      const media = cdrom ? (d.media.get(disk.vdev) ?? (stub ? this.domains.get(d.stubFor!)?.media.get(disk.vdev) : undefined)) : disk.target;
      const beKind = cdrom && hvmLike && !stub ? 'qdisk' : 'vbd';
      const fmt = disk.format ?? 'raw';
      const params = beKind === 'qdisk' ? (media ? `${fmt === 'raw' ? 'aio' : fmt}:${media}` : '') : (media ?? '');
      libxlLog(lg, 'debug', AT.diskSpec, undefined, `Disk vdev=${disk.vdev} spec.backend=unknown specification=xen`);
      libxlLog(lg, 'debug', AT.diskBackend, undefined, `Disk vdev=${disk.vdev}, using backend ${beKind === 'qdisk' ? 'qdisk' : 'phy'}`);
      const dev = this.addDevice(
        d,
        { kind: 'vbd', devid: num.devid, domid: d.domid, backend: 0, beKind, disk: stub ? { ...disk } : disk },
        {
          params,
          ...(beKind === 'vbd' ? { script: '/etc/xen/scripts/block' } : {}),
          removable: cdrom ? '1' : '0',
          bootable: '1',
          dev: stub ? disk.vdev : disk.vdev,
          type: beKind === 'qdisk' ? 'qdisk' : 'phy',
          mode: cdrom || disk.access === 'r' ? 'r' : 'w',
          'device-type': cdrom ? 'cdrom' : 'disk',
          'discard-enable': cdrom ? '0' : '1',
          specification: 'xen',
        },
        { 'virtual-device': String(num.devid), 'device-type': cdrom ? 'cdrom' : 'disk', trusted: '1', ...(spec.type === 'pv' ? { protocol: 'x86_64-abi' } : {}) },
      );
      if (d.faults.backendStall.has(disk.vdev)) dev.stalled = true;
      pending.push(this.hotplugAdd(d, dev, lg));
    }
    if (!stub) {
      for (let i = 0; i < spec.nics; i++) {
        const mac = `00:16:3e:${(d.domid & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}:${((d.domid * 7 + i) & 0xff).toString(16).padStart(2, '0')}`;
        const dev = this.addDevice(
          d,
          { kind: 'vif', devid: i, domid: d.domid, backend: 0, beKind: 'vif' },
          { script: '/etc/xen/scripts/vif-bridge', mac, bridge: 'xenbr0', handle: String(i), type: hvmLike ? 'vif_ioemu' : 'vif', 'hotplug-status': '' },
          { handle: String(i), mac, mtu: '1500', trusted: '1' },
        );
        if (d.faults.backendStall.has(`vif/${i}`)) dev.stalled = true;
        pending.push(this.hotplugAdd(d, dev, lg));
      }
      for (const [i, p9] of spec.p9.entries()) {
        const daemon = (p9.backend ?? 'xen_9pfsd') === 'xen_9pfsd';
        if (daemon) await this.ensure9pfsd();
        const beKeys: Record<string, string> = { path: p9.path, security_model: p9.security_model ?? 'none' };
        if (daemon) Object.assign(beKeys, { 'max-space': '0', 'max-files': '0', 'max-open-files': '0', 'auto-delete': '0' });
        const dev = this.addDevice(d, { kind: '9pfs', devid: i, domid: d.domid, backend: 0, beKind: daemon ? 'xen_9pfs' : '9pfs', p9 }, beKeys, { tag: p9.tag });
        if (d.faults.backendStall.has(`9pfs/${i}`)) dev.stalled = true;
      }
    }
    await Promise.all(pending);
  }

  /** libxl starts xen-9pfsd and waits for it to report `running` before adding the devices. */
  private async ensure9pfsd(): Promise<void> {
    if (this.ninepfsd) return;
    this.ninepfsd = new NinePfsd({
      store: this.store,
      fs: this.fs,
      syslog: (line) => this.log('xen-9pfsd.log', `xen-9pfsd: ${line}`),
      mapInterface: (domid, ref) => this.domains.get(domid)?.grants.get(ref),
      bindEvtchn: (domid, port) => this.domains.get(domid)?.evtchns.has(port) ?? false,
    });
    this.ninepfsd.start(++this.pidCounter);
    await this.waitFor('/local/domain/0/libxl/xen-9pfs/state', (v) => v === 'running', T.initTimeout);
    await this.clock.sleep(T.backendProbe);
  }

  // ---------------------------------------------------------------- device model

  /** `dm: 'qemu'`: a real QEMU owns the QMP socket; Xen's side (ioreq server, device-model state) stays simulated. */
  private async startRealQemu(d: SimDomain, lg: LibxlLogger): Promise<void> {
    const sock = path.join(this.opts.qmpDir, `qmp-libxl-${d.domid}`);
    const cdroms = d.spec.disks.filter((x) => x.cdrom).map((x) => ({ devid: vdevToDevid(x.vdev)!.devid, index: vdevToDevid(x.vdev)!.disk }));
    const q = new RealQemu(sock, d.name, cdroms, (line) => this.qemuLog(d, line));
    libxlLog(lg, 'debug', 'libxl_dm.c:3002:libxl__spawn_local_dm', d.domid, 'Spawning device-model /usr/bin/qemu-system-x86_64 with arguments:');
    d.qemuPid = await q.start();
    d.realQemu = q;
    fs.writeFileSync(path.join(this.opts.lockDir, `userdata-l.${d.domid}.${d.uuid}.qmp-socket-lock`), '');
    this.x0.write(`/local/domain/${d.domid}/image/device-model-pid`, String(d.qemuPid));
    d.ioreq = new IoreqTable(
      d.domid,
      (line) => this.qemuLog(d, line),
      (r) => this.opts.onObservation?.({ src: 'sim', type: 'ioreq.op', domid: d.domid, data: { ...r, xen: this.info.xen } }),
    );
    const id = d.ioreq.create(0, 1);
    if (id.ok) d.ioreq.setState(0, id.value, true);
    this.x0.write(`/local/domain/0/device-model/${d.domid}/state`, 'running');
  }

  private async startDeviceModel(d: SimDomain, lg: LibxlLogger): Promise<void> {
    if (this.opts.dm === 'qemu' && !d.spec.stubdom) return this.startRealQemu(d, lg);
    const [major, minor, micro] = this.info.qemu.split('.').map(Number);
    const cdroms = d.spec.disks.filter((x) => x.cdrom);
    const hds = d.spec.disks.filter((x) => !x.cdrom);
    const dm = new DeviceModel({
      version: { major, minor, micro: micro ?? 0 },
      pkg: `Debian 1:${major}.${minor}+dfsg-7+deb12u18+b3`,
      drives: [
        ...hds.map((x, i) => ({ id: `ide0-hd${i}`, cdrom: false, file: x.target, format: x.format ?? 'raw' })),
        ...cdroms.map((x) => ({ id: `ide-${vdevToDevid(x.vdev)!.devid}`, cdrom: true, file: d.media.get(x.vdev), format: x.format ?? 'raw' })),
      ],
    });
    d.dm = dm;
    const emulator = d.stubdomid ?? 0;
    dm.hooks = {
      imageSize: (p) => {
        // Simulated images first; an fd the helper passed names a real file.
        const sim = this.fs.size(p);
        if (sim !== undefined) return sim;
        try {
          return fs.statSync(p).size;
        } catch {
          return undefined;
        }
      },
      reset: () => this.clock.after(5, () => this.hvShutdown(d, 'reboot')),
      powerdown: () => d.cancel.push(this.clock.after(T.acpi, () => this.guestDo(d.name, 'shutdown', 'poweroff'))),
      stop: () => d.ioreq?.list().forEach((s) => d.ioreq?.setState(s.emulator, s.id, false)),
      cont: () => d.ioreq?.list().forEach((s) => d.ioreq?.setState(s.emulator, s.id, true)),
      quit: () => this.qemuDied(d),
      saveDevices: (f) => this.qemuLog(d, `xen: saving device state to ${f}`),
    };
    const sock = path.join(this.opts.qmpDir, `qmp-libxl-${d.domid}`);
    d.qmp = new QmpEndpoint(sock, dm, {
      now: () => this.clock.now(),
      listener: this.opts.qmpListener,
      onCommand: (cmd, args, reply) => this.opts.onQmp?.(d.domid, cmd, args, reply),
    });
    await d.qmp.start();
    fs.writeFileSync(path.join(this.opts.lockDir, `userdata-l.${d.domid}.${d.uuid}.qmp-socket-lock`), '');
    d.qemuPid = ++this.pidCounter;
    d.ioreq = new IoreqTable(
      d.domid,
      (line) => this.qemuLog(d, line),
      (r) => this.opts.onObservation?.({ src: 'sim', type: 'ioreq.op', domid: d.domid, data: { ...r, xen: this.info.xen } }),
    );
    d.platform = new PlatformDevice({
      profile: this.info.profile,
      xsRead: (p) => this.x0.tryRead(p),
      log: (line) => this.qemuLog(d, line),
      now: () => this.clock.now(),
      unplug: (what) => {
        for (const b of [...dm.blocks.values()]) {
          if (b.cdrom) continue;
          if (what.ideDisks === 'all' || (what.ideDisks === 'aux' && b.id !== 'ide0-hd0')) dm.blocks.delete(b.id);
        }
      },
    });
    if (d.stubdomid === undefined) {
      const dmArgs = ['-xen-domid', String(d.domid), '-no-shutdown', '-chardev', `socket,id=libxl-cmd,path=${sock},server=on,wait=off`, '-mon', 'chardev=libxl-cmd,mode=control', '-nodefaults', '-name', d.name, '-machine', 'xenfv', '-m', String(d.spec.memory - 8)];
      libxlLog(lg, 'debug', 'libxl_dm.c:3002:libxl__spawn_local_dm', d.domid, 'Spawning device-model /usr/bin/qemu-system-i386 with arguments:');
      for (const a of ['/usr/bin/qemu-system-i386', ...dmArgs]) libxlLog(lg, 'debug', 'libxl_dm.c:3004:libxl__spawn_local_dm', d.domid, `  ${a}`);
      this.x0.write(`/local/domain/${d.domid}/image/device-model-pid`, String(d.qemuPid));
    }
    await this.clock.sleep(T.dmStart);
    // QEMU registers its ioreq server, claims the platform ports and the PCI hole, and enables it.
    const id = d.ioreq.create(emulator, 1);
    if (id.ok) {
      d.ioreq.mapRange(emulator, id.value, 0, 0x10n, 0x1fn);
      d.ioreq.mapRange(emulator, id.value, 1, 0xf0000000n, 0xfbffffffn);
      d.ioreq.setState(emulator, id.value, true);
    }
    const statePath = d.stubdomid !== undefined ? `/local/domain/${d.stubdomid}/device-model/${d.domid}/state` : `/local/domain/0/device-model/${d.domid}/state`;
    this.store.as(d.stubdomid ?? 0).write(statePath, 'running');
    if (d.stubdomid !== undefined) {
      this.x0.write(`/local/domain/0/device-model/${d.stubdomid}/qmp-proxy-state`, 'running');
      this.x0.write(`/local/domain/${d.stubdomid}/image/qmp-proxy-pid`, String(++this.pidCounter));
    }
    libxlLog(lg, 'debug', 'libxl_dm.c:2789:device_model_spawn_outcome', d.domid, 'Device Model ready');
    this.qemuLog(d, `VNC server running on 127.0.0.1:${5900 + d.domid}`);
  }

  private qemuDied(d: SimDomain): void {
    if (d.realQemu) {
      d.realQemu.stop();
      d.realQemu = undefined;
      d.ioreq?.list().forEach((s) => d.ioreq?.destroy(s.emulator, s.id));
      return;
    }
    if (!d.dm) return;
    d.dm.alive = false;
    // As QEMU's exit does: the monitor socket file stays, refusing connections.
    void d.qmp?.stop({ leaveSocket: true });
    d.ioreq?.list().forEach((s) => d.ioreq?.destroy(s.emulator, s.id));
    this.qemuLog(d, 'qemu-system-i386: terminating on signal 15 from pid 1');
  }

  private async createStubdom(d: SimDomain, lg: LibxlLogger): Promise<void> {
    const stubSpec = domainSpecSchema.parse({ name: `${d.name}-dm`, type: 'pv', memory: 128, vcpus: 1, disks: [], nics: 0, on: {}, boot_ms: T.stubdomBoot });
    const s = this.newDomain(stubSpec, uuidFor(`${d.name}-dm#${d.domid}`));
    s.stubFor = d.domid;
    d.stubdomid = s.domid;
    this.writeLayout(s);
    this.x0.write(`/local/domain/${d.domid}/image/device-model-domid`, String(s.domid));
    this.x0.write(`/local/domain/${s.domid}/target`, String(d.domid));
    this.hv.setTarget?.(s.domid, d.domid);
    this.x0.write(`/local/domain/${s.domid}/device-model/${d.domid}`, '');
    this.x0.setPerms(`/local/domain/${s.domid}/device-model/${d.domid}`, [{ domid: s.domid, perm: 'n' }]);
    const argv = ['qemu-system-i386', '-xen-domid', String(d.domid), '-no-shutdown', '-nodefaults', '-machine', 'xenfv'];
    argv.forEach((a, i) => this.x0.write(`/vm/${d.uuid}/image/dm-argv/${String(i).padStart(3, '0')}`, a));
    await this.addDomainDevices(s, lg);
    s.paused = false;
    this.bootGuest(s);
  }

  // ---------------------------------------------------------------- domains

  private newDomain(spec: DomainSpec, uuid: string, domid?: number): SimDomain {
    let id = domid;
    if (id === undefined) {
      while (this.domains.has(this.nextDomid) || this.recentDomids.has(this.nextDomid)) this.nextDomid++;
      id = this.nextDomid++;
    }
    const d: SimDomain = {
      domid: id,
      uuid,
      name: spec.name,
      spec,
      paused: true,
      shutdown: false,
      dying: false,
      created: this.clock.now(),
      devices: [],
      monitored: false,
      pvUp: false,
      booted: false,
      grants: new Map(),
      evtchns: new Set(),
      cancel: [],
      media: new Map(spec.disks.filter((x) => x.cdrom).map((x) => [x.vdev, x.target])),
      faults: { backendStall: new Set(), hotplugError: new Map() },
    };
    this.domains.set(id, d);
    this.hv.createDomain?.(id);
    return d;
  }

  private get hv(): HvStore {
    return this.store as unknown as HvStore;
  }

  /** Xen marks a domain shut down: xenstored fires @releaseDomain once (the domain stays introduced). */
  private hvShutdownEvent(domid: number): void {
    if (this.hv.shutdownDomain) this.hv.shutdownDomain(domid);
    else if (this.store.isIntroduced(domid)) this.store.release(domid);
  }

  /** XS_RELEASE as libxl sends it during soft reset. */
  private xsRelease(domid: number): void {
    try {
      this.store.release(domid);
    } catch {
      /* not introduced */
    }
  }

  /** The hypervisor domain is gone: xenstored drops it and fires @releaseDomain. */
  private hvDestroyEvent(domid: number): void {
    if (this.hv.destroyDomain) this.hv.destroyDomain(domid);
    else this.xsRelease(domid);
  }

  /** Faults to apply to the next domain created with this name (backend-stall, hotplug-error at creation). */
  private readonly pendingFaults = new Map<string, SimDomain['faults']>();

  armFault(name: string, f: { backendStall?: string; hotplugError?: { device: string; message: string } }): void {
    const live = this.find(name);
    const faults = live?.faults ?? this.pendingFaults.get(name) ?? { backendStall: new Set<string>(), hotplugError: new Map<string, string>() };
    if (f.backendStall) faults.backendStall.add(f.backendStall);
    if (f.hotplugError) faults.hotplugError.set(f.hotplugError.device, f.hotplugError.message);
    if (!live) this.pendingFaults.set(name, faults);
  }

  /**
   * libxl_domain_create_new as `xl create` runs it: build, devices, device
   * model, unpause (unless paused), and the monitor daemon when `monitor`.
   */
  async create(input: DomainSpecInput, o: { paused?: boolean; monitor?: boolean; lg?: LibxlLogger; domid?: number; uuid?: string } = {}): Promise<SimDomain> {
    const spec = domainSpecSchema.parse(input);
    const lg = o.lg ?? silentLogger;
    if (o.domid === undefined && [...this.domains.values()].some((x) => x.name === spec.name)) {
      let next = this.nextDomid;
      while (this.domains.has(next) || this.recentDomids.has(next)) next++;
      libxlLog(lg, 'error', 'libxl_domain.c:81:libxl__domain_rename', next, `Domain with name "${spec.name}" already exists.`);
      libxlLog(lg, 'error', 'libxl_create.c:1294:initiate_domain_create', next, `cannot make domain: ${ERROR.INVAL}`);
      throw new XlError(ERROR.INVAL, `Domain with name "${spec.name}" already exists.`);
    }
    if (spec.stubdom && spec.type !== 'hvm') throw new XlError(ERROR.INVAL, 'stubdomain only supported for HVM guests');
    const d = this.newDomain(spec, o.uuid ?? spec.uuid ?? uuidFor(spec.name), o.domid);
    const pf = this.pendingFaults.get(spec.name);
    if (pf) {
      d.faults = pf;
      this.pendingFaults.delete(spec.name);
    }
    libxlLog(lg, 'debug', AT.aoCreate, undefined, `ao 0x55d0c2a1b2c0: create: how=(nil) callback=(nil) poller=0x55d0c2a1a8e0`);
    libxlLog(lg, 'debug', AT.runBootloader, d.domid, 'running bootloader');
    try {
      this.writeLayout(d);
      if (spec.type === 'hvm' && spec.stubdom) await this.createStubdom(d, lg);
      const devs = this.addDomainDevices(d, lg);
      if (spec.type === 'hvm') await this.startDeviceModel(d, lg);
      await devs;
    } catch (e) {
      libxlLog(lg, 'error', 'libxl_create.c:2049:domcreate_complete', d.domid, 'unable to add disk devices');
      await this.destroy(d.domid).catch(() => undefined);
      throw e;
    }
    libxlLog(lg, 'debug', AT.aoComplete, undefined, 'ao 0x55d0c2a1b2c0: complete, rc=0');
    if (o.monitor !== false) {
      d.monitored = true;
      d.monitorPid = ++this.pidCounter;
    }
    if (!o.paused) this.unpause(d);
    if (d.monitored) this.xlLog(d, `Waiting for domain ${d.name} (domid ${d.domid}) to die [pid ${d.monitorPid}]`);
    return d;
  }

  unpause(d: SimDomain): void {
    const wasPaused = d.paused;
    d.paused = false;
    if (wasPaused && !d.booted) this.bootGuest(d);
  }

  pause(d: SimDomain): void {
    d.paused = true;
  }

  /** The guest kernel: platform probe (HVM), PV drivers and frontends, control features. */
  private bootGuest(d: SimDomain): void {
    d.booted = true;
    const pvCapable = d.spec.type !== 'hvm' || d.spec.pv !== undefined;
    const g = this.store.as(d.domid);
    if (d.spec.type === 'hvm' && d.spec.pv) {
      d.cancel.push(this.clock.after(Math.floor(d.spec.boot_ms * 0.6), () => this.pvProbe(d)));
    }
    d.cancel.push(
      this.clock.after(d.spec.boot_ms, () => {
        if (d.dying || d.shutdown) return;
        if (!pvCapable || (d.probe && d.probe.result === 'blacklisted')) return;
        d.pvUp = true;
        try {
          g.transaction((t) => {
            t.write('control/feature-poweroff', '1');
            t.write('control/feature-reboot', '1');
            t.write('control/feature-suspend', '1');
            t.write('data/updated', new Date(this.clock.now()).toUTCString());
            if (d.stubFor === undefined) t.write('drivers/0', d.spec.type === 'hvm' ? 'Xen PV drivers' : 'Linux 6.1.0-18-amd64');
          });
        } catch {
          /* domain gone */
        }
        for (const dev of d.devices) this.startFrontend(d, dev);
        d.cancel.push(this.watchControl(d));
        if (d.stubFor !== undefined) this.stubdomReady(d);
      }),
    );
  }

  /** PV drivers probing the platform device (seed 003). */
  pvProbe(d: SimDomain): ProbeOutcome {
    const pv = d.spec.pv ?? { product: 3, build: 1, unplug: 3 };
    d.probe = runPvProbe(d.platform, pv);
    return d.probe;
  }

  /** The guest's control/shutdown watch: acknowledge and act. */
  private watchControl(d: SimDomain): () => void {
    const g = this.store.as(d.domid);
    return this.store.watch(
      `/local/domain/${d.domid}/control/shutdown`,
      'control',
      () => {
        const v = g.tryRead('control/shutdown');
        if (!v) return;
        const reason: ShutdownReason | undefined = v === 'poweroff' || v === 'halt' ? 'poweroff' : v === 'reboot' ? 'reboot' : v === 'suspend' ? 'suspend' : undefined;
        d.cancel.push(
          this.clock.after(T.shutdownAck, () => {
            try {
              g.write('control/shutdown', '');
            } catch {
              /* gone */
            }
            if (reason) d.cancel.push(this.clock.after(T.guestShutdown, () => this.guestDo(d.name, 'shutdown', reason)));
          }),
        );
      },
      d.domid,
    );
  }

  /** The Linux stub domain's QEMU adds its CD-ROM block devices to fd sets once they connect. */
  private stubdomReady(s: SimDomain): void {
    const guest = this.domains.get(s.stubFor!);
    if (!guest?.dm) return;
    this.qemuLog(s, `stubdom: qemu started for domain ${guest.domid}`);
  }

  /** Scenario guest actions: shutdown <reason>, crash, watchdog, kexec, lock-tray, unlock-tray, pv-probe, log <text>. */
  guestDo(name: string, action: string, arg?: string): void {
    const d = this.find(name);
    if (!d || d.dying) return;
    switch (action) {
      case 'shutdown': {
        const reason = (arg ?? 'poweroff') as ShutdownReason;
        if (d.spec.type === 'hvm' && d.dm?.alive) {
          if (reason === 'poweroff') d.dm.guestShutdown('guest-shutdown');
          else if (reason === 'reboot') d.dm.guestReset();
        }
        this.hvShutdown(d, reason);
        break;
      }
      case 'crash':
        this.hvShutdown(d, 'crash');
        break;
      case 'watchdog':
        this.hvShutdown(d, 'watchdog');
        break;
      case 'kexec':
        this.hvShutdown(d, 'soft_reset');
        break;
      case 'lock-tray':
      case 'unlock-tray':
        for (const b of d.dm?.blocks.values() ?? []) if (b.cdrom && (!arg || b.id === arg || b.id === `ide-${vdevToDevid(arg)?.devid}`)) d.dm!.setTrayLock(b.id, action === 'lock-tray');
        break;
      case 'open-tray':
        for (const b of d.dm?.blocks.values() ?? []) if (b.cdrom && !b.locked) d.dm!.guestTray(b.id, true);
        break;
      case 'pv-probe':
        this.pvProbe(d);
        break;
      case 'log':
        if (d.platform) for (const ch of `${arg ?? ''}\n`) d.platform.logByte(ch.charCodeAt(0));
        break;
      case 'hvm-param': {
        // e.g. "get 13": an old device model touching a deprecated HVM param (seed 002).
        const [op, idx] = (arg ?? '').split(' ');
        const r = deprecatedParam(this.info.xen, op === 'set' ? 'set' : 'get', Number(idx));
        this.qemuLog(d, `xen_hvm_param: ${op === 'set' ? 'set' : 'get'} dom=${d.domid} index=${Number(idx)} rc=${!r ? 0 : r.ok ? 0 : `-${r.errno}`}`);
        this.opts.onObservation?.({
          src: 'sim',
          type: 'ioreq.op',
          domid: d.domid,
          data: { domid: d.domid, caller: d.stubdomid ?? 0, op: op === 'set' ? 'set_param' : 'get_param', param: Number(idx), result: !r || r.ok ? 'ok' : r.errno, xen: this.info.xen },
        });
        break;
      }
      default:
        throw new Error(`unknown guest action ${action}`);
    }
  }

  /** Xen marks the domain shut down; xenstored fires @releaseDomain; the xl monitor reacts. */
  hvShutdown(d: SimDomain, reason: ShutdownReason): void {
    if (d.shutdown || d.dying) return;
    d.shutdown = true;
    d.reason = reason;
    for (const c of d.cancel.splice(0)) c();
    this.hvShutdownEvent(d.domid);
    this.opts.onEvent?.(`domain ${d.domid} shutdown ${reason}`);
    if (d.stubFor !== undefined) return;
    if (d.monitored) {
      d.cancel.push(
        this.clock.after(T.monitorReact, () => {
          this.monitor(d).catch((e: unknown) => this.opts.onEvent?.(`xl monitor for ${d.name}: ${(e as Error).message}`));
        }),
      );
    }
  }

  private actionFor(d: SimDomain, reason: ShutdownReason): ShutdownAction | undefined {
    const on = d.spec.on;
    switch (reason) {
      case 'poweroff':
        return on.poweroff ?? 'destroy';
      case 'reboot':
        return on.reboot ?? 'restart';
      case 'crash':
        return on.crash ?? 'destroy';
      case 'watchdog':
        return on.watchdog ?? 'destroy';
      case 'soft_reset':
        return on.soft_reset ?? 'soft-reset';
      case 'suspend':
        return undefined;
    }
  }

  /** xl's handle_domain_death and the loop around it (xl_vmcontrol.c), with its log lines. */
  private async monitor(d: SimDomain): Promise<void> {
    const code = SHUTDOWN_REASONS.indexOf(d.reason!);
    this.xlLog(d, `Domain ${d.domid} has shut down, reason code ${code} 0x${code.toString(16)}`);
    let action = this.actionFor(d, d.reason!);
    if (action === undefined) {
      this.xlLog(d, 'Domain has suspended.');
      return;
    }
    this.xlLog(d, `Action for shutdown reason code ${code} is ${action}`);
    if (action === 'coredump-destroy' || action === 'coredump-restart') {
      this.xlLog(d, `dumping core to /var/lib/xen/dump/${d.name}`);
      action = action === 'coredump-destroy' ? 'destroy' : 'restart';
    }
    const spec = d.spec;
    const uuid = d.uuid;
    switch (action) {
      case 'preserve':
        this.xlLog(d, 'Done. Exiting now');
        d.monitored = false;
        return;
      case 'destroy':
      case 'restart':
        this.xlLog(d, `Domain ${d.domid} needs to be cleaned up: destroying the domain`);
        d.monitored = false;
        await this.destroy(d.domid);
        if (action === 'destroy') {
          this.xlLog(d, 'Done. Exiting now');
          return;
        }
        break;
      case 'rename-restart': {
        const t = new Date(this.clock.now());
        const suffix = `-${t.getUTCFullYear()}${String(t.getUTCMonth() + 1).padStart(2, '0')}${String(t.getUTCDate()).padStart(2, '0')}T${String(t.getUTCHours()).padStart(2, '0')}${String(t.getUTCMinutes()).padStart(2, '0')}Z`;
        this.xlLog(d, `Preserving domain ${d.domid} ${d.name} with suffix${suffix}`);
        d.monitored = false;
        d.name = `${d.name}${suffix}`;
        d.uuid = randomUUID();
        this.x0.write(`/local/domain/${d.domid}/name`, d.name);
        break;
      }
      case 'soft-reset':
        break;
    }
    this.xlLog(d, 'Done. Rebooting now');
    const gen = this.generation;
    await this.clock.sleep(T.rebootSleep);
    if (this.stopped || gen !== this.generation) return;
    if (action === 'soft-reset') {
      await this.softReset(d);
      return;
    }
    try {
      const nd = await this.create({ ...spec, uuid }, { monitor: false, uuid });
      nd.monitored = true;
      nd.monitorPid = d.monitorPid;
      this.xlLog(nd, `Waiting for domain ${nd.name} (domid ${nd.domid}) to die [pid ${nd.monitorPid}]`);
    } catch (e) {
      this.opts.onEvent?.(`restart of ${spec.name} failed: ${(e as Error).message}`);
    }
  }

  /**
   * libxl_domain_soft_reset (reference 9, seed 004): HVM only. Save the device
   * model, XS_RELEASE, tear down stubdom, QEMU and devices, remove the domain's
   * xenstore subtree, XEN_DOMCTL_soft_reset, then re-create with the same domid.
   */
  async softReset(d: SimDomain): Promise<void> {
    if (d.spec.type !== 'hvm') {
      // libxl_domain_soft_reset returns ERROR_INVAL; xl's error_out destroys the domain and the monitor exits.
      d.monitored = false;
      await this.destroy(d.domid);
      return;
    }
    const x = this.x0;
    const dom = `/local/domain/${d.domid}`;
    x.tryRead(`${dom}/store/ring-ref`);
    x.tryRead(`${dom}/console/ring-ref`);
    x.tryRead(`${dom}/console/tty`);
    if (d.realQemu?.alive) {
      const save = path.join(this.opts.lockDir, `qemu-save.${d.domid}`);
      await d.realQemu.session([{ execute: 'stop' }, { execute: 'xen-save-devices-state', arguments: { filename: save, live: false } }]).catch(() => undefined);
    }
    if (d.qmp && d.dm?.alive) {
      await d.qmp.session(async (exec) => {
        exec('stop');
        exec('add-fd', {}, [{ mode: 'w', path: `/var/lib/xen/qemu-save.${d.domid}` }]);
        exec('xen-save-devices-state', { filename: '/dev/fdset/0', live: false });
      });
    }
    this.xsRelease(d.domid);
    if (d.stubdomid !== undefined) await this.destroy(d.stubdomid);
    d.stubdomid = undefined;
    this.qemuDied(d);
    d.dm = undefined;
    d.qmp = undefined;
    for (const c of d.cancel.splice(0)) c();
    await Promise.all([...d.devices].map((dev) => this.removeDevice(d, dev, 'on')));
    x.transaction((t) => {
      for (const p of [`/vm/${d.uuid}`, dom, `/libxl/${d.domid}`, `/local/domain/0/device-model/${d.domid}`]) if (t.exists(p)) t.rm(p);
    });
    // XEN_DOMCTL_soft_reset between pause and unpause: the domain is running again with the same domid.
    d.shutdown = false;
    d.reason = undefined;
    d.booted = false;
    d.pvUp = false;
    d.paused = true;
    d.probe = undefined;
    d.grants.clear();
    d.evtchns.clear();
    this.hv.createDomain?.(d.domid);
    this.writeLayout(d);
    if (d.spec.stubdom) await this.createStubdom(d, silentLogger);
    const devs = this.addDomainDevices(d, silentLogger);
    await this.startDeviceModel(d, silentLogger);
    await devs;
    this.unpause(d);
    this.xlLog(d, `Waiting for domain ${d.name} (domid ${d.domid}) to die [pid ${d.monitorPid}]`);
  }

  /** libxl_domain_destroy: stubdom first, QEMU, devices, xenstore paths, then the hypervisor domain. */
  async destroy(domid: number): Promise<void> {
    const d = this.domains.get(domid);
    if (!d) throw new XlError(ERROR.INVAL, `domain ${domid} does not exist`);
    if (d.dying) return;
    d.dying = true;
    const wasMonitored = d.monitored;
    for (const c of d.cancel.splice(0)) c();
    if (d.stubdomid !== undefined && this.domains.has(d.stubdomid)) await this.destroy(d.stubdomid);
    if (d.dm || d.realQemu) {
      this.qemuDied(d);
      d.ioreq?.destroyAll();
    }
    await Promise.all([...d.devices].map((dev) => this.removeDevice(d, dev, 'on')));
    this.x0.transaction((t) => {
      for (const p of [`/local/domain/${domid}`, `/libxl/${domid}`, `/local/domain/0/device-model/${domid}`]) if (t.exists(p)) t.rm(p);
      const sameVm = [...this.domains.values()].some((o) => o !== d && o.uuid === d.uuid && !o.dying);
      if (!sameVm && t.exists(`/vm/${d.uuid}`)) t.rm(`/vm/${d.uuid}`);
    });
    try {
      fs.unlinkSync(path.join(this.opts.lockDir, `userdata-l.${domid}.${d.uuid}.qmp-socket-lock`));
    } catch {
      /* never there */
    }
    // libxl__qmp_cleanup: the dead QEMU's monitor socket file goes with the domain.
    await d.qmp?.whenStopped();
    fs.rmSync(path.join(this.opts.qmpDir, `qmp-libxl-${domid}`), { force: true });
    this.domains.delete(domid);
    this.recentDomids.add(domid);
    this.hvDestroyEvent(domid);
    this.opts.onEvent?.(`domain ${domid} destroyed`);
    if (wasMonitored && d.monitored) {
      d.monitored = false;
      this.xlLog(d, `Domain ${domid} has been destroyed.`);
    }
  }

  /** libxl_domain_shutdown / reboot: write the control node, or ERROR_NOPARAVIRT for an HVM guest without PV drivers. */
  requestShutdown(d: SimDomain, what: 'poweroff' | 'reboot', fallbackAcpi: boolean): 'pv' | 'acpi' {
    const pv = d.spec.type !== 'hvm' || (d.pvUp && d.spec.pv !== undefined);
    if (!pv) {
      if (!fallbackAcpi) throw new XlError(ERROR.NOPARAVIRT, 'no PV control interface');
      d.cancel.push(this.clock.after(T.acpi, () => this.guestDo(d.name, 'shutdown', what)));
      return 'acpi';
    }
    this.x0.write(`/local/domain/${d.domid}/control/shutdown`, what);
    return 'pv';
  }

  // ---------------------------------------------------------------- disks

  /** `xl block-attach`: libxl_device_disk_add on a running domain. */
  async blockAttach(d: SimDomain, disk: DiskSpec, lg: LibxlLogger = silentLogger): Promise<SimDevice> {
    const num = vdevToDevid(disk.vdev);
    if (!num) throw new XlError(ERROR.INVAL, `Invalid or unsupported virtual disk identifier ${disk.vdev}`);
    if (d.devices.some((x) => x.kind === 'vbd' && x.devid === num.devid)) throw new XlError(ERROR.FAIL, `device ${num.devid} already exists`);
    const cdrom = disk.cdrom === true;
    const dev = this.addDevice(
      d,
      { kind: 'vbd', devid: num.devid, domid: d.domid, backend: 0, beKind: 'vbd', disk },
      {
        params: disk.target ?? '',
        script: '/etc/xen/scripts/block',
        removable: cdrom ? '1' : '0',
        bootable: '1',
        dev: disk.vdev,
        type: 'phy',
        mode: cdrom || disk.access === 'r' ? 'r' : 'w',
        'device-type': cdrom ? 'cdrom' : 'disk',
        'discard-enable': cdrom ? '0' : '1',
        specification: 'xen',
      },
      { 'virtual-device': String(num.devid), 'device-type': cdrom ? 'cdrom' : 'disk', trusted: '1' },
    );
    if (d.faults.backendStall.has(disk.vdev)) dev.stalled = true;
    if (d.pvUp) this.startFrontend(d, dev);
    try {
      await this.hotplugAdd(d, dev, lg);
    } catch (e) {
      await this.removeDevice(d, dev, 'on');
      throw e;
    }
    return dev;
  }

  /** `xl block-detach [-f]`: safe remove, or destroy with force. */
  async blockDetach(d: SimDomain, vdev: string, force: boolean, lg: LibxlLogger = silentLogger): Promise<void> {
    const num = vdevToDevid(vdev);
    const dev = d.devices.find((x) => x.kind === 'vbd' && x.devid === num?.devid);
    if (!dev) throw new XlError(ERROR.FAIL, `Error: Device ${vdev} not connected.`);
    await this.removeDevice(d, dev, force ? 'on' : 'off', lg);
  }

  /**
   * `xl cd-insert` / `cd-eject` (libxl_cdrom_insert): reference 4.3 for QEMU in
   * dom0; seed 000 (profile `seed`) or reference 4.4 (profile `upstream`) for a
   * Linux stub domain.
   */
  async cdInsert(d: SimDomain, vdev: string, target: string | undefined, lg: LibxlLogger = silentLogger): Promise<void> {
    if (d.spec.type !== 'hvm') {
      libxlLog(lg, 'error', AT.cdromNotHvm, d.domid, 'cdrom-insert requires an HVM domain');
      throw new XlError(ERROR.INVAL, 'cdrom-insert requires an HVM domain');
    }
    const disk = d.spec.disks.find((x) => x.cdrom && x.vdev === vdev);
    if (!disk) {
      libxlLog(lg, 'error', AT.cdromNoDev, d.domid, 'Virtual device not found');
      throw new XlError(ERROR.FAIL, 'Virtual device not found');
    }
    const devid = vdevToDevid(vdev)!.devid;
    const stub = d.stubdomid !== undefined ? this.domains.get(d.stubdomid) : undefined;
    if (d.realQemu && !stub) return this.cdInsertReal(d, d.realQemu, vdev, vdevToDevid(vdev)!.devid, target, disk.format ?? 'raw', lg);
    if (!d.qmp || !d.dm?.alive) {
      libxlLog(lg, 'error', AT.qmpError, d.domid, 'Connection refused');
      throw new XlError(ERROR.FAIL, 'QMP socket not available');
    }
    const fmt = disk.format ?? 'raw';
    const letter = /^(?:hd|xvd)([a-z])/.exec(vdev)?.[1];
    const stubFdset = letter ? 8000 + letter.charCodeAt(0) - 97 : undefined;
    /** Fails the change with QEMU's error; `logged` when the error line was already printed. */
    const qmpFail = (r: { ok: false; cls: string; desc: string }, logged = false): never => {
      if (!logged) libxlLog(lg, 'error', AT.qmpError, d.domid, r.desc);
      throw new XlError(r.cls === 'GenericError' ? ERROR.QMP_GENERIC_ERROR : r.cls === 'DeviceNotFound' ? ERROR.QMP_DEVICE_NOT_FOUND : ERROR.FAIL, r.desc);
    };
    const writeParams = (domid: number, params: string, type: string) => {
      const be = `/local/domain/0/backend/${type === 'qdisk' && domid === d.domid ? 'qdisk' : 'vbd'}/${domid}/${devid}`;
      const lx = `/libxl/${domid}/device/vbd/${devid}`;
      this.x0.transaction((t) => {
        for (const p of [be, lx]) {
          if (!t.exists(p)) continue;
          t.write(`${p}/type`, type);
          t.write(`${p}/params`, params);
        }
      });
    };
    if (stub && this.info.profile === 'seed' && stubFdset === undefined) {
      libxlLog(lg, 'error', 'libxl_disk.c:921:libxl_cdrom_insert', d.domid, `disk->vdev "${vdev}" isn't hdX or xvdY`);
      throw new XlError(ERROR.FAIL, 'bad vdev');
    }
    // libxl's CD-ROM step lines (seed 000's LOGD(DEBUG) lines; shown with xl -vvv).
    const step = (func: string, line: number, msg: string) => libxlLog(lg, 'debug', `libxl_disk.c:${line}:${func}`, d.domid, msg);
    const rcOf = (r: { ok: boolean; cls?: string }) => (r.ok ? 0 : r.cls === 'GenericError' ? ERROR.QMP_GENERIC_ERROR : r.cls === 'DeviceNotFound' ? ERROR.QMP_DEVICE_NOT_FOUND : ERROR.FAIL);
    let doneRc = 0;
    step('cdrom_insert_lock_acquired', 945, 'rc=0');
    try {
      await d.qmp.session(async (exec) => {
        const v = exec('query-version');
        if (v.ok) libxlLog(lg, 'debug', AT.qemuVersion, d.domid, `QEMU version: ${this.info.qemu}`);
        const ej = exec('eject', { id: `ide-${devid}` });
        if (!ej.ok) qmpFail(ej);
        if (!stub) {
          step('cdrom_insert_ejected', 1170, 'rc=0');
          writeParams(d.domid, '', 'qdisk');
          step('cdrom_insert_ejected', 1228, 'stubdom_id=0');
          if (target) {
            step('cdrom_insert_ejected', 1235, 'Doing qmp add-fd path');
            step('cdrom_insert_ejected', 1262, 'out label rc=0');
            const add = exec('add-fd', { opaque: `${fmt}:${target}` }, [{ mode: 'r', path: target }]);
            step('cdrom_insert_addfd_cb', 1295, `rc=${rcOf(add)}`);
            if (!add.ok) return qmpFail(add);
            const fdset = (add.value as { 'fdset-id': number })['fdset-id'];
            const ch = exec('blockdev-change-medium', { id: `ide-${devid}`, filename: `/dev/fdset/${fdset}`, format: fmt });
            if (!ch.ok) libxlLog(lg, 'error', AT.qmpError, d.domid, ch.desc);
            step('cdrom_insert_inserted', 1375, `rc=${rcOf(ch)}`);
            if (!ch.ok) return qmpFail(ch, true);
            writeParams(d.domid, `${fmt === 'raw' ? 'aio' : fmt}:${target}`, 'qdisk');
          } else {
            step('cdrom_insert_ejected', 1255, 'Skipping qmp add-fd path');
            step('cdrom_insert_ejected', 1262, 'out label rc=0');
            step('cdrom_insert_ejected', 1269, 'no callback; stubdom_id=0');
            step('cdrom_insert_inserted', 1375, 'rc=0');
          }
          d.media.set(vdev, target);
          return;
        }
        // Linux stub domain.
        let oldSet: number | undefined = stubFdset;
        if (this.info.profile === 'upstream') {
          const q = exec('query-fdsets');
          const sets = q.ok ? (q.value as Array<{ 'fdset-id': number; fds: Array<{ opaque?: string }> }>) : [];
          oldSet = sets.find((s) => s.fds.some((f) => f.opaque === `stub-devid:${devid}`))?.['fdset-id'];
        }
        if (oldSet !== undefined) {
          const rm = exec('remove-fd', { 'fdset-id': oldSet });
          if (!rm.ok) libxlLog(lg, 'error', AT.qmpError, d.domid, rm.desc);
          step('cdrom_insert_stubdom_ejected', 1040, `rc=${rcOf(rm)}`);
          // remove-fd on the still-empty set is a GenericError, and libxl carries on (seed 000).
          if (!rm.ok && rm.cls !== 'GenericError') return qmpFail(rm, true);
        } else {
          step('cdrom_insert_stubdom_ejected', 1040, 'rc=0');
        }
        const sdev = stub.devices.find((x) => x.kind === 'vbd' && x.devid === devid);
        if (sdev) await this.removeDevice(stub, sdev, 'off', lg);
        step('cdrom_insert_stubdom_disk_ejected_aocomplete', 1077, 'rc=0');
        step('cdrom_insert_stubdom_disk_ejected', 1107, 'rc=0');
        const attached = await this.blockAttach(stub, { vdev, target: target ?? '', cdrom: true, access: 'r' }, lg);
        step('cdrom_insert_ejected_aodevcb', 1128, 'rc=0');
        // The stub domain's QEMU adds /dev/xvdX to its fd set once the PV disk is connected.
        this.watchStubDisk(stub, d, attached, devid, this.info.profile === 'seed' ? stubFdset! : undefined);
        step('cdrom_insert_ejected', 1170, 'rc=0');
        writeParams(stub.domid, target ?? '', 'phy');
        step('cdrom_insert_ejected', 1228, `stubdom_id=${stub.domid}`);
        d.media.set(vdev, target);
        step('cdrom_insert_ejected', 1255, 'Skipping qmp add-fd path');
        step('cdrom_insert_ejected', 1262, 'out label rc=0');
        step('cdrom_insert_ejected', 1269, `no callback; stubdom_id=${stub.domid}`);
        if (!target) {
          step('cdrom_insert_inserted', 1375, 'rc=0');
          return;
        }
        let fdset: number | undefined = this.info.profile === 'seed' ? stubFdset : undefined;
        if (this.info.profile === 'upstream') {
          for (let i = 0; i < 200 && fdset === undefined; i++) {
            const q = exec('query-fdsets');
            const sets = q.ok ? (q.value as Array<{ 'fdset-id': number; fds: Array<{ opaque?: string }> }>) : [];
            fdset = sets.find((s) => s.fds.some((f) => f.opaque === `stub-devid:${devid}`))?.['fdset-id'];
            if (fdset === undefined) await this.clock.sleep(200);
          }
          if (fdset === undefined) throw new XlError(ERROR.TIMEDOUT, 'timeout');
        }
        for (let retries = 0; ; retries++) {
          step('cdrom_insert_addfd_cb', 1295, 'rc=0');
          const ch = exec('blockdev-change-medium', { id: `ide-${devid}`, filename: `/dev/fdset/${fdset!}`, format: 'host_device' });
          if (!ch.ok) libxlLog(lg, 'error', AT.qmpError, d.domid, ch.desc);
          step('cdrom_insert_inserted', 1375, `rc=${rcOf(ch)}`);
          if (ch.ok) break;
          if (this.info.profile !== 'seed' || retries >= 10) return qmpFail(ch, true);
          step('cdrom_insert_inserted', 1379, 'Retrying QMP cdrom change\n');
          await this.clock.sleep(100);
        }
      });
    } catch (e) {
      doneRc = e instanceof XlError ? e.rc : ERROR.FAIL;
      throw e;
    } finally {
      step('cdrom_insert_done', 1476, `rc=${doneRc}`);
    }
  }

  /** Reference 4.3 against a real QEMU: two QMP sessions around libxl's xenstore updates. */
  private async cdInsertReal(d: SimDomain, q: RealQemu, vdev: string, devid: number, target: string | undefined, fmt: string, lg: LibxlLogger): Promise<void> {
    const writeParams = (params: string) =>
      this.x0.transaction((t) => {
        for (const p of [`/local/domain/0/backend/qdisk/${d.domid}/${devid}`, `/libxl/${d.domid}/device/vbd/${devid}`]) {
          if (!t.exists(p)) continue;
          t.write(`${p}/type`, 'qdisk');
          t.write(`${p}/params`, params);
        }
      });
    const fail = (r: { execute: string; error?: { class: string; desc: string } } | undefined) => {
      if (!r?.error) return;
      libxlLog(lg, 'error', AT.qmpError, d.domid, r.error.desc);
      throw new XlError(r.error.class === 'GenericError' ? ERROR.QMP_GENERIC_ERROR : r.error.class === 'DeviceNotFound' ? ERROR.QMP_DEVICE_NOT_FOUND : ERROR.FAIL, r.error.desc);
    };
    let r;
    try {
      r = await q.session([{ execute: 'query-version' }, { execute: 'eject', arguments: { id: `ide-${devid}` } }]);
    } catch (e) {
      libxlLog(lg, 'error', AT.qmpError, d.domid, (e as Error).message);
      throw new XlError(ERROR.FAIL, (e as Error).message);
    }
    fail(r.replies.find((x) => x.error));
    writeParams('');
    if (target) {
      const r2 = await q.session([
        { execute: 'add-fd', arguments: { opaque: `${fmt}:${target}` }, file: target },
        { execute: 'blockdev-change-medium', arguments: { id: `ide-${devid}`, filename: '/dev/fdset/$FDSET', format: fmt } },
      ]);
      fail(r2.replies[0]);
      fail(r2.replies[1]);
      writeParams(`${fmt === 'raw' ? 'aio' : fmt}:${target}`);
    }
    d.media.set(vdev, target);
  }

  private watchStubDisk(stub: SimDomain, guest: SimDomain, dev: SimDevice, devid: number, fdsetId: number | undefined): void {
    const unwatch = this.store.watch(
      `${dev.fe}/state`,
      `stubcd-${devid}`,
      () => {
        if (this.readState(dev.fe) !== STATE.Connected) return;
        unwatch();
        stub.cancel.push(
          this.clock.after(T.stubFdsetAdd, () => {
            const letter = String.fromCharCode(97 + ((fdsetId ?? 8002) - 8000));
            guest.dm?.addOwnFd(fdsetId ?? this.freeFdset(guest.dm), { mode: 'r', path: `/dev/xvd${letter}` }, `stub-devid:${devid}`);
          }),
        );
      },
      0,
    );
    stub.cancel.push(unwatch);
  }

  private freeFdset(dm: DeviceModel): number {
    const r = dm.execute('query-fdsets', {});
    const used = new Set((r.ok ? (r.value as Array<{ 'fdset-id': number }>) : []).map((s) => s['fdset-id']));
    let i = 0;
    while (used.has(i)) i++;
    return i;
  }

  // ---------------------------------------------------------------- faults

  /** A guest (or anything) writing a frontend key, as the frontend domain. */
  frontendWrite(d: SimDomain, rel: string, value: string): void {
    this.store.as(d.domid).write(`/local/domain/${d.domid}/${rel}`, value);
  }

  qemuKill(d: SimDomain): void {
    if (d.realQemu) return this.qemuDied(d);
    if (!d.dm?.alive) return;
    d.dm.onEvent('SHUTDOWN', { guest: false, reason: 'host-signal' });
    this.qemuDied(d);
  }

  /** Writes `rate` values per second to a guest-writable path for `ms` ms. */
  guestFlood(d: SimDomain, rel: string, rate: number, ms: number): void {
    const g = this.store.as(d.domid);
    const start = this.clock.elapsed();
    let n = 0;
    const tick = () => {
      if (d.dying || this.clock.elapsed() - start > ms) return;
      try {
        g.write(`/local/domain/${d.domid}/${rel}`, String(n++));
      } catch {
        return;
      }
      d.cancel.push(this.clock.after(1000 / rate, tick));
    };
    tick();
  }

  /**
   * Back to an empty host, as a scenario starts (a looped scenario between passes): every
   * domain destroyed (stub domains with their guests), faults armed for domains not yet
   * created forgotten, and xl monitors waiting to restart a domain abandoned. Domids keep
   * counting up, as on a real host.
   */
  async reset(): Promise<void> {
    this.generation++;
    this.pendingFaults.clear();
    // Twice over: a monitor that was mid-restart when the first round began may have created its domain meanwhile.
    for (let round = 0; round < 2 && this.domains.size > 0; round++) {
      const guests = [...this.domains.values()].filter((d) => d.stubFor === undefined || !this.domains.has(d.stubFor)).sort((a, b) => a.domid - b.domid);
      // As `xl destroy` does it, one domain after another.
      for (const d of guests) {
        if (!this.domains.has(d.domid)) continue;
        await this.destroy(d.domid).catch((e: unknown) => this.opts.onEvent?.(`reset: destroying ${d.name}: ${(e as Error).message}`));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const d of this.domains.values()) {
      for (const c of d.cancel.splice(0)) c();
      for (const dev of d.devices) for (const u of dev.unwatch.splice(0)) u();
      await d.qmp?.stop();
      d.realQemu?.stop();
    }
    this.ninepfsd?.stop();
  }
}

export { uuidFor };
export type { FdInfo };
