/**
 * The pure core of the ninepfs machine: a model of xen-9pfsd (what it must do with what
 * Xendeck observed) and a judge of the observed backend against it.
 */
import { parseXenbusState } from '../xenbus/xenbus.logic.ts';
import { PUBLISHED_KEYS, UNOBSERVED_CLOSE, checkFrontend, daemonFrontendState, probeBackend, uintFromString } from './ninepfs.rules.ts';
import type { DaemonState, NinepfsContext, NinepfsEvent, NinepfsInput, NinepfsKey } from './ninepfs.types.ts';

export function initialNinepfsContext(input: NinepfsInput): NinepfsContext {
  return {
    uuid: input.uuid,
    domid: input.domid,
    devid: input.devid,
    backendDomid: undefined,
    fe: {},
    be: {},
    feSeen: false,
    feGone: false,
    beSeen: false,
    beGone: false,
    daemonFrontendState: 0,
    expect: 'probing',
    expectSeq: undefined,
    closeReason: undefined,
    failedBy: undefined,
    verdict: 'pending',
    deviation: undefined,
    lastUnknown: undefined,
    created: undefined,
    awaiting: undefined,
    deadline: undefined,
  };
}

/**
 * How long a verdict waits for keys written with the ones already observed (record clock, ms).
 * As long as libxl's own waits: a wrong verdict is worse than a late one, and a simulated host
 * run faster than real time (`--speed`) stretches the observation lag on its clock.
 */
export const KEY_GRACE_MS = 10_000;

/**
 * Whether xen-9pfsd's frontend checks, in its order, would reach a key this history has not
 * observed yet before deciding (a present bad value decides at once; a missing one may still come).
 */
function missingFrontendKeys(fe: Record<string, string>): boolean {
  if (fe['version'] === undefined) return true;
  if (uintFromString(fe['version'], 0) !== 1) return false;
  if (fe['num-rings'] === undefined) return true;
  const rings = uintFromString(fe['num-rings'], 0);
  if (rings < 1 || rings > 4) return false;
  for (let i = 0; i < rings; i++) {
    for (const k of [`event-channel-${i}`, `ring-ref${i}`]) {
      if (fe[k] === undefined) return true;
      if (uintFromString(fe[k], 0) === 0) return false;
    }
  }
  return false;
}

function wait(c: NinepfsContext, awaiting: NinepfsContext['awaiting'], ts: number): NinepfsContext {
  return c.awaiting === awaiting ? c : { ...c, awaiting, deadline: ts + KEY_GRACE_MS };
}

function stopWaiting(c: NinepfsContext): NinepfsContext {
  return c.awaiting === undefined ? c : { ...c, awaiting: undefined, deadline: undefined };
}

/** The frontend reached Initialised (or was first seen past it): xen-9pfsd's checks, or wait for keys not yet observed. */
function frontendInitialised(c: NinepfsContext, seq: number, ts: number, final: boolean): NinepfsContext {
  if (!final && missingFrontendKeys(c.fe)) return wait(c, 'frontend-keys', ts);
  const reason = checkFrontend(c.fe);
  const n = stopWaiting(c);
  return reason ? expectNow(n, 'closed', seq, reason, 'validation') : expectNow(n, 'connected', seq);
}

function applyKey(c: NinepfsContext, k: NinepfsKey, seq: number): NinepfsContext {
  if (k.side === 'frontend') {
    let n: NinepfsContext = { ...c, fe: { ...c.fe, [k.key]: k.value } };
    if (k.key === 'state') {
      n = { ...n, feSeen: true, feGone: false };
      if (!parseXenbusState(k.value).known) n = { ...n, lastUnknown: { value: k.value, seq } };
    }
    return n;
  }
  const n: NinepfsContext = { ...c, be: { ...c.be, [k.key]: k.value }, beSeen: true, beGone: false };
  return n.backendDomid === undefined && k.backendDomid !== undefined ? { ...n, backendDomid: k.backendDomid } : n;
}

