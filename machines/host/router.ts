/**
 * The host router: turns records into machine events.
 *
 * For each record, in seq order:
 *  1. `machine.transition` records are derived history: they are skipped here
 *     (replay compares them with what it produces, see replay.ts).
 *  2. The record clock advances to the record's ts; every actor whose
 *     `context.deadline` has passed gets `clock.tick` (in deadline order) first.
 *  3. Identity is learned (domid ↔ uuid from the record, dominfo, `/local/domain/<id>/vm`).
 *  4. Each binding routes the record to zero or more actors, which are created
 *     from the delivery's input when they do not exist yet.
 *  5. The xenstore mirror is updated (routes see the tree as it was before).
 * Every change of an actor's state value is returned as a transition caused by
 * the record's seq, and the binding is asked whether it is an incident.
 *
 * The router is a plain deterministic class rather than an XState parent
 * machine: it keeps the child actors (XState, `send`, which the performance
 * anchors show is the fast path) in a map keyed by id, and its own state is
 * three maps and a tree, all of it serialisable for snapshots.
 */
import { createActor, type AnyActorRef, type Snapshot } from 'xstate';
import type { XRecord } from '../events/record.ts';
import { Mirror, type MirrorJson } from './mirror.ts';
import { stateString, type DomainType, type IncidentHit, type MachineBinding, type RouteContext, type Routed } from './binding.ts';

export interface Transition {
  actor: string;
  from: string;
  to: string;
  cause: number;
}

export interface Incident {
  kind: string;
  actor: string;
  uuid: string;
  /** First and last seq of the range a person should replay. */
  from: number;
  to: number;
  ts: number;
  summary: string;
}

/** A machine that threw, or asked for something impossible: recorded, never fatal. */
export interface RouterFault {
  seq: number;
  actor: string;
  message: string;
}

export interface ActorView {
  id: string;
  kind: string;
  uuid: string;
  state: string;
  context: unknown;
  /** The actor reached a final state; this is its last state. */
  retired?: boolean;
}

export interface HostView {
  seq: number;
  ts: number;
  actors: ActorView[];
  incidents: Incident[];
  faults: RouterFault[];
}

interface Live {
  id: string;
  kind: string;
  uuid: string;
  binding: MachineBinding;
  ref: AnyActorRef;
  snap: Snapshot<unknown>;
  state: string;
  deadline: number | undefined;
}

export interface RouterSnapshot {
  v: 1;
  seq: number;
  clock: number;
  ids: [number, string][];
  names?: [string, string][];
  mirror: MirrorJson;
  actors: { id: string; kind: string; uuid: string; state: string; snapshot: unknown }[];
  retired: ActorView[];
  incidents: Incident[];
  faults: RouterFault[];
  helperDown: number | null;
  gapIncident: number | null;
}

const NO_TRANSITIONS: Transition[] = [];

export class HostRouter implements RouteContext {
  private readonly bindings: MachineBinding[];
  private readonly byKind = new Map<string, MachineBinding>();
  private actors = new Map<string, Live>();
  private retired = new Map<string, ActorView>();
  private waiting = new Set<string>();
  private domidToUuid = new Map<number, string>();
  private uuidToDomid = new Map<string, number>();
  private nameToUuid = new Map<string, string>();
  private mirror = new Mirror();
  private helperDown: number | null = null;
  /** Index in `incidents` of the helper gap a following `resynced` extends. */
  private gapIncident: number | null = null;
  /** seq of the last record applied. */
  seq = 0;
  /** The record clock (ms): the greatest ts seen. */
  clock = 0;
  incidents: Incident[] = [];
  faults: RouterFault[] = [];

  constructor(bindings: MachineBinding[]) {
    this.bindings = bindings;
    for (const b of bindings) this.byKind.set(b.kind, b);
  }

  /** Apply one record; returns the transitions it caused (in order). */
  apply(rec: XRecord): Transition[] {
    this.seq = rec.seq;
    if (rec.type === 'machine.transition') return NO_TRANSITIONS;
    const out: Transition[] = [];
    if (rec.ts > this.clock) {
      if (this.waiting.size) this.advance(rec.ts, rec.seq, out);
      this.clock = rec.ts;
    }
    this.learnIdentity(rec);
    for (const b of this.bindings) {
      const ds = b.route(rec, this);
      for (let i = 0; i < ds.length; i++) this.deliver(b, ds[i], rec, out);
    }
    if (rec.type === 'xs.write') this.mirror.write((rec.data as { path: string }).path, (rec.data as { value: string }).value);
    else if (rec.type === 'xs.rm') this.mirror.rm((rec.data as { path: string }).path);
    else if (rec.type === 'helper.status') this.noteHelper(rec);
    return out;
  }

