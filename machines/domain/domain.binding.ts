/**
 * Records → domain actor events (one actor per uuid: `domain:<uuid>`), and the
 * domain incidents: crash, watchdog, soft-reset, crash-restart.
 *
 * Routing keys by uuid: from `ctx.uuidOf(domid)`, the record's own `uuid`, the
 * value of a `/local/domain/<id>/vm` write, or dominfo's `uuid`. Records whose
 * domain cannot be keyed yet are not routed.
 */
import type { IncidentHit, MachineBinding, RouteContext, Routed, TransitionInfo } from '../host/binding.ts';
import type { XRecord } from '../events/record.ts';
import { domainMachine } from './domain.machine.ts';
import type { DomainContext, DomainEvent, ShutdownRequest } from './domain.types.ts';
import { SHUTDOWN_REQUESTS } from './domain.types.ts';
import { parseXlLogLine } from './xl-log.ts';

const LOCAL = '/local/domain/';
const LIBXL = '/libxl/';
const VM_VALUE = /^\/vm\/([0-9a-fA-F-]{36})$/;

/** Actor id of the domain with this uuid. */
export function domainActorId(uuid: string): string {
  return `domain:${uuid}`;
}

/** Split `/local/domain/<id>/<rest>` into domid and rest ('' for the domain node itself). */
function splitLocal(path: string): { domid: number; rest: string } | undefined {
  const after = path.slice(LOCAL.length);
  const slash = after.indexOf('/');
  const idText = slash < 0 ? after : after.slice(0, slash);
  if (!/^\d+$/.test(idText)) return undefined;
  return { domid: Number(idText), rest: slash < 0 ? '' : after.slice(slash + 1) };
}

function uuidFor(domid: number, rec: XRecord, ctx: RouteContext): string | undefined {
  if (rec.uuid && (rec.domid === undefined || rec.domid === domid)) return rec.uuid;
  const known = ctx.uuidOf(domid);
  if (known) return known;
  const vm = ctx.read(`${LOCAL}${domid}/vm`);
  const m = vm ? VM_VALUE.exec(vm) : null;
  return m ? m[1] : undefined;
}

/** Find a domid by name in the observed tree (xl log lines may carry only the name). */
function domidByName(name: string, ctx: RouteContext): number | undefined {
  for (const id of ctx.children('/local/domain')) {
    if (ctx.read(`${LOCAL}${id}/name`) === name && /^\d+$/.test(id)) return Number(id);
  }
  return undefined;
}

function deliver(uuid: string, event: DomainEvent, input?: Record<string, unknown>): Routed[] {
  const r: Routed = { id: domainActorId(uuid), uuid, event };
  if (input) r.input = input;
  return [r];
}

function isRequest(v: string): v is ShutdownRequest {
  return (SHUTDOWN_REQUESTS as readonly string[]).includes(v);
}

function routeWrite(rec: XRecord, ctx: RouteContext): Routed[] {
  const { path, value } = rec.data as { path: string; value: string };
  const stamp = { ts: rec.ts, seq: rec.seq };
  if (path.startsWith(LIBXL)) {
    const m = /^\/libxl\/(\d+)\/type$/.exec(path);
    if (!m || (value !== 'pv' && value !== 'pvh' && value !== 'hvm')) return [];
    const domid = Number(m[1]);
    const uuid = uuidFor(domid, rec, ctx);
    return uuid ? deliver(uuid, { type: 'domain.type', domid, domainType: value, ...stamp }) : [];
  }
  if (!path.startsWith(LOCAL)) return [];
  const at = splitLocal(path);
  if (!at) return [];
  const { domid, rest } = at;
  switch (rest) {
    case 'vm': {
      const m = VM_VALUE.exec(value);
      if (!m || !m[1]) return [];
      const uuid = m[1];
      const name = ctx.read(`${LOCAL}${domid}/name`);
      return deliver(uuid, { type: 'domain.vm', domid, ...stamp }, { uuid, domid, name });
    }
    case 'name': {
      const uuid = uuidFor(domid, rec, ctx);
      return uuid ? deliver(uuid, { type: 'domain.name', domid, name: value, ...stamp }) : [];
    }
    case 'image/device-model-domid': {
      const uuid = uuidFor(domid, rec, ctx);
      if (!uuid || !/^\d+$/.test(value)) return [];
      return deliver(uuid, { type: 'domain.stubdom', domid, stubdomId: Number(value), ...stamp });
    }
    case 'target': {
      const uuid = uuidFor(domid, rec, ctx);
      if (!uuid || !/^\d+$/.test(value)) return [];
      return deliver(uuid, { type: 'domain.target', domid, targetDomid: Number(value), ...stamp });
    }
    case 'control/shutdown': {
      const uuid = uuidFor(domid, rec, ctx);
      if (!uuid) return [];
      if (value === '') return deliver(uuid, { type: 'domain.shutdown.ack', domid, ...stamp });
      return isRequest(value) ? deliver(uuid, { type: 'domain.shutdown.request', domid, request: value, ...stamp }) : [];
    }
    default:
      return [];
  }
}

