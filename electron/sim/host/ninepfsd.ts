/**
 * The simulated xen-9pfsd backend daemon (seed 001, reference section 8). It
 * runs in dom0, watches `backend/xen_9pfs` with token `main` and each
 * frontend's `state` with token `<domid>/<devid>`, and applies every check of
 * the seed: security_model must be `none`, the host path must be absolute
 * with every component a directory (missing ones are created 0777), the
 * frontend must say version 1, 1..4 rings, a non-zero bindable event channel
 * and a non-zero mappable ring-ref per ring, and a ring order of 1..9 in the
 * shared interface page. A failed connect closes the backend (6); a device
 * that fails its first checks is dropped without a state change, as the
 * daemon does. Its syslog lines go to `xen-9pfsd.log`.
 */
import type { XsStore } from '../xenstore/store-api.ts';
import type { HostFs } from './hostfs.ts';

export const MAX_RINGS = 4;
export const MAX_RING_ORDER = 9;
export const MAX_OPEN_FILES_DEFAULT = 5;

const XenbusState = { Unknown: 0, Initialising: 1, InitWait: 2, Initialised: 3, Connected: 4, Closing: 5, Closed: 6, Reconfiguring: 7, Reconfigured: 8 } as const;

export interface NinePfsdDeps {
  store: XsStore;
  fs: HostFs;
  syslog(line: string): void;
  /** The ring order the frontend put in the interface page behind grant `ref`, or undefined if it cannot be mapped. */
  mapInterface(domid: number, ref: number): { ring_order: number } | undefined;
  /** Whether the frontend's event channel port can be bound. */
  bindEvtchn(domid: number, port: number): boolean;
}

interface Device {
  domid: number;
  devid: number;
  frontendState: number;
  backendState: number;
  lastSeen: number;
  unwatch: () => void;
  maxOpenFiles: number;
  hostPath?: string;
  numRings: number;
}

function uintFromString(s: string | undefined, def: number): number {
  if (s === undefined) return def;
  if (!/^[0-9]*$/.test(s)) return def;
  const v = s === '' ? 0 : Number(s);
  return v > 0xffffffff ? def : v;
}

export class NinePfsd {
  private readonly devs: Device[] = [];
  private now = 0;
  private unwatchMain: (() => void) | undefined;
  private readonly xs;

  constructor(private readonly deps: NinePfsdDeps) {
    this.xs = deps.store.as(0);
  }

  /** Starts the daemon: publishes its state for libxl and watches for devices. */
  start(pid: number): void {
    this.xs.write('/local/domain/0/libxl/xen-9pfs/pid', String(pid));
    this.xs.write('/local/domain/0/libxl/xen-9pfs/state', 'running');
    this.unwatchMain = this.deps.store.watch('/local/domain/0/backend/xen_9pfs', 'main', () => this.scanBackend(), 0);
  }

  stop(): void {
    this.unwatchMain?.();
    try {
      this.xs.rm('/local/domain/0/libxl/xen-9pfs');
    } catch {
      /* already gone */
    }
    for (const d of this.devs.splice(0)) d.unwatch();
  }

  /** Current backend-side view, for tests and the simulator's status. */
  devices(): Array<{ domid: number; devid: number; backendState: number; frontendState: number }> {
    return this.devs.map((d) => ({ domid: d.domid, devid: d.devid, backendState: d.backendState, frontendState: d.frontendState }));
  }

  private be(d: { domid: number; devid: number }, node: string): string {
    return `/local/domain/0/backend/xen_9pfs/${d.domid}/${d.devid}/${node}`;
  }

  private fe(d: { domid: number; devid: number }, node: string): string {
    return `/local/domain/${d.domid}/device/9pfs/${d.devid}/${node}`;
  }

  private writeBackendNode(d: Device, node: string, val: string): boolean {
    try {
      this.xs.write(this.be(d, node), val);
      this.xs.setPerms(this.be(d, node), [
        { domid: 0, perm: 'n' },
        { domid: d.domid, perm: 'r' },
      ]);
      return true;
    } catch {
      this.deps.syslog(`error writing bacḱend node "${node}" for device ${d.domid}/${d.devid}`);
      return false;
    }
  }

  private writeBackendState(d: Device, state: number): void {
    try {
      this.xs.write(this.be(d, 'state'), String(state));
      d.backendState = state;
    } catch {
      this.deps.syslog(`error writing backend state ${state} for device ${d.domid}/${d.devid}`);
    }
  }

  /** check_host_path: absolute, each component a directory; missing ones are created. Returns true when invalid. */
  private checkHostPath(path: string | undefined): boolean {
    if (path === undefined || !path.startsWith('/')) return true;
    let i = 0;
    for (;;) {
      const next = path.indexOf('/', i + 1);
      const prefix = next < 0 ? path : path.slice(0, next);
      const st = this.deps.fs.stat(prefix);
      if (st !== undefined) {
        if (st !== 'dir') return true;
        if (next < 0) return false;
        i = next;
        continue;
      }
      if (!this.deps.fs.mkdir(prefix)) return true;
      if (next < 0) return true; // the C loop ends here without clearing its error
      i = next;
    }
  }

