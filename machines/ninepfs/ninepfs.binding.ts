/**
 * Routes xenstore observations of xen-9pfsd devices to ninepfs actors, and names their incidents.
 *
 * - A write under `/local/domain/<be>/backend/xen_9pfs/<domid>/<devid>/` or under a 9pfs frontend
 *   whose `backend` points into `backend/xen_9pfs/` → `ninepfs.write` to `ninepfs:<uuid>:9pfs/<devid>`,
 *   with input (the first key seen creates it, carrying the keys the mirror already holds);
 *   QEMU-served 9pfs (backend kind `9pfs`) is not routed here.
 * - `xs.rm` of such a directory, a tracked key or an ancestor → `ninepfs.rm` (never creates).
 * - The uuid is the frontend domain's; unknown uuid → nothing routed.
 */
import type { IncidentHit, MachineBinding, RouteContext, Routed, TransitionInfo } from '../host/binding.ts';
import type { XRecord } from '../events/record.ts';
import { deviceDir, devicesBelow, parseDevicePath, type DevicePath } from '../xenbus/xenbus.paths.ts';
import { ninepfsMachine } from './ninepfs.machine.ts';
import type { NinepfsContext, NinepfsKey } from './ninepfs.types.ts';


export type { IncidentHit, TransitionInfo };

export const BACKEND_KEYS: readonly string[] = ['state', 'online', 'security_model', 'path', 'versions', 'max-rings', 'max-ring-page-order'];
const FRONTEND_FIXED_KEYS: readonly string[] = ['state', 'version', 'num-rings', 'ring-page-order', 'backend'];
/** Frontend keys read as prior state on creation (ring keys for up to 8 rings, enough to judge num-rings ≤ 4). */
const FRONTEND_PRIOR_KEYS: readonly string[] = [
  ...FRONTEND_FIXED_KEYS,
  ...Array.from({ length: 8 }, (_, i) => [`event-channel-${i}`, `ring-ref${i}`]).flat(),
];

export function isTrackedFrontendKey(key: string): boolean {
  return FRONTEND_FIXED_KEYS.includes(key) || /^event-channel-\d+$/.test(key) || /^ring-ref\d+$/.test(key);
}

export function ninepfsActorId(uuid: string, devid: number): string {
  return `ninepfs:${uuid}:9pfs/${devid}`;
}

const XEN_9PFS = '/backend/xen_9pfs/';

/** Whether a parsed path belongs to a device served by xen-9pfsd. */
function served(p: DevicePath, rec: XRecord, ctx: RouteContext): boolean {
  if (p.side === 'backend') return p.backendKind === 'xen_9pfs';
  if (p.kind !== '9pfs') return false;
  const ptr = p.key === 'backend' && rec.type === 'xs.write' ? String((rec.data as { value?: unknown }).value) : ctx.read(`${deviceDir(p)}/backend`);
  return ptr !== undefined && ptr.includes(XEN_9PFS);
}

function uuidFor(rec: XRecord, ctx: RouteContext, domid: number): string | undefined {
  return ctx.uuidOf(domid) ?? (rec.domid === domid ? rec.uuid : undefined);
}

function priorKeys(p: DevicePath, rec: XRecord, ctx: RouteContext): NinepfsKey[] {
  const out: NinepfsKey[] = [];
  const fe = deviceDir({ ...p, side: 'frontend', key: '' });
  // The record creating the actor may be the frontend's own `backend` pointer (the mirror holds it only after routing).
  const pointer = p.side === 'frontend' && p.key === 'backend' ? String((rec.data as { value?: unknown }).value) : undefined;
  const beDir = p.side === 'backend' ? deviceDir(p) : (pointer ?? ctx.read(`${fe}/backend`));
  const be = beDir !== undefined ? parseDevicePath(beDir) : undefined;
  for (const key of FRONTEND_PRIOR_KEYS) {
    const value = ctx.read(`${fe}/${key}`);
    if (value !== undefined) out.push({ side: 'frontend', key, value });
  }
  if (beDir !== undefined && be?.backendKind === 'xen_9pfs') {
    for (const key of BACKEND_KEYS) {
      const value = ctx.read(`${beDir}/${key}`);
      if (value !== undefined) out.push({ side: 'backend', key, value, backendDomid: be.backendDomid });
    }
  }
  return out;
}

