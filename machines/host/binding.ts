/**
 * The seam between the host router and each lifecycle machine.
 *
 * Every machine folder exports one `MachineBinding`: its XState machine, and a
 * pure `route` function that says which of its actors a record concerns and
 * what event that actor gets. The router owns the actors (creation, the record
 * clock, snapshots, transitions, incidents); a binding owns only the meaning of
 * records for its machine. Routes must be pure functions of (record, context).
 *
 * Time: machines never use XState `after` delays. A machine that waits keeps
 * `context.deadline` (ms on the record clock, or undefined). When a record's
 * `ts` passes an actor's deadline, the router first sends that actor
 * `{ type: 'clock.tick', ts: deadline }`. This keeps replay exact and
 * snapshots complete (nothing lives in a scheduler).
 */
import type { AnyStateMachine, AnyEventObject } from 'xstate';
import type { XRecord } from '../events/record.ts';

export type DomainType = 'pv' | 'pvh' | 'hvm';

/** What the router knows of the host when it routes a record. Read-only. */
export interface RouteContext {
  /** Current uuid of a domid (from `/local/domain/<id>/vm`, dominfo, or the record itself). */
  uuidOf(domid: number): string | undefined;
  /** Current domid of a uuid. */
  domidOf(uuid: string): number | undefined;
  /** The uuid of the domain last seen with this name (kept after the domain is gone: logs outlive it). */
  uuidOfName(name: string): string | undefined;
  /** Value of a xenstore node as last observed, or undefined. */
  read(path: string): string | undefined;
  /** Child names of a xenstore node as observed (sorted). */
  children(path: string): string[];
  /** Domain type from `/libxl/<id>/type`, when seen. */
  domainType(domid: number): DomainType | undefined;
  /** For a stub domain: the domid it serves (`/local/domain/<stub>/target`). */
  targetOf(domid: number): number | undefined;
  /** For a guest: its stub domain id (`/local/domain/<id>/image/device-model-domid`). */
  stubdomOf(domid: number): number | undefined;
  /** Whether an actor with this id exists now (not retired). */
  has(actorId: string): boolean;
}

/** One delivery: send `event` to actor `id`, creating it from `input` first if it does not exist. */
export interface Routed {
  /** Actor id, unique across the host: `<kind>:<uuid>[:<device>]`, e.g. `xenbus:<uuid>:vbd/5632`. */
  id: string;
  /** Domain uuid the actor belongs to (history is keyed by uuid). */
  uuid: string;
  /** Input for creating the actor, when this delivery may create it. Omit to deliver only to an existing actor. */
  input?: Record<string, unknown>;
  event: AnyEventObject & { ts: number };
}

export interface MachineBinding {
  /** Machine kind, also the actor id prefix: 'domain', 'xenbus', 'ninepfs', 'cdrom', 'pvUnplug', 'ioreq'. */
  kind: string;
  /** Version of the machine's behaviour, written in bundle manifests (`machines`). Bump on any change of meaning. */
  version: string;
  machine: AnyStateMachine;
  /** Pure: the deliveries a record causes for this machine kind (often none). */
  route(rec: XRecord, ctx: RouteContext): Routed[];
  /** Called after each state change of one of this kind's actors: is it an incident? */
  incident?(t: TransitionInfo): IncidentHit | null;
}

/** A state change of one actor, as the router reports it to `incident()`. */
export interface TransitionInfo {
  actor: string;
  from: string;
  to: string;
  /** seq of the record that caused it. */
  seq: number;
  ts: number;
  context: any;
}

export interface IncidentHit {
  kind: string;
  summary: string;
  /** First seq of the incident's range (default: the transition's seq). */
  start?: number;
  /**
   * Not a new incident: what was learned since about this actor's latest incident of this kind
   * (its summary, and its range extended to this seq). Ignored when there is none.
   */
  update?: boolean;
}

/**
 * A state value as one string, as the CLI prints and bundles are judged by:
 * nested states joined with '.', parallel regions as `region.state` joined with ',' in key order.
 */
export function stateString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value as Record<string, unknown>).sort();
    const parts = keys.map((k) => {
      const sub = (value as Record<string, unknown>)[k];
      if (sub && typeof sub === 'object' && Object.keys(sub).length === 0) return k;
      return `${k}.${stateString(sub)}`;
    });
    return parts.join(',');
  }
  return String(value);
}
