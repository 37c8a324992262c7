/**
 * Routes `ioreq.op` reports (simulator, helper) to `ioreq:<uuid>` actors and a new
 * domain instance (`xs.introduce`) to `ioreq.reset`; names the `ioreq-exhausted`
 * incident. Report data is checked field by field: a malformed report routes nothing.
 */
import type { IncidentHit, MachineBinding, RouteContext, Routed, TransitionInfo } from '../host/binding.ts';
import { ioreqMachine } from './ioreq.machine.ts';
import {
  IOREQ_OPS,
  IOREQ_OP_TYPE,
  IOREQ_RESULTS,
  MAX_IOREQ_SERVERS,
  type IoRange,
  type IoreqContext,
  type IoreqInput,
  type IoreqOpData,
} from './ioreq.types.ts';

/** The record type, taken from the seam (the lint's `events` pattern also matches the `../events/` folder). */
type XRecord = Parameters<MachineBinding['route']>[0];

export const IOREQ_KIND = 'ioreq';

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x);
}

function parseRange(x: unknown): IoRange | undefined | null {
  if (x === undefined) return undefined;
  if (typeof x !== 'object' || x === null) return null;
  const r = x as Record<string, unknown>;
  if ((r.type !== 'port' && r.type !== 'mmio' && r.type !== 'pci') || !isInt(r.start) || !isInt(r.end)) return null;
  return { type: r.type, start: r.start, end: r.end };
}

/** The report in a record, or undefined when any field is missing or of the wrong type. */
export function parseIoreqOp(data: unknown): IoreqOpData | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if (!isInt(d.domid) || !isInt(d.caller)) return undefined;
  if (typeof d.op !== 'string' || !(IOREQ_OPS as readonly string[]).includes(d.op)) return undefined;
  if (typeof d.result !== 'string' || !(IOREQ_RESULTS as readonly string[]).includes(d.result)) return undefined;
  if (d.id !== undefined && !isInt(d.id)) return undefined;
  if (d.param !== undefined && !isInt(d.param)) return undefined;
  if (d.value !== undefined && !isInt(d.value)) return undefined;
  if (d.xen !== undefined && typeof d.xen !== 'string') return undefined;
  const range = parseRange(d.range);
  if (range === null) return undefined;
  const op: IoreqOpData = { domid: d.domid, caller: d.caller, op: d.op as IoreqOpData['op'], result: d.result as IoreqOpData['result'] };
  if (d.id !== undefined) op.id = d.id as number;
  if (range !== undefined) op.range = range;
  if (d.param !== undefined) op.param = d.param as number;
  if (d.value !== undefined) op.value = d.value as number;
  if (d.xen !== undefined) op.xen = d.xen as string;
  return op;
}

function uuidFor(rec: XRecord, ctx: RouteContext, domid: number): string | undefined {
  return ctx.uuidOf(domid) ?? (rec.domid === domid ? rec.uuid : undefined);
}

/** Pure: the deliveries one record causes for ioreq actors. */
export function routeIoreq(rec: XRecord, ctx: RouteContext): Routed[] {
  if (rec.type === IOREQ_OP_TYPE) {
    const op = parseIoreqOp(rec.data);
    if (op === undefined) return [];
    const uuid = uuidFor(rec, ctx, op.domid);
    if (uuid === undefined) return [];
    const input: IoreqInput = { uuid, domid: op.domid };
    if (op.xen !== undefined) input.xen = op.xen;
    return [
      {
        id: `${IOREQ_KIND}:${uuid}`,
        uuid,
        input: input as unknown as Record<string, unknown>,
        event: { type: 'ioreq.op', op, ts: rec.ts, seq: rec.seq },
      },
    ];
  }
  if (rec.type === 'xs.introduce') {
    const domid = (rec.data as { domid?: unknown }).domid;
    if (!isInt(domid)) return [];
    const uuid = uuidFor(rec, ctx, domid);
    if (uuid === undefined) return [];
    return [{ id: `${IOREQ_KIND}:${uuid}`, uuid, event: { type: 'ioreq.reset', domid, ts: rec.ts, seq: rec.seq } }];
  }
  return [];
}

/** The incident of this kind: a create refused with ENOSPC, all 8 servers in use. */
export function ioreqIncident(t: TransitionInfo): IncidentHit | null {
  if (t.to !== 'exhausted.refused' || t.from === 'exhausted.refused') return null;
  const c = t.context as IoreqContext;
  const hidden = c.hidden > 0 ? ` (${c.hidden} not reported)` : '';
  return {
    kind: 'ioreq-exhausted',
    summary: `ioreq server create refused with ENOSPC: ${c.inUse} of ${MAX_IOREQ_SERVERS} servers in use${hidden}`,
    start: c.fullSince ?? t.seq,
  };
}

export const ioreqBinding: MachineBinding = {
  kind: IOREQ_KIND,
  version: '1',
  machine: ioreqMachine,
  route: routeIoreq,
  incident: ioreqIncident,
};