function removeKey(c: NinepfsContext, side: 'frontend' | 'backend', key: string): NinepfsContext {
  if (side === 'frontend') {
    if (key === '') return { ...c, fe: {}, feGone: c.feSeen || c.feGone };
    const fe = { ...c.fe };
    delete fe[key];
    return key === 'state' ? { ...c, fe, feGone: c.feSeen || c.feGone } : { ...c, fe };
  }
  if (key === '') return { ...c, be: {}, beGone: true };
  const be = { ...c.be };
  delete be[key];
  return { ...c, be }; // xen-9pfsd drops a device only when its directory goes
}

function expectNow(c: NinepfsContext, expect: DaemonState, seq: number, closeReason?: string, failedBy?: NinepfsContext['failedBy']): NinepfsContext {
  return { ...c, expect, expectSeq: seq, closeReason, failedBy };
}

/**
 * The backend did something that only xen-9pfsd does, and only once it has accepted the device:
 * publish its keys, or move to InitWait/Initialised/Connected. (Closing is also libxl's removal.)
 */
function backendActed(c: NinepfsContext): boolean {
  const s = c.be['state'];
  return Object.keys(PUBLISHED_KEYS).some((k) => c.be[k] !== undefined) || s === '2' || s === '3' || s === '4';
}

/** `frontend_changed()`: react to the frontend state as xen-9pfsd reads it. */
function frontendChanged(c: NinepfsContext, seq: number, initial: boolean, ts: number): NinepfsContext {
  const raw = c.fe['state'];
  if (raw === undefined) {
    if (initial && !c.feGone) return c; // not observed yet: libxl writes it with the backend
    return expectNow(c, 'closed', seq, 'frontend state vanished');
  }
  const n = daemonFrontendState(raw);
  if (n === c.daemonFrontendState) return c;
  let next: NinepfsContext = { ...c, daemonFrontendState: n };
  switch (n) {
    case 3:
      next = frontendInitialised(next, seq, ts, false);
      break;
    case 4:
      // Watches coalesce: a frontend first seen Connected went through Initialised, which the
      // daemon handled (the frontend only connects after the backend did). Judge it as that step.
      if (c.daemonFrontendState === undefined || c.daemonFrontendState < 3) next = frontendInitialised(next, seq, ts, false);
      break;
    case 5:
    case 6: {
      // Watches coalesce: a frontend first seen Closing/Closed after publishing its keys went
      // through Initialised, and xen-9pfsd judged those keys then (its refusal is why the
      // frontend closes). Judge them as that step first.
      if (c.daemonFrontendState < 3 && c.expect === 'published') {
        const judged = frontendInitialised(next, seq, ts, false);
        // Its keys may still be on their way (their watches fire after the state's): wait for them.
        if (judged.awaiting === 'frontend-keys' || judged.expect === 'closed') return judged;
        next = judged;
      }
      next = n === 5 ? expectNow(next, 'closing', seq, 'frontend Closing') : expectNow(next, 'closed', seq, 'frontend Closed');
      break;
    }
    default:
      break; // Unknown, Initialising, Connected, Reconfiguring…: xen-9pfsd does nothing
  }
  return next;
}

/** Whether the backend's current keys are what xen-9pfsd must have written. */
function matches(c: NinepfsContext): boolean {
  const bs = c.be['state'];
  switch (c.expect) {
    case 'probing':
      return false;
    case 'refused':
      return !backendActed(c);
    case 'published':
      return bs === '2' && Object.entries(PUBLISHED_KEYS).every(([k, v]) => c.be[k] === v);
    case 'connected':
      return bs === '4';
    case 'closing':
      return bs === '5' || bs === '6'; // 6: the frontend's Closing and Closed coalesced
    case 'closed':
      return bs === '6';
    case 'removed':
      return true;
  }
}

