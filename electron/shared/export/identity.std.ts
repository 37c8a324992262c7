/**
 * What a row of an export says about a record: which domain (by uuid, learned
 * as history streams past: a reboot gives a new domid, history is keyed by
 * uuid), which device, and a one-line summary. Every value here may come from
 * a guest (xenstore values under a domain's own tree, log lines) and is
 * untrusted: the CSV and HTML writers escape it, this module only shortens it.
 */
import type { XRecord } from '../../../machines/events/record.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LOCAL_RE = /^\/local\/domain\/(\d+)(?:\/|$)/;
const LIBXL_RE = /^\/libxl\/(\d+)(?:\/|$)/;
const BACKEND_RE = /^\/local\/domain\/\d+\/backend\/([^/]+)\/(\d+)\/([^/]+)/;
const FRONTEND_RE = /^\/local\/domain\/\d+\/device\/([^/]+)\/([^/]+)/;

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/** Learns domid ↔ uuid and name ↔ uuid from records in seq order. */
export class IdentityTracker {
  private domidUuid = new Map<number, string>();
  private domidName = new Map<number, string>();
  private nameUuid = new Map<string, string>();

  observe(rec: XRecord): void {
    if (rec.domid !== undefined && rec.uuid) this.link(rec.domid, rec.uuid);
    const d = rec.data as Record<string, unknown>;
    if (rec.type === 'dominfo' && typeof d.domid === 'number' && typeof d.uuid === 'string') {
      this.link(d.domid, d.uuid);
      if (typeof d.name === 'string') this.name(d.domid, d.name);
    } else if (rec.type === 'xs.write' && typeof d.path === 'string' && typeof d.value === 'string') {
      const m = /^\/local\/domain\/(\d+)\/(vm|name)$/.exec(d.path);
      if (m) {
        const domid = Number(m[1]);
        if (m[2] === 'vm') {
          const u = /^\/vm\/([0-9a-f-]{36})$/.exec(d.value);
          if (u && isUuid(u[1])) this.link(domid, u[1]);
        } else this.name(domid, d.value);
      }
    }
  }

  /** The domid a record is about: its own, the data's, or the one in its xenstore path. */
  domidOf(rec: XRecord): number | undefined {
    if (rec.domid !== undefined) return rec.domid;
    const d = rec.data as Record<string, unknown>;
    if (typeof d.domid === 'number') return d.domid;
    if (typeof d.path === 'string') {
      const b = BACKEND_RE.exec(d.path);
      if (b) return Number(b[2]);
      const m = LOCAL_RE.exec(d.path) ?? LIBXL_RE.exec(d.path);
      if (m) return Number(m[1]);
    }
    return undefined;
  }

  /** uuid of the domain a record is about, when known. */
  uuidOf(rec: XRecord): string | undefined {
    if (rec.uuid) return rec.uuid;
    const id = this.domidOf(rec);
    return id === undefined ? undefined : this.domidUuid.get(id);
  }

  /** The domain column: uuid when known, else `domid N`, else empty. */
  domainLabel(rec: XRecord): string {
    const u = this.uuidOf(rec);
    if (u) return u;
    const id = this.domidOf(rec);
    return id === undefined ? '' : `domid ${id}`;
  }

  /** uuid for a name as seen so far. */
  uuidOfName(name: string): string | undefined {
    return this.nameUuid.get(name);
  }

  nameOf(uuid: string): string | undefined {
    for (const [n, u] of this.nameUuid) if (u === uuid) return n;
    return undefined;
  }

  private link(domid: number, uuid: string): void {
    this.domidUuid.set(domid, uuid);
    const n = this.domidName.get(domid);
    if (n) this.nameUuid.set(n, uuid);
  }
  private name(domid: number, name: string): void {
    this.domidName.set(domid, name);
    const u = this.domidUuid.get(domid);
    if (u) this.nameUuid.set(name, u);
  }
}

