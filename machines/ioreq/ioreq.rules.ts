/**
 * The reference model of a domain's ioreq servers: which result code the
 * hypervisor gives an op, and what the op changes (seed 002, reference
 * section 6). Pure and serializable: the simulator answers ops with it, and
 * the ioreq machine compares each reported result with it.
 *
 * Rules, by Xen version:
 * - at most 8 servers per domain; create takes the lowest free id; the 9th create is ENOSPC;
 * - from 4.12 there is no default server: id 0 is an ordinary id (before 4.12 it was
 *   reserved for the default server, so create returned 1..7, destroy(0) was EPERM
 *   and the other ops on 0 EOPNOTSUPP);
 * - map/unmap: start > end is EINVAL (checked before the id); an unknown id is ENOENT;
 *   a caller that is not the server's emulating domain gets EPERM (also enable,
 *   disable, destroy, info); mapping a range that overlaps one of the same type is
 *   EEXIST, unmapping a range the server does not hold is ENOENT;
 * - HVM_PARAM_DM_DOMAIN (13) and HVM_PARAM_BUFIOREQ_EVTCHN (26): set EPERM and get
 *   ENODATA on 4.12–4.13, both EINVAL from 4.14; before 4.12, 26 could not be set
 *   (EINVAL) and both could be read.
 */
import {
  HVM_PARAM_BUFIOREQ_EVTCHN,
  HVM_PARAM_DM_DOMAIN,
  MAX_IOREQ_SERVERS,
  type IoRange,
  type IoreqRequest,
  type IoreqResult,
  type IoreqServer,
} from './ioreq.types.ts';

export interface XenVersion {
  major: number;
  minor: number;
}

/** `4.17.7`, `4.14`, `4.20-unstable` → {major, minor}; unparsable → the Debian baseline 4.17. */
export function parseXenVersion(s: string | undefined): XenVersion {
  const m = /^(\d+)\.(\d+)/.exec(s ?? '');
  if (!m) return { major: 4, minor: 17 };
  return { major: Number(m[1]), minor: Number(m[2]) };
}