/** What the backend did that xen-9pfsd never would, or undefined. */
function contradiction(c: NinepfsContext): string | undefined {
  const bs = c.be['state'];
  switch (c.expect) {
    case 'refused':
      return backendActed(c) ? `backend published although xen-9pfsd must refuse: ${c.closeReason}` : undefined;
    case 'published': {
      if (bs === '3' || bs === '4') return `backend state ${bs} before the frontend was Initialised`;
      if (bs !== '2') return undefined;
      const wrong = Object.entries(PUBLISHED_KEYS).find(([k, v]) => c.be[k] !== undefined && c.be[k] !== v);
      return wrong ? `InitWait with ${wrong[0]}=${c.be[wrong[0]]} (xen-9pfsd writes ${wrong[1]})` : undefined;
    }
    case 'connected':
      return bs === '3' ? 'backend Initialised after a valid frontend Initialised (xen-9pfsd connects)' : undefined;
    case 'closed':
      return c.failedBy === 'validation' && bs === '4' ? `backend Connected although ${c.closeReason}` : undefined;
    default:
      return undefined;
  }
}

function judge(before: NinepfsContext, c: NinepfsContext, e: NinepfsEvent): NinepfsContext {
  const backendWrite = e.type === 'ninepfs.write' && e.side === 'backend';
  const changed = c.expect !== before.expect || c.expectSeq !== before.expectSeq;
  if (!backendWrite && !changed) return c;
  if (matches(c)) return { ...c, verdict: 'complied', deviation: undefined };
  // A deferred verdict (clock.tick) judges what the backend already did, as a backend write would.
  const why = backendWrite || e.type === 'clock.tick' ? contradiction(c) : undefined;
  // A backend ahead of the frontend we have observed may only be ahead of our observations:
  // the frontend's Initialised and keys can be read after the backend's reaction. Wait for them.
  const bs = c.be['state'];
  if (why && c.expect === 'published' && (bs === '3' || bs === '4') && e.type !== 'clock.tick' && c.awaiting !== 'backend-keys') {
    return wait({ ...c, verdict: 'pending', deviation: undefined }, 'frontend-keys', e.ts);
  }
  if (why) return { ...c, verdict: 'deviated', deviation: why };
  return changed ? { ...c, verdict: 'pending', deviation: undefined } : c;
}

/** The next context after one event. Pure and total. */
export function reduceNinepfs(c0: NinepfsContext, e: NinepfsEvent): NinepfsContext {
  let c = c0;
  if (e.type === 'clock.tick') return judge(c, onDeadline(c, e), e);
  if (e.type === 'ninepfs.write' && (c.expect === 'removed' || e.domid !== c.domid)) {
    c = initialNinepfsContext({ uuid: c.uuid, domid: e.domid, devid: c.devid });
  }
  if (e.type === 'ninepfs.rm' && e.domid !== c.domid) return c;
  const before = c;
  if (e.type === 'ninepfs.write') {
    if (c.created === undefined) c = { ...c, created: { seq: e.seq, ts: e.ts } };
    for (const k of e.prior ?? []) c = applyKey(c, k, e.seq);
    c = applyKey(c, e, e.seq);
  } else {
    c = removeKey(c, e.side, e.key);
  }
  // xen-9pfsd's scan: a backend directory that went away removes the device.
  if (c.beGone) {
    c = stopWaiting(c.expect === 'removed' ? c : expectNow(c, 'removed', e.seq));
    return judge(before, c, e);
  }
  if (c.expect === 'probing') {
    const observed = c.be['security_model'] !== undefined && c.be['path'] !== undefined;
    if (observed) {
      c = stopWaiting(c);
      const reason = probeBackend(c.be);
      c = reason ? expectNow(c, 'refused', e.seq, reason, 'probe') : frontendChanged(expectNow(c, 'published', e.seq), e.seq, true, e.ts);
    } else if (backendActed(c)) {
      // The daemon reacted to keys this history has not shown yet: wait for them a moment.
      c = wait(c, 'backend-keys', e.ts);
    }
  } else if (c.awaiting === 'frontend-keys' && e.side === 'frontend') {
    c = frontendInitialised(c, e.seq, e.ts, false);
    c = closeIfFrontendClosed(c, e.seq);
  } else if (c.expect !== 'refused' && e.side === 'frontend' && (e.key === 'state' || (e.type === 'ninepfs.rm' && e.key === ''))) {
    c = frontendChanged(c, e.seq, false, e.ts);
  }
  // While frontend keys are awaited, a backend that closes has made its verdict with what it read.
  if (c.awaiting === 'frontend-keys' && e.type === 'ninepfs.write' && e.side === 'backend' && e.key === 'state' && e.value === '6') {
    c = frontendInitialised(c, e.seq, e.ts, true);
  }
  // A backend that closes after a valid Initialised failed a check Xendeck cannot see, unless libxl
  // is removing the device (online=0 first, which may be observed after the close: wait for it).
  if (c.expect === 'connected' && c.be['online'] !== '0' && e.type === 'ninepfs.write' && e.side === 'backend' && e.key === 'state' && e.value === '6') {
    c = wait(c, 'removal', e.ts);
  }
  if (c.awaiting === 'removal' && c.be['online'] === '0') c = stopWaiting(c);
  return judge(before, c, e);
}