function routeLog(rec: XRecord, ctx: RouteContext): Routed[] {
  const data = rec.data as { file?: string; domid?: number; name?: string; line?: string };
  if (data.file !== 'xl' || typeof data.line !== 'string') return [];
  const decision = parseXlLogLine(data.line);
  if (!decision) return [];
  let domid = 'domid' in decision ? decision.domid : (data.domid ?? rec.domid);
  if (domid === undefined && data.name) domid = domidByName(data.name, ctx);
  // The log file is named after the domain, and its lines often arrive after the domain's
  // subtree is gone: the name still says whose they are.
  const uuid = (domid !== undefined ? uuidFor(domid, rec, ctx) : rec.uuid) ?? (data.name ? ctx.uuidOfName(data.name) : undefined);
  if (!uuid) return [];
  return deliver(uuid, { type: 'domain.xl', decision, ts: rec.ts, seq: rec.seq });
}

/** Pure: the domain deliveries one record causes. */
export function routeDomain(rec: XRecord, ctx: RouteContext): Routed[] {
  const stamp = { ts: rec.ts, seq: rec.seq };
  switch (rec.type) {
    case 'xs.write':
      return routeWrite(rec, ctx);
    case 'xs.rm': {
      const { path } = rec.data as { path: string };
      if (!path.startsWith(LOCAL)) return [];
      const at = splitLocal(path);
      if (!at || at.rest !== '') return [];
      const uuid = uuidFor(at.domid, rec, ctx);
      return uuid ? deliver(uuid, { type: 'domain.removed', domid: at.domid, ...stamp }) : [];
    }
    case 'xs.introduce': {
      const { domid } = rec.data as { domid: number };
      const uuid = uuidFor(domid, rec, ctx);
      if (!uuid) return [];
      const name = ctx.read(`${LOCAL}${domid}/name`);
      return deliver(uuid, { type: 'domain.introduce', domid, ...stamp }, { uuid, domid, name });
    }
    case 'xs.release': {
      const { domid } = rec.data as { domid: number };
      const uuid = uuidFor(domid, rec, ctx);
      return uuid ? deliver(uuid, { type: 'domain.release', domid, ...stamp }) : [];
    }
    case 'dominfo': {
      const d = rec.data as unknown as Extract<DomainEvent, { type: 'domain.info' }> & { uuid: string };
      if (typeof d.uuid !== 'string' || typeof d.domid !== 'number') return [];
      const event: DomainEvent = {
        type: 'domain.info',
        domid: d.domid,
        running: !!d.running,
        blocked: !!d.blocked,
        paused: !!d.paused,
        shutdown: !!d.shutdown,
        dying: !!d.dying,
        ...stamp,
      };
      if (d.name !== undefined) event.name = d.name;
      if (d.reason !== undefined) event.reason = d.reason;
      return deliver(d.uuid, event, { uuid: d.uuid, domid: d.domid, name: d.name });
    }
    case 'log.line':
      return routeLog(rec, ctx);
    default:
      return [];
  }
}

function label(c: DomainContext): string {
  return c.name ? `${c.name}` : `domain ${c.uuid}`;
}

function crashSummary(c: DomainContext, reason: 'crash' | 'watchdog'): string {
  const action = c.onActions[reason] ?? c.lastAction;
  const what = reason === 'crash' ? 'crashed' : 'was shut down by its watchdog';
  const then = action ? `on_${reason}=${action}` : `on_${reason} action not yet known`;
  return `${label(c)} (domid ${c.domid}) ${what}; ${then}`;
}

/** xl's on_crash actions that re-create the domain. */
const RESTART_ACTIONS: ReadonlySet<string> = new Set(['restart', 'rename-restart']);

/** Incidents of a domain transition (called by the router after each state change). */
export function domainIncident(t: TransitionInfo): IncidentHit | null {
  const c = t.context as DomainContext;
  if (t.from === t.to) return null;
  if (t.to === 'shutdown.crash' || t.to === 'shutdown.watchdog') {
    const reason = t.to === 'shutdown.crash' ? 'crash' : 'watchdog';
    return { kind: reason, summary: crashSummary(c, reason) };
  }
  // Leaving the crash: xl's action is known by now (it is logged after the shutdown is seen).
  if ((t.from === 'shutdown.crash' || t.from === 'shutdown.watchdog') && t.to !== '-') {
    const reason = t.from === 'shutdown.crash' ? 'crash' : 'watchdog';
    return { kind: reason, summary: crashSummary(c, reason), update: true };
  }
  if (t.from === 'softResetting' && t.to === 'running') {
    return {
      kind: 'soft-reset',
      summary: `${label(c)} (domid ${c.domid}) soft reset #${c.softResetCount}: torn down and re-introduced with the same domid`,
      start: c.lastShutdownSeq ?? t.seq,
    };
  }
  if (t.to === 'running' && c.restartRunningSeq === t.seq && c.restartAfterReason === 'crash') {
    const action = c.onActions.crash ?? c.lastAction;
    // xl restarts only for on_crash=restart or rename-restart: after preserve or destroy, a new domid
    // under the same uuid is a person creating the domain again, not a restart after the crash.
    if (action !== undefined && !RESTART_ACTIONS.has(action)) return null;
    return {
      kind: 'crash-restart',
      summary:
        `${label(c)} crashed as domid ${c.previousDomid} and was restarted as domid ${c.domid}` +
        (action ? ` (on_crash=${action})` : ''),
      start: c.lastShutdownSeq ?? t.seq,
    };
  }
  return null;
}

export const domainBinding: MachineBinding = {
  kind: 'domain',
  version: '1',
  machine: domainMachine,
  route: routeDomain,
  incident: domainIncident,
};
