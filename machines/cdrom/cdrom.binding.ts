/**
 * Routes records to cdrom actors, one per emulated CD-ROM:
 * `cdrom:<guest uuid>:vbd/<devid>`. An actor is created when a backend vbd
 * with `device-type=cdrom` appears (the guest's, or its stub domain's copy),
 * or by the first cd command naming the device. QMP device ids `ide-<devid>`
 * map to the same actor.
 */
import type { XRecord } from '../events/record.ts';
import type { IncidentHit, MachineBinding, RouteContext, Routed, TransitionInfo } from '../host/binding.ts';
import { cdromMachine } from './cdrom.machine.ts';
import { parseXlStep } from './cdrom.steps.ts';
import type { CdOp, CdromContext, CdromEvent, CdromInput } from './cdrom.types.ts';
import { devidOfQmpId, tryVdevToDevid } from './cdrom.vdev.ts';

const CD_OPS: ReadonlySet<string> = new Set<CdOp>(['cd-insert', 'cd-eject', 'cd-force-eject']);
const QMP_COMMANDS: ReadonlySet<string> = new Set([
  'query-version',
  'eject',
  'query-fdsets',
  'remove-fd',
  'add-fd',
  'blockdev-change-medium',
]);
const BACKEND_KINDS = ['vbd', 'qdisk'] as const;
const BACKEND_RE = /^\/local\/domain\/(\d+)\/backend\/(vbd|qdisk)\/(\d+)\/(\d+)(?:\/([\w-]+))?$/;
const BACKEND_DOMAIN_RE = /^\/local\/domain\/(\d+)\/backend\/(vbd|qdisk)\/(\d+)$/;
const LIBXL_RE = /^\/libxl\/(\d+)\/device\/vbd\/(\d+)\/(params|type)$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The actor id of a guest's CD-ROM. */
export function cdromActorId(uuid: string, devid: number): string {
  return `cdrom:${uuid}:vbd/${devid}`;
}

/** The guest a domid's entries belong to: a stub domain's entries belong to its target. */
function ownerOf(ctx: RouteContext, domid: number): { guest: number; fromStubdom: boolean } {
  const target = ctx.targetOf(domid);
  return target === undefined ? { guest: domid, fromStubdom: false } : { guest: target, fromStubdom: true };
}

/** Devids of a guest's CD-ROMs as xenstore shows them (its own vbds and its stub domain's). */
function cdromDevidsOf(ctx: RouteContext, guest: number): number[] {
  const found = new Set<number>();
  const doms = [guest];
  const stub = ctx.stubdomOf(guest);
  if (stub !== undefined) doms.push(stub);
  for (const d of doms)
    for (const kind of BACKEND_KINDS) {
      const base = `/local/domain/0/backend/${kind}/${d}`;
      for (const c of ctx.children(base)) if (ctx.read(`${base}/${c}/device-type`) === 'cdrom') found.add(Number(c));
    }
  return [...found].sort((a, b) => a - b);
}

function deliver(uuid: string, devid: number, event: CdromEvent, input?: CdromInput): Routed {
  return { id: cdromActorId(uuid, devid), uuid, ...(input ? { input: { ...input } } : {}), event };
}

function inputFor(ctx: RouteContext, uuid: string, guest: number, devid: number, vdev?: string): CdromInput {
  return {
    uuid,
    domid: guest,
    devid,
    ...(vdev !== undefined ? { vdev } : {}),
    stubdom: ctx.stubdomOf(guest) !== undefined,
  };
}

