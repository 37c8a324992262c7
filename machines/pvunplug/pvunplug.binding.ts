/**
 * Routes observations to `pvUnplug:<uuid>` actors (HVM domains only) and names
 * the `pv-blacklisted` incident. The observation format consumed is documented
 * in README.md; platform lines follow platform-lines.ts.
 */
import type { IncidentHit, MachineBinding, RouteContext, Routed, TransitionInfo } from '../host/binding.ts';
import { pvUnplugMachine } from './pvunplug.machine.ts';
import type { PvUnplugContext, PvUnplugEvent, PvUnplugInput } from './pvunplug.types.ts';
import { parsePlatformLine, productName } from './platform-lines.ts';
import type { PlatformLine } from './platform-lines.ts';
import { emulatedDisk, emulatedNic } from './unplug-effect.ts';

/** The record type, taken from the seam (the lint's `events` pattern also matches the `../events/` folder). */
type XRecord = Parameters<MachineBinding['route']>[0];

export const PV_UNPLUG_KIND = 'pvUnplug';
/** `dropped.reason` the host uses for guest log lines it filtered before recording. */
export const PV_LOG_DROP_REASON = 'xen-platform-log';


type EventBody = PvUnplugEvent extends infer E ? (E extends PvUnplugEvent ? Omit<E, 'ts' | 'seq'> : never) : never;

const DOMAIN_PREFIX = '/local/domain/';
const DRIVER_DIRS = new Set(['data', 'drivers', 'attr']);
const DISK_BACKENDS = new Set(['vbd', 'qdisk', 'vbd3']);
const INTERESTING_SEGMENT = /^(?:backend\/|data\/|drivers\/|attr\/)/;

function lineEvent(p: PlatformLine): EventBody {
  switch (p.kind) {
    case 'magic':
      return { type: 'pv.magic', value: p.value };
    case 'version':
      return { type: 'pv.version', value: p.value };
    case 'product':
      return { type: 'pv.product', value: p.value };
    case 'build':
      return { type: 'pv.build', value: p.value };
    case 'build-ignored':
      return { type: 'pv.build.ignored', value: p.value };
    case 'blacklisted':
      return { type: 'pv.blacklisted' };
    case 'mask':
      return { type: 'pv.mask', value: p.value };
    case 'unplug':
      return { type: 'pv.unplug', what: p.what };
    case 'throttled':
      return { type: 'pv.throttled' };
    case 'log':
      return { type: 'pv.log', text: p.text };
  }
}

function toInt(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d+$/.test(s)) return undefined;
  return Number(s);
}

/**
 * Who may create the actor: `hvm` = only a domain known to be HVM; `device-model` =
 * also a domain of unknown type (platform lines come only from an HVM guest's
 * device model); `none` = deliver to an existing actor only.
 * PV/PVH domains and stub domains are never routed.
 */
type Create = 'hvm' | 'device-model' | 'none';

/** One delivery to the domain's actor. */
function deliver(rec: XRecord, ctx: RouteContext, domid: number | undefined, body: EventBody, create: Create): Routed[] {
  if (domid === undefined) return [];
  const uuid = ctx.uuidOf(domid) ?? (rec.domid === domid ? rec.uuid : undefined);
  if (uuid === undefined) return [];
  const type = ctx.domainType(domid);
  if (type === 'pv' || type === 'pvh') return [];
  if (ctx.targetOf(domid) !== undefined) return [];
  const routed: Routed = { id: `${PV_UNPLUG_KIND}:${uuid}`, uuid, event: { ...body, ts: rec.ts, seq: rec.seq } };
  if ((create === 'hvm' && type === 'hvm') || create === 'device-model') {
    const input: PvUnplugInput = { uuid, domid };
    routed.input = input as unknown as Record<string, unknown>;
  }
  return [routed];
}

/** xs.write under `/local/domain/<be>/backend/<kind>/<domid>/<devid>/<key>`: the emulated twin of a disk or NIC. */
function routeBackendWrite(rec: XRecord, ctx: RouteContext, parts: string[], value: string): Routed[] {
  // ['', 'local', 'domain', be, 'backend', kind, domid, devid, key]
  if (parts.length !== 9) return [];
  const kind = parts[5];
  const domid = toInt(parts[6]);
  const devid = toInt(parts[7]);
  if (domid === undefined || devid === undefined) return [];
  const key = parts[8];
  const dir = parts.slice(0, 8).join('/');
  if (DISK_BACKENDS.has(kind)) {
    let vdev: string | undefined;
    let devType: string | undefined;
    if (key === 'dev') {
      vdev = value;
      devType = ctx.read(`${dir}/device-type`);
    } else if (key === 'device-type') {
      vdev = ctx.read(`${dir}/dev`);
      devType = value;
    } else return [];
    if (vdev === undefined) return [];
    const device = emulatedDisk(vdev, devType === 'cdrom', devid);
    if (device === undefined) return [];
    return deliver(rec, ctx, domid, { type: 'pv.device', device }, 'hvm');
  }
  if (kind === 'vif') {
    if (key !== 'handle' && key !== 'type') return [];
    const nicType = key === 'type' ? value : ctx.read(`${dir}/type`);
    // libxl: nictype `vif` is PV only; `vif_ioemu` (the HVM default) also gets an emulated NIC.
    if (nicType === 'vif') return deliver(rec, ctx, domid, { type: 'pv.device.removed', kind: 'nic', devid }, 'none');
    return deliver(rec, ctx, domid, { type: 'pv.device', device: emulatedNic(devid) }, 'hvm');
  }
  return [];
}