function atLeast(v: XenVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** A domain's servers as far as the reports tell. */
export interface IoreqDomainState {
  /** By id; null = free as far as known. */
  slots: Array<IoreqServer | null>;
  /** Used slots no report named (an ENOSPC seen with fewer than 8 known). */
  hidden: number;
}

export interface IoreqExpectation {
  result: IoreqResult;
  /** For create: the id the server gets. */
  id?: number;
  /** False when the model cannot know (a server whose owner is unknown, slots it never saw, params it does not model). */
  certain: boolean;
}

export interface IoreqApplied {
  state: IoreqDomainState;
  /** The server an op (or a report that it is gone) destroyed. */
  destroyed?: IoreqServer;
}

export interface IoreqModel {
  xen: XenVersion;
  maxServers: number;
  /** Before 4.12, id 0 belonged to the default server. */
  hasDefaultServer: boolean;
  empty(): IoreqDomainState;
  /** The result the hypervisor gives `req` in `state`. */
  expect(state: IoreqDomainState, req: IoreqRequest): IoreqExpectation;
  /** `state` after `req` got `result` (the observed one, which may differ from the expected). */
  apply(state: IoreqDomainState, req: IoreqRequest, result: IoreqResult, seq: number): IoreqApplied;
  /** What a hypervisor following the rules does: expect then apply. */
  step(state: IoreqDomainState, req: IoreqRequest, seq: number): { result: IoreqResult; id?: number; state: IoreqDomainState };
}

const RANGE_TYPES = new Set(['port', 'mmio', 'pci']);

function overlaps(a: IoRange, b: IoRange): boolean {
  return a.type === b.type && a.start <= b.end && b.start <= a.end;
}

function contains(outer: IoRange, inner: IoRange): boolean {
  return outer.type === inner.type && outer.start <= inner.start && inner.end <= outer.end;
}

function usedCount(state: IoreqDomainState): number {
  return state.slots.filter((s) => s !== null).length + state.hidden;
}

/** Remove `r` from the ranges (the rangeset keeps what lies outside it). */
function removeRange(ranges: IoRange[], r: IoRange): IoRange[] {
  const out: IoRange[] = [];
  for (const x of ranges) {
    if (!overlaps(x, r)) {
      out.push(x);
      continue;
    }
    if (x.start < r.start) out.push({ type: x.type, start: x.start, end: r.start - 1 });
    if (x.end > r.end) out.push({ type: x.type, start: r.end + 1, end: x.end });
  }
  return out;
}

function withSlot(state: IoreqDomainState, id: number, server: IoreqServer | null): IoreqDomainState {
  const slots = [...state.slots];
  slots[id] = server;
  return { ...state, slots };
}

/** The rules for one Xen version. */
export function ioreqModel(xenVersion: string | XenVersion = '4.17'): IoreqModel {
  const xen = typeof xenVersion === 'string' ? parseXenVersion(xenVersion) : xenVersion;
  const hasDefaultServer = !atLeast(xen, 4, 12);
  const firstId = hasDefaultServer ? 1 : 0;
  const maxServers = MAX_IOREQ_SERVERS;

  const empty = (): IoreqDomainState => ({ slots: Array.from({ length: maxServers }, () => null), hidden: 0 });

  function paramResult(req: IoreqRequest): IoreqExpectation {
    const deprecated = req.param === HVM_PARAM_DM_DOMAIN || req.param === HVM_PARAM_BUFIOREQ_EVTCHN;
    if (!deprecated) return { result: 'ok', certain: false };
    if (atLeast(xen, 4, 14)) return { result: 'EINVAL', certain: true };
    if (atLeast(xen, 4, 12)) return { result: req.op === 'set_param' ? 'EPERM' : 'ENODATA', certain: true };
    if (req.op === 'set_param' && req.param === HVM_PARAM_BUFIOREQ_EVTCHN) return { result: 'EINVAL', certain: true };
    return { result: 'ok', certain: true };
  }

  /** Lookup and ownership, in the hypervisor's order: unknown id ENOENT, then not the emulator EPERM. */
  function owned(state: IoreqDomainState, req: IoreqRequest): IoreqExpectation | IoreqServer {
    const id = req.id;
    if (id === undefined || !Number.isInteger(id) || id < 0) return { result: 'ENOENT', certain: true };
    const s = id < maxServers ? state.slots[id] : null;
    if (s === null || s === undefined) return { result: 'ENOENT', certain: state.hidden === 0 };
    if (s.emulator === null) return { result: 'ok', certain: false };
    if (s.emulator !== req.caller) return { result: 'EPERM', certain: true };
    return s;
  }

  function expect(state: IoreqDomainState, req: IoreqRequest): IoreqExpectation {
    if (hasDefaultServer && req.id === 0 && req.op !== 'create' && req.op !== 'get_param' && req.op !== 'set_param') {
      return { result: req.op === 'destroy' ? 'EPERM' : 'EOPNOTSUPP', certain: true };
    }
    switch (req.op) {
      case 'create': {
        if (usedCount(state) >= maxServers - firstId) return { result: 'ENOSPC', certain: true };
        for (let i = firstId; i < maxServers; i++) {
          if (state.slots[i] === null) return { result: 'ok', id: i, certain: state.hidden === 0 };
        }
        return { result: 'ENOSPC', certain: true };
      }
      case 'map':
      case 'unmap': {
        const r = req.range;
        if (r === undefined || !RANGE_TYPES.has(r.type) || r.start > r.end) return { result: 'EINVAL', certain: true };
        const s = owned(state, req);
        if (!('id' in s && 'state' in s)) return s;
        if (req.op === 'map') {
          return s.ranges.some((x) => overlaps(x, r)) ? { result: 'EEXIST', certain: true } : { result: 'ok', certain: true };
        }
        return s.ranges.some((x) => contains(x, r)) ? { result: 'ok', certain: true } : { result: 'ENOENT', certain: true };
      }
      case 'enable':
      case 'disable':
      case 'destroy':
      case 'info': {
        const s = owned(state, req);
        if (!('id' in s && 'state' in s)) return s;
        return { result: 'ok', certain: true };
      }
      case 'get_param':
      case 'set_param':
        return paramResult(req);
    }
  }

  /** A server the reports had not named: adopt it, taking it out of the hidden count. */
  function adopt(state: IoreqDomainState, id: number, emulator: number | null, seq: number): IoreqDomainState {
    const server: IoreqServer = { id, emulator, state: 'created', ranges: [], since: seq };
    const next = withSlot(state, id, server);
    return next.hidden > 0 ? { ...next, hidden: next.hidden - 1 } : next;
  }

  /** Hidden servers never push the count past the capacity: a report that a slot was free wins over an older guess. */
  function bounded(applied: IoreqApplied): IoreqApplied {
    const named = applied.state.slots.filter((s) => s !== null).length;
    const hidden = Math.max(0, Math.min(applied.state.hidden, maxServers - firstId - named));
    return hidden === applied.state.hidden ? applied : { ...applied, state: { ...applied.state, hidden } };
  }

  function apply(state: IoreqDomainState, req: IoreqRequest, result: IoreqResult, seq: number): IoreqApplied {
    return bounded(applyObserved(state, req, result, seq));
  }

  function applyObserved(state: IoreqDomainState, req: IoreqRequest, result: IoreqResult, seq: number): IoreqApplied {
    const id = req.id;
    const valid = id !== undefined && Number.isInteger(id) && id >= 0 && id < maxServers;
    const known = valid ? state.slots[id] : null;
    if (result !== 'ok') {
      if (req.op === 'create' && result === 'ENOSPC') {
        const named = state.slots.filter((s) => s !== null).length;
        return { state: { ...state, hidden: Math.max(state.hidden, maxServers - firstId - named) } };
      }
      if (result === 'ENOENT' && known && req.op !== 'map' && req.op !== 'unmap') {
        // The server is gone though nobody reported its destruction.
        return { state: withSlot(state, id!, null), destroyed: { ...known, state: 'destroyed' } };
      }
      if (result === 'EPERM' && valid && !known && req.op !== 'create' && !(hasDefaultServer && id === 0)) {
        // Someone else's server in a slot the reports never named.
        return { state: adopt(state, id!, null, seq) };
      }
      return { state };
    }
    switch (req.op) {
      case 'create': {
        const newId = valid ? id! : expect(state, req).id;
        if (newId === undefined) return { state };
        const server: IoreqServer = { id: newId, emulator: req.caller, state: 'created', ranges: [], since: seq };
        return { state: withSlot(state, newId, server) };
      }
      case 'map':
      case 'unmap':
      case 'enable':
      case 'disable':
      case 'info': {
        if (!valid) return { state };
        let next = state;
        if (!known) next = adopt(state, id!, req.caller, seq);
        const s = next.slots[id!]!;
        let updated: IoreqServer = s;
        if (s.emulator === null) updated = { ...updated, emulator: req.caller };
        if (req.op === 'enable') updated = { ...updated, state: 'enabled' };
        if (req.op === 'disable') updated = { ...updated, state: 'disabled' };
        if (req.op === 'map' && req.range) updated = { ...updated, ranges: [...updated.ranges, req.range] };
        if (req.op === 'unmap' && req.range) updated = { ...updated, ranges: removeRange(updated.ranges, req.range) };
        return { state: withSlot(next, id!, updated) };
      }
      case 'destroy': {
        if (!valid) return { state };
        if (!known) return { state: state.hidden > 0 ? { ...state, hidden: state.hidden - 1 } : state };
        return { state: withSlot(state, id!, null), destroyed: { ...known, state: 'destroyed' } };
      }
      case 'get_param':
      case 'set_param':
        return { state };
    }
  }

  function step(state: IoreqDomainState, req: IoreqRequest, seq: number) {
    const e = expect(state, req);
    const applied = apply(state, e.id !== undefined ? { ...req, id: e.id } : req, e.result, seq);
    return e.id !== undefined ? { result: e.result, id: e.id, state: applied.state } : { result: e.result, state: applied.state };
  }

  return { xen, maxServers, hasDefaultServer, empty, expect, apply, step };
}