function routeBackendWrite(rec: XRecord, ctx: RouteContext, path: string, value: string): Routed[] {
  const m = BACKEND_RE.exec(path);
  if (!m || m[5] === undefined) return [];
  const [, bdom, kind, dom, dev, key] = m;
  if (key !== 'device-type' && key !== 'dev' && key !== 'params' && key !== 'type') return [];
  const base = `/local/domain/${bdom}/backend/${kind}/${dom}/${dev}`;
  const isCdrom = key === 'device-type' ? value === 'cdrom' : ctx.read(`${base}/device-type`) === 'cdrom';
  if (!isCdrom) return [];
  const { guest, fromStubdom } = ownerOf(ctx, Number(dom));
  const uuid = ctx.uuidOf(guest);
  if (uuid === undefined) return [];
  const devid = Number(dev);
  const stubdom = fromStubdom || ctx.stubdomOf(guest) !== undefined;
  const vdev = key === 'dev' ? value : ctx.read(`${base}/dev`);
  const input = inputFor(ctx, uuid, guest, devid, vdev);
  const stamp = { ts: rec.ts, seq: rec.seq };
  if (key === 'params' || key === 'type') {
    const type = key === 'params' ? ('cd.params' as const) : ('cd.type' as const);
    return [deliver(uuid, devid, { type, ...stamp, fromStubdom, where: 'backend', value }, input)];
  }
  const params = ctx.read(`${base}/params`);
  return [
    deliver(
      uuid,
      devid,
      {
        type: 'cd.device',
        ...stamp,
        domid: Number(dom),
        fromStubdom,
        stubdom,
        ...(vdev !== undefined ? { vdev } : {}),
        ...(params !== undefined ? { params } : {}),
      },
      input,
    ),
  ];
}

function routeLibxlWrite(rec: XRecord, ctx: RouteContext, path: string, value: string): Routed[] {
  const m = LIBXL_RE.exec(path);
  if (!m) return [];
  const [, dom, dev, key] = m;
  const isCdrom =
    ctx.read(`/libxl/${dom}/device/vbd/${dev}/device-type`) === 'cdrom' ||
    BACKEND_KINDS.some((k) => ctx.read(`/local/domain/0/backend/${k}/${dom}/${dev}/device-type`) === 'cdrom');
  if (!isCdrom) return [];
  const { guest, fromStubdom } = ownerOf(ctx, Number(dom));
  const uuid = ctx.uuidOf(guest);
  if (uuid === undefined) return [];
  const type = key === 'params' ? ('cd.params' as const) : ('cd.type' as const);
  const event: CdromEvent = { type, ts: rec.ts, seq: rec.seq, fromStubdom, where: 'libxl', value };
  return [deliver(uuid, Number(dev), event, inputFor(ctx, uuid, guest, Number(dev)))];
}

function routeRemove(rec: XRecord, ctx: RouteContext, path: string): Routed[] {
  let dom: string;
  let devs: string[];
  let m = BACKEND_RE.exec(path);
  if (m && (m[5] === undefined || m[5] === 'device-type')) {
    const base = `/local/domain/${m[1]}/backend/${m[2]}/${m[3]}/${m[4]}`;
    if (ctx.read(`${base}/device-type`) !== 'cdrom') return [];
    dom = m[3];
    devs = [m[4]];
  } else if ((m = BACKEND_DOMAIN_RE.exec(path))) {
    dom = m[3];
    devs = ctx.children(path).filter((c) => ctx.read(`${path}/${c}/device-type`) === 'cdrom');
  } else return [];
  const { guest, fromStubdom } = ownerOf(ctx, Number(dom));
  const uuid = ctx.uuidOf(guest);
  if (uuid === undefined) return [];
  return devs.map((d) =>
    deliver(uuid, Number(d), { type: 'cd.detached', ts: rec.ts, seq: rec.seq, domid: Number(dom), fromStubdom }),
  );
}

/** The domain a cd command names: a domid, a uuid or a name. */
function resolveDomain(rec: XRecord, ctx: RouteContext, domain: unknown): { domid?: number; uuid?: string } {
  if (rec.uuid !== undefined) return { uuid: rec.uuid, domid: rec.domid ?? ctx.domidOf(rec.uuid) };
  if (typeof domain === 'number' || (typeof domain === 'string' && /^\d+$/.test(domain))) {
    const domid = Number(domain);
    return { domid, uuid: ctx.uuidOf(domid) };
  }
  if (typeof domain !== 'string') return {};
  if (UUID_RE.test(domain)) return { uuid: domain, domid: ctx.domidOf(domain) };
  for (const c of ctx.children('/local/domain'))
    if (ctx.read(`/local/domain/${c}/name`) === domain) return { domid: Number(c), uuid: ctx.uuidOf(Number(c)) };
  return {};
}