  // RouteContext ------------------------------------------------------------

  uuidOf(domid: number): string | undefined {
    return this.domidToUuid.get(domid);
  }
  domidOf(uuid: string): number | undefined {
    return this.uuidToDomid.get(uuid);
  }
  uuidOfName(name: string): string | undefined {
    return this.nameToUuid.get(name);
  }
  read(path: string): string | undefined {
    return this.mirror.read(path);
  }
  children(path: string): string[] {
    return this.mirror.children(path);
  }
  domainType(domid: number): DomainType | undefined {
    const t = this.mirror.read(`/libxl/${domid}/type`);
    return t === 'pv' || t === 'pvh' || t === 'hvm' ? t : undefined;
  }
  targetOf(domid: number): number | undefined {
    return toDomid(this.mirror.read(`/local/domain/${domid}/target`));
  }
  stubdomOf(domid: number): number | undefined {
    return toDomid(this.mirror.read(`/local/domain/${domid}/image/device-model-domid`));
  }
  has(actorId: string): boolean {
    return this.actors.has(actorId);
  }

  // Views -------------------------------------------------------------------

  /** The state of every actor (live and retired), sorted by id, with incidents so far. */
  view(): HostView {
    const actors: ActorView[] = [];
    for (const a of this.actors.values()) {
      actors.push({ id: a.id, kind: a.kind, uuid: a.uuid, state: a.state, context: (a.snap as { context?: unknown }).context });
    }
    for (const r of this.retired.values()) actors.push(r);
    actors.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    return { seq: this.seq, ts: this.clock, actors, incidents: [...this.incidents], faults: [...this.faults] };
  }

  actorState(id: string): string | undefined {
    return this.actors.get(id)?.state ?? this.retired.get(id)?.state;
  }

  get actorCount(): number {
    return this.actors.size;
  }

  // Snapshots ---------------------------------------------------------------

  snapshot(): RouterSnapshot {
    return clone({
      v: 1,
      seq: this.seq,
      clock: this.clock,
      ids: [...this.domidToUuid],
      names: [...this.nameToUuid],
      mirror: this.mirror.toJSON(),
      actors: [...this.actors.values()].map((a) => ({ id: a.id, kind: a.kind, uuid: a.uuid, state: a.state, snapshot: a.ref.getPersistedSnapshot() })),
      retired: [...this.retired.values()],
      incidents: this.incidents,
      faults: this.faults,
      helperDown: this.helperDown,
      gapIncident: this.gapIncident,
    });
  }

  static restore(bindings: MachineBinding[], snap: RouterSnapshot): HostRouter {
    const s = clone(snap);
    const r = new HostRouter(bindings);
    r.seq = s.seq;
    r.clock = s.clock;
    for (const [d, u] of s.ids) r.learn(d, u);
    for (const [n, u] of s.names ?? []) r.nameToUuid.set(n, u);
    r.mirror = Mirror.fromJSON(s.mirror);
    for (const a of s.actors) {
      const b = r.byKind.get(a.kind);
      if (!b) throw new Error(`snapshot names machine kind "${a.kind}" that this Xendeck does not have`);
      const ref = createActor(b.machine, { snapshot: a.snapshot as Snapshot<unknown> });
      r.watchErrors(ref, a.id);
      ref.start();
      const snapNow = ref.getSnapshot();
      const live: Live = { id: a.id, kind: a.kind, uuid: a.uuid, binding: b, ref, snap: snapNow, state: a.state, deadline: deadlineOf(snapNow) };
      r.actors.set(a.id, live);
      if (live.deadline !== undefined) r.waiting.add(a.id);
    }
    for (const v of s.retired) r.retired.set(v.id, v);
    r.incidents = s.incidents;
    r.faults = s.faults;
    r.helperDown = s.helperDown;
    r.gapIncident = s.gapIncident ?? null;
    return r;
  }

  // Internals ---------------------------------------------------------------

