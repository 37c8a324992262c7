/**
 * From helper reports to observations (DESIGN.md section 4's vocabulary).
 *
 * The observer keeps what the host has seen (xenstore values, introduced
 * domains, the last dominfo of each domain, domain names), so that:
 *  - a watch that fires with nothing new (xenstored fires once when a watch is
 *    set, and may fire spuriously) records nothing;
 *  - a scan after a helper restart records only the differences: changed and
 *    new nodes as `xs.write`, nodes that vanished while the helper was away as
 *    `xs.rm`, domains introduced or released meanwhile; these are the
 *    reconciling records of the gap;
 *  - dominfo, which the helper reports as a whole list, is recorded per domain
 *    and only when that domain's line changed.
 * Its state is derived from the records alone (`applyRecord`), so the host can
 * rebuild it from a snapshot plus the outbox after a restart.
 */
import type { Observation, ShutdownReason } from '../../machines/events/record.ts';
import { SHUTDOWN_REASONS } from '../../machines/events/record.ts';
import { parseXlLogLine } from '../../machines/domain/xl-log.ts';
import { parseXlStep } from '../../machines/cdrom/cdrom.steps.ts';
import { parsePlatformLine } from '../../machines/pvunplug/platform-lines.ts';
import type { DominfoEntry } from '../shared/helper-protocol.std.ts';

type Obs = Observation;

export interface ObserverJson {
  values: [string, string][];
  introduced: number[];
  dominfo: [number, string][];
}

const DOMAIN_RE = /^\/local\/domain\/(\d+)(?:\/|$)/;
const DOMAIN_TOP_RE = /^\/local\/domain\/(\d+)$/;

/** The subtree a path is indexed under: `/local/domain/<id>`, or the first two segments of any other path (`/vm/<uuid>`, `/libxl/<id>`). */
function subtreeOf(path: string): string {
  const parts = path.split('/');
  return parts.slice(0, parts[1] === 'local' && parts[2] === 'domain' ? 4 : 3).join('/');
}
const VM_RE = /^\/vm\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

export class Observer {
  private values = new Map<string, string>();
  /**
   * The paths of `values` by subtree (`/local/domain/<id>`, `/vm/<uuid>`, `/libxl/<id>`, …): a removal
   * or a name lookup looks at one domain's nodes, not at every node of the host (a hundred guests
   * torn down at once would otherwise cost a scan of the whole tree per removed node).
   */
  private bySubtree = new Map<string, Set<string>>();
  private introduced = new Set<number>();
  private dominfo = new Map<number, string>();
  /** Device models' liveness as last recorded (or seen, for a first sighting that answers). */
  private dmAlive = new Map<number, boolean>();
  private scans = new Map<string, Set<string>>();

  constructor(private readonly now: () => number) {}

  // Queries -------------------------------------------------------------------

  read(path: string): string | undefined {
    return this.values.get(path);
  }

  get nodeCount(): number {
    return this.values.size;
  }

  uuidOf(domid: number): string | undefined {
    const v = this.values.get(`/local/domain/${domid}/vm`);
    return v ? VM_RE.exec(v)?.[1] : undefined;
  }

  /** domid of a domain name, from `/local/domain/<id>/name`. */
  domidOfName(name: string): number | undefined {
    for (const top of this.bySubtree.keys()) {
      const m = DOMAIN_TOP_RE.exec(top);
      if (m && this.values.get(`${top}/name`) === name) return Number(m[1]);
    }
    return undefined;
  }

  /** Names of the domains seen, for the log tails. */
  domainNames(): string[] {
    const out = new Set<string>();
    for (const top of this.bySubtree.keys()) {
      const v = DOMAIN_TOP_RE.test(top) ? this.values.get(`${top}/name`) : undefined;
      if (v) out.add(v);
    }
    return [...out].sort();
  }

  // Xenstore --------------------------------------------------------------------

  /** A scan of `root` begins: note what it lists so that what it does not list can be removed at its end. */
  beginScan(root: string): void {
    this.scans.set(root, new Set());
  }

  /**
   * One xs.watch event (scan or live). Guest input limits (rates, sizes, noisy
   * keys) are applied after this, by the host's GuestInputFilter
   * (electron/shared/guest-input.std.ts), so that nothing is limited twice.
   */
  watch(ev: { path: string; value?: string | null; scan?: boolean; error?: string }): Obs[] {
    if (ev.error === 'EILSEQ') {
      // The node holds bytes that are not UTF-8: the helper cannot report them as a string.
      // Say so in history rather than leaving a silent hole.
      const domid = domidOfPath(ev.path);
      const ts = this.now();
      return [this.obs('host', 'dropped', { ...(domid !== undefined ? { domid } : {}), path: ev.path, reason: 'invalid-utf8', count: 1, from: ts, to: ts }, domid)];
    }
    if (ev.error) return []; // a read that failed for another reason than ENOENT: nothing known about the node
    if (ev.scan) {
      for (const [root, seen] of this.scans) if (ev.path === root || ev.path.startsWith(root + '/')) seen.add(ev.path);
    }
    const value = ev.value === null || ev.value === undefined ? null : ev.value;
    return value === null ? this.removed(ev.path) : this.written(ev.path, value);
  }