function routeRequest(rec: XRecord, ctx: RouteContext): Routed[] {
  const d = rec.data as { cmd?: unknown; user?: unknown; op?: unknown; args?: Record<string, unknown> };
  if (typeof d.op !== 'string' || !CD_OPS.has(d.op) || typeof d.cmd !== 'string') return [];
  const args = d.args ?? {};
  const vdev = args.vdev;
  if (typeof vdev !== 'string') return [];
  const devid = tryVdevToDevid(vdev);
  if (devid === undefined) return [];
  const { domid, uuid } = resolveDomain(rec, ctx, args.domain);
  if (uuid === undefined) return [];
  const stubdom = domid !== undefined && ctx.stubdomOf(domid) !== undefined;
  const path = typeof args.path === 'string' && args.path !== '' ? args.path : undefined;
  const event: CdromEvent = {
    type: 'cd.request',
    ts: rec.ts,
    seq: rec.seq,
    cmd: d.cmd,
    user: typeof d.user === 'string' ? d.user : '',
    op: d.op as CdOp,
    vdev,
    ...(path !== undefined ? { path } : {}),
    ...(domid !== undefined ? { domid } : {}),
    stubdom,
  };
  const input: CdromInput = { uuid, devid, vdev, stubdom, ...(domid !== undefined ? { domid } : {}) };
  return [deliver(uuid, devid, event, input)];
}

/** Guests whose CD-ROMs a record without a domain may concern: every guest with one. */
function allCdromGuests(ctx: RouteContext): number[] {
  const guests = new Set<number>();
  for (const kind of BACKEND_KINDS)
    for (const c of ctx.children(`/local/domain/0/backend/${kind}`)) guests.add(ownerOf(ctx, Number(c)).guest);
  return [...guests].sort((a, b) => a - b);
}

function routeResult(rec: XRecord, ctx: RouteContext): Routed[] {
  const d = rec.data as { cmd?: unknown; ok?: unknown; error?: unknown; output?: unknown };
  if (typeof d.cmd !== 'string') return [];
  const cmd = d.cmd;
  const guests =
    rec.domid !== undefined
      ? [ownerOf(ctx, rec.domid).guest]
      : rec.uuid !== undefined && ctx.domidOf(rec.uuid) !== undefined
        ? [ctx.domidOf(rec.uuid) as number]
        : allCdromGuests(ctx);
  const steps =
    typeof d.output === 'string'
      ? d.output.split('\n').flatMap((line) => {
          const s = parseXlStep(line);
          return s ? [s] : [];
        })
      : [];
  const out: Routed[] = [];
  for (const g of guests) {
    const uuid = ctx.uuidOf(g);
    if (uuid === undefined) continue;
    for (const devid of cdromDevidsOf(ctx, g)) {
      for (const s of steps) out.push(deliver(uuid, devid, { type: 'cd.step', ts: rec.ts, seq: rec.seq, cmd, ...s }));
      out.push(
        deliver(uuid, devid, {
          type: 'cd.result',
          ts: rec.ts,
          seq: rec.seq,
          cmd,
          ok: d.ok === true,
          ...(typeof d.error === 'string' ? { error: d.error } : {}),
        }),
      );
    }
  }
  return out;
}

function routeLogLine(rec: XRecord, ctx: RouteContext): Routed[] {
  const d = rec.data as { file?: unknown; domid?: unknown; line?: unknown };
  if (d.file !== 'xl' || typeof d.line !== 'string') return [];
  const step = parseXlStep(d.line);
  if (!step) return [];
  const domid = step.domid ?? (typeof d.domid === 'number' ? d.domid : rec.domid);
  if (domid === undefined) return [];
  const guest = ownerOf(ctx, domid).guest;
  const uuid = ctx.uuidOf(guest);
  if (uuid === undefined) return [];
  return cdromDevidsOf(ctx, guest).map((devid) =>
    deliver(uuid, devid, { type: 'cd.step', ts: rec.ts, seq: rec.seq, ...step }),
  );
}