/** The wait for unobserved keys is over: judge with what was observed (a key still missing is missing). */
function onDeadline(c: NinepfsContext, e: { ts: number; seq: number }): NinepfsContext {
  if (c.deadline === undefined || e.ts < c.deadline) return c;
  if (c.awaiting === 'backend-keys' && c.expect === 'probing') {
    const n = stopWaiting(c);
    const reason = probeBackend(n.be);
    return reason ? expectNow(n, 'refused', e.seq, reason, 'probe') : frontendChanged(expectNow(n, 'published', e.seq), e.seq, true, e.ts);
  }
  if (c.awaiting === 'removal') {
    // No removal followed the close: the daemon closed the device on its own.
    const n = stopWaiting(c);
    return n.expect === 'connected' ? expectNow(n, 'closed', e.seq, UNOBSERVED_CLOSE, 'unobserved') : n;
  }
  if (c.awaiting === 'frontend-keys') {
    // A frontend that closed without publishing its keys was not refused by the daemon's checks.
    const fs = daemonFrontendState(c.fe['state'] ?? '0');
    if ((fs === 5 || fs === 6) && c.fe['version'] === undefined) return expectNow(stopWaiting(c), fs === 5 ? 'closing' : 'closed', e.seq, fs === 5 ? 'frontend Closing' : 'frontend Closed');
    return closeIfFrontendClosed(frontendInitialised(c, e.seq, e.ts, true), e.seq);
  }
  return stopWaiting(c);
}

/** Keys judged valid while the frontend is already Closing/Closed: what the daemon does next is follow it. */
function closeIfFrontendClosed(c: NinepfsContext, seq: number): NinepfsContext {
  if (c.expect !== 'connected') return c;
  const fs = daemonFrontendState(c.fe['state'] ?? '0');
  if (fs === 5) return expectNow(c, 'closing', seq, 'frontend Closing');
  if (fs === 6) return expectNow(c, 'closed', seq, 'frontend Closed');
  return c;
}

/** One-entry memo so that both regions' guards and the action share one reduction per event. */
let memo: { c: NinepfsContext; e: NinepfsEvent; n: NinepfsContext } | undefined;
export function nextNinepfsContext(c: NinepfsContext, e: NinepfsEvent): NinepfsContext {
  if (memo && memo.c === c && memo.e === e) return memo.n;
  const n = reduceNinepfs(c, e);
  memo = { c, e, n };
  return n;
}