  /** The scan of `root` ended: nodes not listed are gone (the helper was away when they were removed). */
  endScan(root: string, truncated: boolean): Obs[] {
    const seen = this.scans.get(root);
    this.scans.delete(root);
    if (!seen || truncated) return []; // a truncated scan proves nothing about what it did not list
    const gone: string[] = [];
    for (const p of this.values.keys()) {
      if ((p === root || p.startsWith(root + '/')) && !seen.has(p)) gone.push(p);
    }
    gone.sort();
    const out: Obs[] = [];
    let top: string | undefined;
    for (const p of gone) {
      // One xs.rm for the top of each vanished subtree, as xenstored reports a removal.
      if (top !== undefined && p.startsWith(top + '/')) continue;
      top = p;
      out.push(...this.removed(p));
    }
    return out;
  }

  private written(path: string, value: string): Obs[] {
    if (this.values.get(path) === value) return [];
    this.setValue(path, value);
    return [this.obs('xs', 'xs.write', { path, value }, domidOfPath(path))];
  }

  private removed(path: string): Obs[] {
    return this.removeSubtree(path) ? [this.obs('xs', 'xs.rm', { path }, domidOfPath(path))] : [];
  }

  private setValue(path: string, value: string): void {
    this.values.set(path, value);
    const top = subtreeOf(path);
    let set = this.bySubtree.get(top);
    if (!set) this.bySubtree.set(top, (set = new Set()));
    set.add(path);
  }

  /** Forget `path` and everything below it; whether anything was known. */
  private removeSubtree(path: string): boolean {
    const top = subtreeOf(path);
    const prefix = path + '/';
    let had = false;
    // A path above the subtrees (`/local/domain`, `/vm`) spans several of them.
    const tops = top === path || top.startsWith(prefix) ? [...this.bySubtree.keys()].filter((t) => t === path || t.startsWith(prefix)) : [top];
    for (const t of tops) {
      const set = this.bySubtree.get(t);
      if (!set) continue;
      for (const p of [...set]) {
        if (p !== path && !p.startsWith(prefix) && t !== path && !t.startsWith(prefix)) continue;
        this.values.delete(p);
        set.delete(p);
        had = true;
      }
      if (set.size === 0) this.bySubtree.delete(t);
    }
    return had;
  }

  // Domains ----------------------------------------------------------------------

  introduce(domid: number): Obs[] {
    if (this.introduced.has(domid)) return [];
    this.introduced.add(domid);
    return [this.obs('xs', 'xs.introduce', { domid }, domid)];
  }

  release(domid: number): Obs[] {
    this.dmAlive.delete(domid);
    if (!this.introduced.delete(domid)) return [];
    return [this.obs('xs', 'xs.release', { domid }, domid)];
  }

  /** The full set of introduced domains (xs.watch_domains at start): differences become introduce/release. */
  domains(domids: number[]): Obs[] {
    const now = new Set(domids);
    const out: Obs[] = [];
    for (const d of [...this.introduced].sort((a, b) => a - b)) if (!now.has(d)) out.push(...this.release(d));
    for (const d of [...now].sort((a, b) => a - b)) out.push(...this.introduce(d));
    return out;
  }

  /** A dominfo list from the helper: one observation per domain whose line changed. */
  dominfoList(list: DominfoEntry[]): Obs[] {
    const out: Obs[] = [];
    const present = new Set<number>();
    for (const d of list) {
      present.add(d.domid);
      const uuid = d.uuid ?? this.uuidOf(d.domid);
      if (!uuid) continue; // not yet known: reported again at the next change or poll after /vm is seen
      const reason = (SHUTDOWN_REASONS as readonly string[]).includes(d.reason ?? '') ? (d.reason as ShutdownReason) : undefined;
      const data = {
        domid: d.domid,
        uuid,
        ...(d.name ? { name: d.name } : {}),
        running: d.running,
        blocked: d.blocked,
        paused: d.paused,
        shutdown: d.shutdown,
        dying: d.dying,
        ...(reason && d.shutdown ? { reason } : {}),
      };
      const key = JSON.stringify(data);
      if (this.dominfo.get(d.domid) === key) continue;
      this.dominfo.set(d.domid, key);
      out.push({ ts: this.now(), src: 'dominfo', type: 'dominfo', domid: d.domid, uuid, data });
    }
    for (const id of [...this.dominfo.keys()]) if (!present.has(id)) this.dominfo.delete(id);
    return out;
  }