function routeQmpReply(rec: XRecord, ctx: RouteContext): Routed[] {
  const d = rec.data as { domid?: unknown; command?: unknown; ok?: unknown; return?: unknown; error?: unknown };
  if (typeof d.command !== 'string' || !QMP_COMMANDS.has(d.command)) return [];
  const domid = typeof d.domid === 'number' ? d.domid : rec.domid;
  if (domid === undefined) return [];
  const guest = ownerOf(ctx, domid).guest;
  const uuid = ctx.uuidOf(guest);
  if (uuid === undefined) return [];
  const err = d.error as { class?: unknown; desc?: unknown } | undefined;
  const error =
    err && typeof err.class === 'string' ? { class: err.class, desc: typeof err.desc === 'string' ? err.desc : '' } : undefined;
  // QEMU names the refused device in its error text; other replies concern the domain's CD-ROMs.
  const named = error ? /'ide-(\d+)'/.exec(error.desc) : null;
  const devids = named ? [Number(named[1])] : cdromDevidsOf(ctx, guest);
  return devids.map((devid) =>
    deliver(uuid, devid, {
      type: 'cd.qmp',
      ts: rec.ts,
      seq: rec.seq,
      command: d.command as string,
      ok: d.ok === true,
      ...(d.return !== undefined ? { ret: d.return } : {}),
      ...(error ? { error } : {}),
    }),
  );
}

function routeQmpEvent(rec: XRecord, ctx: RouteContext): Routed[] {
  const d = rec.data as { domid?: unknown; event?: unknown; data?: Record<string, unknown> };
  if (d.event !== 'DEVICE_TRAY_MOVED' || !d.data) return [];
  const devid = devidOfQmpId(d.data.id) ?? devidOfQmpId(d.data.device);
  if (devid === undefined) return [];
  const domid = typeof d.domid === 'number' ? d.domid : rec.domid;
  if (domid === undefined) return [];
  const uuid = ctx.uuidOf(ownerOf(ctx, domid).guest);
  if (uuid === undefined) return [];
  return [deliver(uuid, devid, { type: 'cd.tray', ts: rec.ts, seq: rec.seq, open: d.data['tray-open'] === true })];
}

/** Pure: the cdrom deliveries one record causes. */
export function routeCdrom(rec: XRecord, ctx: RouteContext): Routed[] {
  switch (rec.type) {
    case 'xs.write': {
      const { path, value } = rec.data as { path: string; value: string };
      if (path.startsWith('/local/domain/')) {
        if (!path.includes('/backend/vbd/') && !path.includes('/backend/qdisk/')) return [];
        return routeBackendWrite(rec, ctx, path, value);
      }
      if (path.startsWith('/libxl/') && path.includes('/device/vbd/')) return routeLibxlWrite(rec, ctx, path, value);
      return [];
    }
    case 'xs.rm': {
      const { path } = rec.data as { path: string };
      if (!path.startsWith('/local/domain/')) return [];
      if (!path.includes('/backend/vbd/') && !path.includes('/backend/qdisk/')) return [];
      return routeRemove(rec, ctx, path);
    }
    case 'cmd.request':
      return routeRequest(rec, ctx);
    case 'cmd.result':
      return routeResult(rec, ctx);
    case 'log.line':
      return routeLogLine(rec, ctx);
    case 'qmp.reply':
      return routeQmpReply(rec, ctx);
    case 'qmp.event':
      return routeQmpEvent(rec, ctx);
    default:
      return [];
  }
}

function nameOf(c: Partial<CdromContext>): string {
  return c.vdev ?? (c.devid !== undefined ? `vbd/${c.devid}` : 'CD-ROM');
}

/** Incidents: a failed media change (`cdrom-failure`) and a tray the guest locked (`cdrom-locked`). */
export function cdromIncident(t: TransitionInfo): IncidentHit | null {
  if (t.from === t.to) return null;
  const c = (t.context ?? {}) as Partial<CdromContext>;
  const start = c.op?.startSeq;
  const range = start !== undefined && start <= t.seq ? { start } : {};
  if (t.to === 'failed') {
    const retries = c.attempts ?? 0;
    return {
      kind: 'cdrom-failure',
      summary: `CD-ROM ${nameOf(c)}: ${c.op?.op ?? 'media change'} failed after ${retries} ${retries === 1 ? 'retry' : 'retries'}: ${c.lastError ?? 'unknown error'}`,
      ...range,
    };
  }
  if (t.to === 'locked')
    return {
      kind: 'cdrom-locked',
      summary: `CD-ROM ${nameOf(c)}: the guest locked the tray, eject refused; force eject offered`,
      ...range,
    };
  return null;
}

export const cdromBinding: MachineBinding = {
  kind: 'cdrom',
  version: '1',
  machine: cdromMachine,
  route: routeCdrom,
  incident: cdromIncident,
};