/** The device a record is about (`vbd/51712`), when it names one. */
export function deviceOf(rec: XRecord): string {
  const d = rec.data as Record<string, unknown>;
  if (typeof d.path === 'string') {
    const b = BACKEND_RE.exec(d.path);
    if (b) return `${b[1]}/${b[3]}`;
    const f = FRONTEND_RE.exec(d.path);
    if (f) return `${f[1]}/${f[2]}`;
  }
  if (rec.type === 'machine.transition' && typeof d.actor === 'string') {
    const parts = d.actor.split(':');
    if (parts.length > 2) return parts.slice(2).join(':');
  }
  if (rec.type === 'qmp.event' && d.data && typeof d.data === 'object') {
    const dev = (d.data as Record<string, unknown>).device ?? (d.data as Record<string, unknown>)['id'];
    if (typeof dev === 'string') return dev;
  }
  return '';
}

const MAX_SUMMARY = 200;

function clip(s: string): string {
  return s.length > MAX_SUMMARY ? s.slice(0, MAX_SUMMARY - 1) + '…' : s;
}

function short(h: unknown): string {
  return typeof h === 'string' ? h.slice(0, 12) : '?';
}

/** One line saying what a record is, for CSV and HTML rows. */
export function summaryOf(rec: XRecord): string {
  const d = rec.data as Record<string, any>;
  switch (rec.type) {
    case 'xs.write':
      return clip(`${d.path} = ${JSON.stringify(d.value)}`);
    case 'xs.rm':
      return clip(`${d.path} removed`);
    case 'xs.introduce':
      return `domain ${d.domid} introduced`;
    case 'xs.release':
      return `domain ${d.domid} released`;
    case 'dominfo': {
      const flags = ['running', 'blocked', 'paused', 'shutdown', 'dying'].filter((k) => d[k] === true);
      return clip(`domain ${d.domid}${d.name ? ` (${d.name})` : ''}: ${flags.join(', ') || 'no flags'}${d.reason ? `, reason ${d.reason}` : ''}`);
    }
    case 'qmp.event':
      return clip(`QMP ${d.event}${d.data ? ' ' + JSON.stringify(d.data) : ''}`);
    case 'qmp.reply':
      return clip(`QMP ${d.command}: ${d.ok ? 'ok' : `error ${d.error?.class ?? ''} ${d.error?.desc ?? ''}`.trim()}`);
    case 'log.line':
      return clip(`${d.file}: ${d.line}`);
    case 'cmd.request':
      return clip(`${d.user} asked ${d.op} ${JSON.stringify(d.args ?? {})}`);
    case 'cmd.result':
      return clip(`${d.cmd}: ${d.ok ? 'ok' : `failed${d.error ? ': ' + d.error : ''}`}`);
    case 'helper.status':
      return `helper ${d.state}${d.gap ? ' (observations may be missing)' : ''}`;
    case 'machine.transition':
      return clip(`${d.actor}: ${d.from} → ${d.to}`);
    case 'host.tick':
      return 'clock';
    case 'dropped':
      return clip(`dropped ${d.count} (${d.reason})${d.path ? ' ' + d.path : ''}`);
    case 'store.prune':
      return `pruned ${d.count} records before seq ${d.before} (fingerprint ${short(d.first)}…|${short(d.last)}…|${d.count})`;
    case 'store.redact':
      return clip(`redacted ${d.field} of seq ${d.seq}${d.reason ? `: ${d.reason}` : ''}`);
    case 'sim.step':
      return clip(`simulator step ${JSON.stringify(d.step)}`);
    case 'recording.status':
      return clip(`recording ${d.state} (${d.reason})${d.gap ? ' (observations may be missing)' : ''}${d.detail ? ': ' + d.detail : ''}`);
    case 'dm.status':
      return d.alive ? `device model of domain ${d.domid} answers again` : `device model of domain ${d.domid} is gone${d.error ? ` (${d.error})` : ''}`;
    case 'host.clock':
      return `wall clock went back ${d.by} ms; timestamps from here are wall + ${d.offset} ms`;
    default:
      return clip(`${rec.type} ${JSON.stringify(d)}`);
  }
}