  /**
   * A device model's QMP socket answers or refuses (the helper's dm.poll, change-only, with a
   * baseline on first sight). Recorded: a device model first seen gone, and every change after.
   * A refusal while the domain is shutting down or dying is its destruction, not a death: not recorded.
   */
  dmStatus(ev: { domid: number; alive: boolean; error?: string }): Obs[] {
    const prev = this.dmAlive.get(ev.domid);
    this.dmAlive.set(ev.domid, ev.alive);
    if (prev === ev.alive || (prev === undefined && ev.alive)) return [];
    if (!ev.alive && this.endingDomain(ev.domid)) return [];
    const uuid = this.uuidOf(ev.domid);
    return [{ ts: this.now(), src: 'helper', type: 'dm.status', domid: ev.domid, ...(uuid ? { uuid } : {}), data: { domid: ev.domid, alive: ev.alive, ...(ev.error ? { error: ev.error } : {}) } }];
  }

  private endingDomain(domid: number): boolean {
    const line = this.dominfo.get(domid);
    if (!line) return !this.introduced.has(domid);
    const d = JSON.parse(line) as { shutdown?: boolean; dying?: boolean };
    return d.shutdown === true || d.dying === true;
  }

  /** Forget the dominfo lines, so the next list is recorded whole (after a gap). */
  forgetDominfo(): void {
    this.dominfo.clear();
  }

  // Logs -------------------------------------------------------------------------

  /** A log line the machines' parsers recognise, or nothing (DESIGN.md: only such lines are recorded). */
  logLine(ev: { kind: 'xl' | 'qemu-dm' | 'hotplug'; name?: string; line: string }): Obs[] {
    const recognised =
      ev.kind === 'hotplug' ? ev.line.trim() !== '' : ev.kind === 'xl' ? parseXlLogLine(ev.line) !== null || parseXlStep(ev.line) !== undefined : parsePlatformLine(ev.line) !== undefined;
    if (!recognised) return [];
    // A line that names its domain ("Domain 165 has shut down…") belongs to that domid, even when it
    // arrives after the name has passed to a new domain (xl's monitor logs into the name's file).
    const said = ev.kind === 'xl' ? parseXlLogLine(ev.line) : null;
    let domid = said && 'domid' in said ? said.domid : ev.name !== undefined ? this.domidOfName(ev.name) : undefined;
    // A stub domain's device model log is named after its guest with "-dm".
    if (domid === undefined && ev.name?.endsWith('-dm')) domid = this.domidOfName(ev.name.slice(0, -3));
    const data = { file: ev.kind, ...(domid !== undefined ? { domid } : {}), ...(ev.name ? { name: ev.name } : {}), line: ev.line };
    return [this.obs('log', 'log.line', data, domid)];
  }

  // State --------------------------------------------------------------------------

  /** Keep the observer in step with a record sealed elsewhere (outbox replay after a restart). */
  applyRecord(rec: { type: string; data: Record<string, unknown> }): void {
    const d = rec.data as any;
    switch (rec.type) {
      case 'xs.write':
        this.setValue(d.path, d.value);
        break;
      case 'xs.rm':
        this.removed(d.path);
        break;
      case 'xs.introduce':
        this.introduced.add(d.domid);
        break;
      case 'xs.release':
        this.introduced.delete(d.domid);
        break;
      case 'dominfo':
        this.dominfo.set(d.domid, JSON.stringify(d));
        break;
      case 'dm.status':
        this.dmAlive.set(d.domid, d.alive);
        break;
      default:
        break;
    }
  }

  toJSON(): ObserverJson {
    return { values: [...this.values], introduced: [...this.introduced], dominfo: [...this.dominfo] };
  }

  static fromJSON(j: ObserverJson, now: () => number): Observer {
    const o = new Observer(now);
    for (const [p, v] of j.values) o.setValue(p, v);
    o.introduced = new Set(j.introduced);
    o.dominfo = new Map(j.dominfo);
    return o;
  }

  private obs(src: Obs['src'], type: string, data: Record<string, unknown>, domid?: number): Obs {
    const uuid = domid !== undefined ? this.uuidOf(domid) : undefined;
    return { ts: this.now(), src, type, ...(domid !== undefined ? { domid } : {}), ...(uuid ? { uuid } : {}), data };
  }
}

function domidOfPath(path: string): number | undefined {
  const m = DOMAIN_RE.exec(path);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n < 0x7ff0 ? n : undefined;
}
