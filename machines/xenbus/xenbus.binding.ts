/**
 * Routes xenstore observations to xenbus device actors, and names their incidents.
 *
 * - `xs.write` under a frontend or backend device directory → `xenbus.write` to
 *   `xenbus:<uuid>:<kind>/<devid>`, with input (the first key seen creates the device);
 *   on creation the event carries the keys the mirror already holds (`prior`).
 * - `xs.rm` of a device directory, its `state` or a tracked key → `xenbus.rm` (never creates);
 *   `xs.rm` of an ancestor (a whole domain, a backend tree) → `xenbus.rm` of every device
 *   directory the mirror knows below it.
 * - The uuid is the frontend domain's (`ctx.uuidOf(domid)`); unknown uuid → nothing routed.
 */
import type { IncidentHit, MachineBinding, RouteContext, Routed, TransitionInfo } from '../host/binding.ts';
import type { XRecord } from '../events/record.ts';
import { xenbusMachine } from './xenbus.machine.ts';
import { deviceDir, devicesBelow, parseDevicePath, type DevicePath } from './xenbus.paths.ts';
import type { PriorKey, XenbusContext } from './xenbus.types.ts';
import { probeBackend } from '../ninepfs/ninepfs.rules.ts';


export type { IncidentHit, TransitionInfo };

/** Keys the machine reads; other keys only matter as the first sign of a new device. */
export const TRACKED_KEYS: readonly string[] = ['state', 'online', 'hotplug-status', 'hotplug-error', 'script'];
/** Keys tracked for xen-9pfsd backends only (whether xen-9pfsd must refuse the device). */
const XEN_9PFS_KEYS: readonly string[] = ['security_model', 'path'];

function tracks(p: DevicePath): boolean {
  return TRACKED_KEYS.includes(p.key) || (p.backendKind === 'xen_9pfs' && XEN_9PFS_KEYS.includes(p.key));
}

export function xenbusActorId(uuid: string, kind: string, devid: number): string {
  return `xenbus:${uuid}:${kind}/${devid}`;
}

function uuidFor(rec: XRecord, ctx: RouteContext, domid: number): string | undefined {
  return ctx.uuidOf(domid) ?? (rec.domid === domid ? rec.uuid : undefined);
}

/** The other side's directory, as the mirror knows it. */
function peerDir(p: DevicePath, ctx: RouteContext): string | undefined {
  if (p.side === 'backend') return deviceDir({ ...p, side: 'frontend', key: '' });
  return ctx.read(`${deviceDir(p)}/backend`);
}

/** Keys already in the mirror for both sides of a device (used when an actor is created). */
export function priorKeys(p: DevicePath, ctx: RouteContext, keys: readonly string[]): PriorKey[] {
  const out: PriorKey[] = [];
  const dirs: Array<[DevicePath['side'], string | undefined]> = [
    [p.side, deviceDir(p)],
    [p.side === 'frontend' ? 'backend' : 'frontend', peerDir(p, ctx)],
  ];
  for (const [side, dir] of dirs) {
    if (!dir) continue;
    const be = side === 'backend' ? parseDevicePath(dir) : undefined;
    for (const key of keys) {
      const value = ctx.read(`${dir}/${key}`);
      if (value === undefined) continue;
      out.push(be ? { side, key, value, backendKind: be.backendKind, backendDomid: be.backendDomid } : { side, key, value });
    }
  }
  return out;
}

function routeXenbus(rec: XRecord, ctx: RouteContext): Routed[] {
  if (rec.type !== 'xs.write' && rec.type !== 'xs.rm') return [];
  const path = (rec.data as { path?: unknown }).path;
  if (typeof path !== 'string' || !path.startsWith('/local/domain/')) return [];
  const p = parseDevicePath(path);
  if (rec.type === 'xs.write') {
    if (!p) return [];
    const uuid = uuidFor(rec, ctx, p.domid);
    if (!uuid) return [];
    const id = xenbusActorId(uuid, p.kind, p.devid);
    const exists = ctx.has(id);
    if (exists && !tracks(p)) return [];
    const value = String((rec.data as { value?: unknown }).value ?? '');
    const event: Record<string, unknown> = {
      type: 'xenbus.write',
      ts: rec.ts,
      seq: rec.seq,
      domid: p.domid,
      side: p.side,
      key: p.key,
      value,
    };
    if (p.side === 'backend') {
      event.backendKind = p.backendKind;
      event.backendDomid = p.backendDomid;
    }
    if (!exists) event.prior = priorKeys(p, ctx, [...TRACKED_KEYS, ...XEN_9PFS_KEYS]);
    return [
      {
        id,
        uuid,
        input: { uuid, domid: p.domid, kind: p.kind, devid: p.devid },
        event: event as Routed['event'],
      },
    ];
  }
  const targets = p ? (p.key === '' || tracks(p) ? [p] : []) : devicesBelow(path, (q) => ctx.children(q));
  const out: Routed[] = [];
  for (const t of targets) {
    const uuid = uuidFor(rec, ctx, t.domid);
    if (!uuid) continue;
    const id = xenbusActorId(uuid, t.kind, t.devid);
    if (!ctx.has(id)) continue;
    out.push({ id, uuid, event: { type: 'xenbus.rm', ts: rec.ts, seq: rec.seq, domid: t.domid, side: t.side, key: t.key } });
  }
  return out;
}

function regionValue(s: string, region: string): string | undefined {
  for (const part of s.split(',')) if (part.startsWith(`${region}.`)) return part.slice(region.length + 1);
  return undefined;
}

/**
 * Incidents: `handshake-stall` when the link enters `stalled`; `handshake-failure` when it
 * enters `failed`, except for xen-9pfsd backends (`xen_9pfs`), whose failures the ninepfs
 * machine reports with the close reason (one device, one report). For the same reason the
 * InitWait stall of a xen-9pfsd device that xen-9pfsd must refuse is not reported here.
 */
export function xenbusIncident(t: TransitionInfo): IncidentHit | null {
  const to = regionValue(t.to, 'link');
  if (to === regionValue(t.from, 'link')) return null;
  const c = t.context as XenbusContext;
  const dev = `${c.kind}/${c.devid}`;
  // A xen-9pfsd device that must be refused never reaches InitWait: ninepfs reports it with the reason.
  const refusedBy9pfsd = c.backendKind === 'xen_9pfs' && c.stall?.phase === 'initwait' && probeBackend(c.backendConfig ?? {}) !== undefined;
  if (to === 'stalled' && c.stall && !refusedBy9pfsd) {
    const what = { initwait: 'to reach InitWait', hotplug: 'for hotplug-status', close: 'to reach Closed' }[c.stall.phase];
    return {
      kind: 'handshake-stall',
      summary: `${dev}: ${c.stall.side} (${c.backendKind ?? '?'}) waited past libxl's timeout ${what}`,
      start: c.stall.since,
    };
  }
  if (to === 'failed' && c.failure && c.backendKind !== 'xen_9pfs') {
    return { kind: 'handshake-failure', summary: `${dev}: ${c.failure.side} failed: ${c.failure.reason}`, start: c.failure.seq };
  }
  return null;
}

export const xenbusBinding: MachineBinding & { incident(t: TransitionInfo): IncidentHit | null } = {
  kind: 'xenbus',
  version: '1',
  machine: xenbusMachine,
  route: routeXenbus,
  incident: xenbusIncident,
};