  private newDevice(domid: number, devid: number): Device | undefined {
    const token = `${domid}/${devid}`;
    const d: Device = { domid, devid, frontendState: 0, backendState: 0, lastSeen: 0, unwatch: () => undefined, maxOpenFiles: 0, numRings: 0 };
    d.unwatch = this.deps.store.watch(this.fe(d, 'state'), token, () => this.handleWatch(token), 0);
    const sm = this.xs.tryRead(this.be(d, 'security_model'));
    if (sm !== 'none') {
      this.deps.syslog(`Security model "${sm ?? '(null)'}" for device ${domid}/${devid} invalid.`);
      d.unwatch();
      return undefined;
    }
    d.maxOpenFiles = uintFromString(this.xs.tryRead(this.be(d, 'max-open-files')), 0) || MAX_OPEN_FILES_DEFAULT;
    d.hostPath = this.xs.tryRead(this.be(d, 'path'));
    if (this.checkHostPath(d.hostPath)) {
      this.deps.syslog(`Host path "${d.hostPath ?? '(null)'}" for device ${domid}/${devid} invalid.`);
      d.unwatch();
      return undefined;
    }
    if (!this.writeBackendNode(d, 'versions', '1') || !this.writeBackendNode(d, 'max-rings', String(MAX_RINGS)) || !this.writeBackendNode(d, 'max-ring-page-order', String(MAX_RING_ORDER))) {
      d.unwatch();
      return undefined;
    }
    this.writeBackendState(d, XenbusState.InitWait);
    this.devs.push(d);
    this.deps.syslog(`New device ${domid}/${devid} added`);
    return d;
  }

  private scanBackend(): void {
    this.now++;
    let doms: string[];
    try {
      doms = this.xs.directory('/local/domain/0/backend/xen_9pfs');
    } catch {
      doms = [];
    }
    for (const dom of doms) {
      if (!/^[0-9]+$/.test(dom) || Number(dom) >= 0x7ff0) continue;
      let devices: string[] = [];
      try {
        devices = this.xs.directory(`/local/domain/0/backend/xen_9pfs/${dom}`);
      } catch {
        devices = [];
      }
      for (const dev of devices) {
        if (!/^[0-9]+$/.test(dev)) continue;
        const domid = Number(dom);
        const devid = Number(dev);
        const d = this.devs.find((x) => x.domid === domid && x.devid === devid) ?? this.newDevice(domid, devid);
        if (d) d.lastSeen = this.now;
      }
    }
    for (const d of [...this.devs]) {
      if (d.lastSeen !== this.now) {
        this.devs.splice(this.devs.indexOf(d), 1);
        d.unwatch();
      }
    }
  }

  private handleWatch(token: string): void {
    const [domid, devid] = token.split('/').map(Number);
    const d = this.devs.find((x) => x.domid === domid && x.devid === devid);
    if (!d) {
      this.deps.syslog(`watch event for unknown device ${domid}/${devid}`);
      return;
    }
    this.frontendChanged(d);
  }

  private closeDevice(d: Device, state: number): void {
    d.numRings = 0;
    this.writeBackendState(d, state);
  }

  private connectErr(d: Device, msg: string): void {
    this.deps.syslog(msg);
    this.closeDevice(d, XenbusState.Closed);
  }

  private connectDevice(d: Device): void {
    if (uintFromString(this.xs.tryRead(this.fe(d, 'version')), 0) !== 1) return this.connectErr(d, 'frontend specifies illegal version');
    d.numRings = uintFromString(this.xs.tryRead(this.fe(d, 'num-rings')), 0);
    if (d.numRings < 1 || d.numRings > MAX_RINGS) return this.connectErr(d, 'frontend specifies illegal ring number');
    for (let r = 0; r < d.numRings; r++) {
      const evtchn = uintFromString(this.xs.tryRead(this.fe(d, `event-channel-${r}`)), 0);
      if (evtchn === 0) return this.connectErr(d, 'frontend specifies illegal evtchn');
      if (!this.deps.bindEvtchn(d.domid, evtchn)) return this.connectErr(d, 'could not bind to event channel');
      const ref = uintFromString(this.xs.tryRead(this.fe(d, `ring-ref${r}`)), 0);
      if (ref === 0) return this.connectErr(d, 'frontend specifies illegal grant for ring');
      const intf = this.deps.mapInterface(d.domid, ref);
      if (!intf) return this.connectErr(d, 'could not map interface page');
      if (intf.ring_order > MAX_RING_ORDER || intf.ring_order < 1) return this.connectErr(d, 'frontend specifies illegal ring order');
    }
    this.writeBackendState(d, XenbusState.Connected);
  }

  private frontendChanged(d: Device): void {
    const state = this.xs.tryRead(this.fe(d, 'state'));
    if (state === undefined) {
      this.closeDevice(d, XenbusState.Closed);
      return;
    }
    let s = /^[0-9]+$/.test(state) ? Number(state) : NaN;
    if (Number.isNaN(s) || s > XenbusState.Reconfigured) {
      this.deps.syslog(`unknown state "${state}" seen for device ${d.domid}/${d.devid}`);
      s = XenbusState.Unknown;
    }
    if (s === d.frontendState) return;
    switch (s) {
      case XenbusState.Initialising:
      case XenbusState.Connected:
        break;
      case XenbusState.Initialised:
        this.connectDevice(d);
        break;
      case XenbusState.Closing:
        this.closeDevice(d, XenbusState.Closing);
        break;
      case XenbusState.Closed:
        this.closeDevice(d, XenbusState.Closed);
        break;
      default:
        this.deps.syslog(`not handled frontend state ${s} for device ${d.domid}/${d.devid}`);
    }
    d.frontendState = s;
  }
}