function routeWrite(rec: XRecord, ctx: RouteContext): Routed[] {
  const data = rec.data as { path?: unknown; value?: unknown };
  if (typeof data.path !== 'string' || typeof data.value !== 'string') return [];
  const path = data.path;
  if (path.startsWith('/libxl/')) {
    // /libxl/<id>/dm-version = qemu_xen | qemu_xen_traditional
    const parts = path.split('/');
    if (parts.length !== 4 || parts[3] !== 'dm-version') return [];
    const profile = data.value === 'qemu_xen_traditional' ? 'seed' : data.value === 'qemu_xen' ? 'upstream' : undefined;
    if (profile === undefined) return [];
    return deliver(rec, ctx, toInt(parts[2]), { type: 'pv.profile', profile }, 'hvm');
  }
  if (!path.startsWith(DOMAIN_PREFIX)) return [];
  // Cheap filter before splitting (this runs for most records of a replay): the segment after the domid.
  const slash = path.indexOf('/', DOMAIN_PREFIX.length);
  if (slash < 0 || !INTERESTING_SEGMENT.test(path.slice(slash + 1, slash + 9))) return [];
  const parts = path.split('/');
  if (parts[4] === 'backend') return routeBackendWrite(rec, ctx, parts, data.value);
  if (parts.length >= 6 && DRIVER_DIRS.has(parts[4])) {
    // data/ is where guests publish running statistics (memory every second): only a key's first
    // appearance says something about the drivers; its updates are noise for this machine.
    if (parts[4] === 'data' && ctx.read(path) !== undefined) return [];
    const domid = toInt(parts[3]);
    return deliver(rec, ctx, domid, { type: 'pv.driver.key', key: parts.slice(4).join('/'), value: data.value }, 'hvm');
  }
  return [];
}

function routeRm(rec: XRecord, ctx: RouteContext): Routed[] {
  const data = rec.data as { path?: unknown };
  if (typeof data.path !== 'string' || !data.path.startsWith(DOMAIN_PREFIX)) return [];
  const parts = data.path.split('/');
  // ['', 'local', 'domain', be, 'backend', kind, domid, devid?]
  if (parts[4] !== 'backend' || (parts.length !== 7 && parts.length !== 8)) return [];
  const kind = DISK_BACKENDS.has(parts[5]) ? 'disk' : parts[5] === 'vif' ? 'nic' : undefined;
  if (kind === undefined) return [];
  const domid = toInt(parts[6]);
  const body: EventBody =
    parts.length === 8
      ? { type: 'pv.device.removed', kind, devid: toInt(parts[7]) ?? -1 }
      : { type: 'pv.device.removed', kind };
  return deliver(rec, ctx, domid, body, 'none');
}

/** Pure: the deliveries one record causes for pvUnplug actors. */
export function routePvUnplug(rec: XRecord, ctx: RouteContext): Routed[] {
  switch (rec.type) {
    case 'log.line': {
      const data = rec.data as { file?: unknown; domid?: unknown; line?: unknown };
      if (data.file !== 'qemu-dm' || typeof data.line !== 'string') return [];
      const p = parsePlatformLine(data.line);
      if (p === undefined) return [];
      const domid = typeof data.domid === 'number' ? data.domid : rec.domid;
      return deliver(rec, ctx, domid, lineEvent(p), 'device-model');
    }
    case 'xs.write':
      return routeWrite(rec, ctx);
    case 'xs.rm':
      return routeRm(rec, ctx);
    case 'xs.introduce': {
      const domid = (rec.data as { domid?: unknown }).domid;
      if (typeof domid !== 'number') return [];
      return deliver(rec, ctx, domid, { type: 'pv.reset', domid }, 'none');
    }
    case 'qmp.event': {
      const data = rec.data as { domid?: unknown; event?: unknown; data?: { device?: unknown; path?: unknown } };
      if (data.event !== 'DEVICE_DELETED' || typeof data.domid !== 'number') return [];
      const dev = typeof data.data?.device === 'string' && data.data.device !== '' ? data.data.device : data.data?.path;
      if (typeof dev !== 'string') return [];
      return deliver(rec, ctx, data.domid, { type: 'pv.device.deleted', device: dev }, 'none');
    }
    case 'dropped': {
      const data = rec.data as { domid?: unknown; reason?: unknown; count?: unknown; bytes?: unknown };
      if (data.reason !== PV_LOG_DROP_REASON) return [];
      const domid = typeof data.domid === 'number' ? data.domid : rec.domid;
      const count = typeof data.count === 'number' ? data.count : 0;
      const bytes = typeof data.bytes === 'number' ? data.bytes : 0;
      return deliver(rec, ctx, domid, { type: 'pv.log.dropped', count, bytes }, 'device-model');
    }
    default:
      return [];
  }
}

/** The incident of this kind: PV drivers told they are blacklisted (the guest keeps its emulated devices). */
export function pvUnplugIncident(t: TransitionInfo): IncidentHit | null {
  if (t.to !== 'blacklisted' || t.from === 'blacklisted') return null;
  const c = t.context as PvUnplugContext;
  const build = c.build !== undefined ? ` build ${c.build}` : '';
  return {
    kind: 'pv-blacklisted',
    summary: `PV drivers (${productName(c.product)}${build}) are blacklisted: they will not load and the emulated devices stay`,
    start: c.since ?? t.seq,
  };
}

export const pvUnplugBinding: MachineBinding = {
  kind: PV_UNPLUG_KIND,
  version: '1',
  machine: pvUnplugMachine,
  route: routePvUnplug,
  incident: pvUnplugIncident,
};