function tracked(p: DevicePath): boolean {
  return p.side === 'backend' ? BACKEND_KEYS.includes(p.key) : isTrackedFrontendKey(p.key);
}

function routeNinepfs(rec: XRecord, ctx: RouteContext): Routed[] {
  if (rec.type !== 'xs.write' && rec.type !== 'xs.rm') return [];
  const path = (rec.data as { path?: unknown }).path;
  if (typeof path !== 'string' || !path.startsWith('/local/domain/')) return [];
  const p = parseDevicePath(path);
  if (rec.type === 'xs.write') {
    if (!p || p.kind !== '9pfs' || !tracked(p) || !served(p, rec, ctx)) return [];
    const uuid = uuidFor(rec, ctx, p.domid);
    if (!uuid) return [];
    const id = ninepfsActorId(uuid, p.devid);
    const event: Record<string, unknown> = {
      type: 'ninepfs.write',
      ts: rec.ts,
      seq: rec.seq,
      domid: p.domid,
      side: p.side,
      key: p.key,
      value: String((rec.data as { value?: unknown }).value ?? ''),
    };
    if (p.side === 'backend') event.backendDomid = p.backendDomid;
    if (!ctx.has(id)) event.prior = priorKeys(p, rec, ctx);
    return [{ id, uuid, input: { uuid, domid: p.domid, devid: p.devid }, event: event as Routed['event'] }];
  }
  const targets = p ? (p.key === '' || tracked(p) ? [p] : []) : devicesBelow(path, (q) => ctx.children(q));
  const out: Routed[] = [];
  for (const t of targets) {
    if (t.kind !== '9pfs' || (t.side === 'backend' && t.backendKind !== 'xen_9pfs')) continue;
    const uuid = uuidFor(rec, ctx, t.domid);
    if (!uuid) continue;
    const id = ninepfsActorId(uuid, t.devid);
    if (!ctx.has(id)) continue;
    out.push({ id, uuid, event: { type: 'ninepfs.rm', ts: rec.ts, seq: rec.seq, domid: t.domid, side: t.side, key: t.key } });
  }
  return out;
}

function regionValue(s: string, region: string): string | undefined {
  for (const part of s.split(',')) if (part.startsWith(`${region}.`)) return part.slice(region.length + 1);
  return undefined;
}

/**
 * `handshake-failure` when xen-9pfsd must refuse or close the device by its own checks
 * (with the close reason and whether the backend complied at that moment), or when the observed
 * backend deviates from what xen-9pfsd must do and no failure was reported for this expectation. Stalls are the xenbus actor's; the xenbus actor
 * does not report failures of `xen_9pfs` devices, so a device is reported once.
 */
export function ninepfsIncident(t: TransitionInfo): IncidentHit | null {
  const c = t.context as NinepfsContext;
  const dev = `9pfs/${c.devid}`;
  const daemon = regionValue(t.to, 'daemon');
  const daemonChanged = daemon !== regionValue(t.from, 'daemon');
  if (daemonChanged && (daemon === 'refused' || daemon === 'closed') && c.failedBy) {
    const must = daemon === 'refused' ? 'refuse the device' : 'close the backend';
    const did = c.verdict === 'complied' ? 'it did' : c.verdict === 'deviated' ? `it did not: ${c.deviation}` : 'not yet observed';
    return { kind: 'handshake-failure', summary: `${dev}: xen-9pfsd must ${must}: ${c.closeReason} (${did})`, start: c.expectSeq ?? t.seq };
  }
  const verdict = regionValue(t.to, 'observed');
  if (verdict === 'deviated' && regionValue(t.from, 'observed') !== 'deviated' && !c.failedBy) {
    return { kind: 'handshake-failure', summary: `${dev}: backend deviated from xen-9pfsd: ${c.deviation}`, start: c.expectSeq ?? t.seq };
  }
  return null;
}

export const ninepfsBinding: MachineBinding & { incident(t: TransitionInfo): IncidentHit | null } = {
  kind: 'ninepfs',
  version: '1',
  machine: ninepfsMachine,
  route: routeNinepfs,
  incident: ninepfsIncident,
};