  private learn(domid: number, uuid: string): void {
    const old = this.domidToUuid.get(domid);
    if (old === uuid) return;
    this.domidToUuid.set(domid, uuid);
    this.uuidToDomid.set(uuid, domid);
  }

  private learnIdentity(rec: XRecord): void {
    if (rec.domid !== undefined && rec.uuid !== undefined) this.learn(rec.domid, rec.uuid);
    if (rec.type === 'dominfo') {
      const d = rec.data as { domid?: unknown; uuid?: unknown; name?: unknown };
      if (typeof d.domid === 'number' && typeof d.uuid === 'string') this.learn(d.domid, d.uuid);
      if (typeof d.name === 'string' && typeof d.uuid === 'string') this.nameToUuid.set(d.name, d.uuid);
    } else if (rec.type === 'xs.write') {
      const d = rec.data as { path: string; value: string };
      if (d.path.endsWith('/name')) this.learnName(d.path, d.value);
      if (d.path.endsWith('/vm') && d.path.startsWith('/local/domain/')) {
        const m = /^\/local\/domain\/(\d+)\/vm$/.exec(d.path);
        const u = /^\/vm\/([0-9a-f-]{36})$/.exec(d.value);
        if (m && u) this.learn(Number(m[1]), u[1]);
      }
    }
  }

  /** `/local/domain/<id>/name` (once the domid's uuid is known) and `/vm/<uuid>/name`. */
  private learnName(path: string, name: string): void {
    let m = /^\/local\/domain\/(\d+)\/name$/.exec(path);
    if (m) {
      const u = this.domidToUuid.get(Number(m[1]));
      if (u) this.nameToUuid.set(name, u);
      return;
    }
    m = /^\/vm\/([0-9a-f-]{36})\/name$/.exec(path);
    if (m) this.nameToUuid.set(name, m[1]);
  }

  private deliver(b: MachineBinding, d: Routed, rec: XRecord, out: Transition[]): void {
    let a = this.actors.get(d.id);
    if (!a) {
      if (!d.input) return;
      a = this.spawn(b, d, rec, out);
      if (!a) return;
    }
    const event = { ...d.event, ts: d.event.ts ?? rec.ts, seq: rec.seq };
    this.send(a, event, rec.seq, rec.ts, out);
  }

  private spawn(b: MachineBinding, d: Routed, rec: XRecord, out: Transition[]): Live | undefined {
    let ref: AnyActorRef;
    try {
      ref = createActor(b.machine, { input: d.input });
      this.watchErrors(ref, d.id);
      ref.start();
    } catch (e) {
      this.fault(rec.seq, d.id, `could not start: ${(e as Error).message}`);
      return undefined;
    }
    const snap = ref.getSnapshot();
    const a: Live = { id: d.id, kind: b.kind, uuid: d.uuid, binding: b, ref, snap, state: stateString(snap.value), deadline: deadlineOf(snap) };
    this.actors.set(d.id, a);
    this.retired.delete(d.id);
    if (a.deadline !== undefined) this.waiting.add(a.id);
    out.push({ actor: a.id, from: '-', to: a.state, cause: rec.seq });
    this.checkIncident(a, '-', rec.seq, rec.ts);
    return a;
  }

  private send(a: Live, event: { type: string; ts: number; seq: number }, seq: number, ts: number, out: Transition[]): void {
    a.ref.send(event);
    const snap = a.ref.getSnapshot();
    if (snap === a.snap) return;
    a.snap = snap;
    if (snap.status === 'error') {
      // The error observer has recorded the fault; keep the last good state.
      this.retire(a);
      return;
    }
    const s = stateString(snap.value);
    if (s !== a.state) {
      const from = a.state;
      a.state = s;
      out.push({ actor: a.id, from, to: s, cause: seq });
      this.checkIncident(a, from, seq, ts);
    }
    const dl = deadlineOf(snap);
    if (dl !== a.deadline) {
      a.deadline = dl;
      if (dl === undefined) this.waiting.delete(a.id);
      else this.waiting.add(a.id);
    }
    if (snap.status === 'done') this.retire(a);
  }

