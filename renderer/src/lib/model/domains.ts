/**
 * The overview's rows and the detail's groups, derived from a HostView (live,
 * or the replay's state at the cursor) and the domain facts. Pure, so the same
 * derivation serves live and history, and tests need no DOM.
 */
import type { ActorView, HostView, Incident } from '../../../../machines/host/router.ts';
import type { DomainContext } from '../../../../machines/domain/domain.types.ts';
import type { DomainFacts } from './host-facts.ts';

export interface DomainRow {
  uuid: string;
  name: string;
  domid: number | undefined;
  type: string;
  /** Machine state value, e.g. `running`, `shutdown.crash`. */
  state: string;
  /** Top-level state (`shutdown` for `shutdown.crash`). */
  phase: string;
  /** The shutdown reason shown with the state (current one, else the last one seen). */
  reason: string | undefined;
  /** For a guest: its stub domain id. */
  stubdomId: number | undefined;
  /** For a stub domain: the domid it serves. */
  stubFor: number | undefined;
  memoryKb: number | undefined;
  vcpus: number | undefined;
  /** ms since the current instance was introduced, at `now`; undefined when not up. */
  uptimeMs: number | undefined;
  /** False when the domain was already up when the recording first saw it: uptime is at least `uptimeMs`. */
  uptimeExact: boolean;
  incidents: Incident[];
  restarts: number;
  softResets: number;
}

export type SortKey = 'name' | 'domid' | 'type' | 'state' | 'uptime' | 'vcpus' | 'memory' | 'incidents';
export interface SortOrder {
  key: SortKey;
  dir: 'asc' | 'desc';
}

const UP_PHASES = new Set(['running', 'paused', 'shuttingDown', 'softResetting']);

export function domainRows(view: HostView, facts: (domid: number | undefined) => DomainFacts, now: number): DomainRow[] {
  const rows: DomainRow[] = [];
  for (const a of view.actors) {
    if (a.kind !== 'domain') continue;
    const c = (a.context ?? {}) as Partial<DomainContext>;
    const f = facts(c.domid);
    const phase = a.state.split('.')[0];
    const current = phase === 'shutdown' ? a.state.slice('shutdown.'.length) : undefined;
    rows.push({
      uuid: a.uuid,
      name: c.name ?? (c.domid !== undefined ? `domid ${c.domid}` : a.uuid.slice(0, 8)),
      domid: c.domid,
      type: c.type ?? '—',
      state: a.state,
      phase,
      reason: current ?? c.lastShutdownReason,
      stubdomId: c.stubdomId,
      stubFor: c.targetDomid,
      memoryKb: f.memoryKb,
      vcpus: f.vcpus,
      uptimeMs: UP_PHASES.has(phase) && f.since !== undefined ? Math.max(0, now - f.since) : undefined,
      uptimeExact: f.sinceExact ?? false,
      incidents: view.incidents.filter((i) => i.uuid === a.uuid),
      restarts: c.restartCount ?? 0,
      softResets: c.softResetCount ?? 0,
    });
  }
  return rows;
}

/** Free-text filter over name, domid, uuid, type and state ("crash", "hvm", "5"). */
export function filterRows(rows: DomainRow[], text: string): DomainRow[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return rows;
  return rows.filter((r) => {
    const hay = `${r.name} ${r.domid ?? ''} ${r.uuid} ${r.type} ${r.state} ${r.reason ?? ''} ${r.stubFor !== undefined ? 'stubdom' : ''} ${r.incidents.map((i) => i.kind).join(' ')}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export function sortRows(rows: DomainRow[], order: SortOrder): DomainRow[] {
  const k = (r: DomainRow): string | number => {
    switch (order.key) {
      case 'name':
        return r.name.toLowerCase();
      case 'domid':
        return r.domid ?? -1;
      case 'type':
        return r.type;
      case 'state':
        return r.state;
      case 'uptime':
        return r.uptimeMs ?? -1;
      case 'vcpus':
        return r.vcpus ?? -1;
      case 'memory':
        return r.memoryKb ?? -1;
      case 'incidents':
        return r.incidents.length;
    }
  };
  const sign = order.dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = k(a);
    const y = k(b);
    if (x < y) return -sign;
    if (x > y) return sign;
    return a.name.localeCompare(b.name);
  });
}

/** A domain's actors, by kind, for the detail view. */
export interface DomainActors {
  domain: ActorView | undefined;
  xenbus: ActorView[];
  cdrom: ActorView[];
  ninepfs: ActorView[];
  pvUnplug: ActorView | undefined;
  ioreq: ActorView | undefined;
  other: ActorView[];
}

export function actorsOf(view: HostView, uuid: string): DomainActors {
  const out: DomainActors = { domain: undefined, xenbus: [], cdrom: [], ninepfs: [], pvUnplug: undefined, ioreq: undefined, other: [] };
  for (const a of view.actors) {
    if (a.uuid !== uuid) continue;
    switch (a.kind) {
      case 'domain':
        out.domain = a;
        break;
      case 'xenbus':
        out.xenbus.push(a);
        break;
      case 'cdrom':
        out.cdrom.push(a);
        break;
      case 'ninepfs':
        out.ninepfs.push(a);
        break;
      case 'pvUnplug':
        out.pvUnplug = a;
        break;
      case 'ioreq':
        out.ioreq = a;
        break;
      default:
        out.other.push(a);
    }
  }
  return out;
}

/** Human label of a state value: `shutdown.crash` → `shut down (crash)`. */
export function stateLabel(state: string): string {
  if (state.startsWith('shutdown.')) return `shut down (${state.slice(9).replace('_', ' ')})`;
  switch (state) {
    case 'shuttingDown':
      return 'shutting down';
    case 'softResetting':
      return 'soft resetting';
    default:
      return state;
  }
}

/** Which actions make sense in a state, and which need confirmation. */
export type DomainAction = 'shutdown' | 'reboot' | 'pause' | 'unpause' | 'destroy';
export const DESTRUCTIVE: ReadonlySet<DomainAction> = new Set(['shutdown', 'reboot', 'destroy']);

export function actionsFor(phase: string): DomainAction[] {
  switch (phase) {
    case 'running':
      return ['shutdown', 'reboot', 'pause', 'destroy'];
    case 'paused':
      return ['unpause', 'shutdown', 'destroy'];
    case 'shuttingDown':
    case 'softResetting':
    case 'creating':
    case 'shutdown':
      return ['destroy'];
    default:
      return [];
  }
}