  /** Fire due deadlines, earliest first, up to `to` (ms). */
  private advance(to: number, seq: number, out: Transition[]): void {
    for (let guard = 0; guard < 100_000; guard++) {
      let next: Live | undefined;
      for (const id of this.waiting) {
        const a = this.actors.get(id);
        if (!a || a.deadline === undefined) {
          this.waiting.delete(id);
          continue;
        }
        if (a.deadline <= to && (!next || a.deadline < next.deadline! || (a.deadline === next.deadline && a.id < next.id))) next = a;
      }
      if (!next) return;
      const at = next.deadline!;
      this.send(next, { type: 'clock.tick', ts: at, seq }, seq, at, out);
      if (next.deadline !== undefined && next.deadline <= at) {
        // A machine that keeps a deadline it has already reached would spin: drop it and say so.
        this.fault(seq, next.id, `deadline ${next.deadline} not cleared by clock.tick at ${at}`);
        next.deadline = undefined;
        this.waiting.delete(next.id);
      }
    }
  }

  private retire(a: Live): void {
    this.actors.delete(a.id);
    this.waiting.delete(a.id);
    this.retired.set(a.id, { id: a.id, kind: a.kind, uuid: a.uuid, state: a.state, context: (a.snap as { context?: unknown }).context, retired: true });
    a.ref.stop();
  }

  private checkIncident(a: Live, from: string, seq: number, ts: number): void {
    const fn = a.binding.incident;
    if (!fn) return;
    let hit: IncidentHit | null;
    try {
      hit = fn({ actor: a.id, from, to: a.state, seq, ts, context: (a.snap as { context?: unknown }).context });
    } catch (e) {
      this.fault(seq, a.id, `incident rule failed: ${(e as Error).message}`);
      return;
    }
    if (!hit) return;
    if (hit.update) {
      for (let i = this.incidents.length - 1; i >= 0; i--) {
        const inc = this.incidents[i];
        if (inc.actor !== a.id || inc.kind !== hit.kind) continue;
        inc.summary = hit.summary;
        inc.to = Math.max(inc.to, seq);
        return;
      }
      return;
    }
    this.incidents.push({ kind: hit.kind, actor: a.id, uuid: a.uuid, from: hit.start ?? seq, to: seq, ts, summary: hit.summary });
  }

  /**
   * Helper outages: `down` opens a gap; the first `up`/`resynced` carrying
   * `gap: true` closes it as a `helper-gap` incident, and a `resynced` that
   * follows extends that incident to the end of the re-scan.
   */
  private noteHelper(rec: XRecord): void {
    const d = rec.data as { state?: string; gap?: boolean };
    if (d.state === 'down' || d.state === 'failed') {
      if (this.helperDown === null) this.helperDown = rec.seq;
      this.gapIncident = null;
      if (d.state === 'failed') {
        this.incidents.push({ kind: 'helper-failed', actor: 'helper', uuid: '', from: this.helperDown, to: rec.seq, ts: rec.ts, summary: 'the privileged helper kept failing and was given up: nothing is observed until it is restarted' });
      }
      return;
    }
    if (!d.gap) {
      this.helperDown = null;
      return;
    }
    const open = this.gapIncident !== null ? this.incidents[this.gapIncident] : undefined;
    if (open && this.helperDown === null) {
      open.to = rec.seq;
      open.summary = gapSummary(open.from, rec.seq, d.state ?? 'up');
      return;
    }
    const from = this.helperDown ?? rec.seq;
    this.gapIncident = this.incidents.length;
    this.incidents.push({ kind: 'helper-gap', actor: 'helper', uuid: '', from, to: rec.seq, ts: rec.ts, summary: gapSummary(from, rec.seq, d.state ?? 'up') });
    this.helperDown = null;
  }

  private fault(seq: number, actor: string, message: string): void {
    this.faults.push({ seq, actor, message });
  }

  private watchErrors(ref: AnyActorRef, id: string): void {
    // Without an error observer XState rethrows a machine's error asynchronously; the router records it instead.
    ref.subscribe({ error: (e: unknown) => this.fault(this.seq, id, String(e)) });
  }
}

function gapSummary(from: number, to: number, state: string): string {
  return `the helper was away: observations may be missing between seq ${from} and ${to} (helper ${state})`;
}

function deadlineOf(snap: Snapshot<unknown>): number | undefined {
  const c = (snap as { context?: { deadline?: unknown } }).context;
  const d = c?.deadline;
  return typeof d === 'number' && Number.isFinite(d) ? d : undefined;
}

function toDomid(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,5}$/.test(v)) return undefined;
  return Number(v);
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
