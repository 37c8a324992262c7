/**
 * The pure core of the xenbus device machine: how one event changes the context,
 * and which frontend/backend/link states the context stands for. The machine's
 * guards and its single assign action are thin wrappers around these functions,
 * so every region of the parallel machine sees the same next context.
 */
import {
  HOTPLUG_BACKENDS,
  LIBXL_DESTROY_TIMEOUT_MS,
  LIBXL_HOTPLUG_TIMEOUT_MS,
  LIBXL_INIT_TIMEOUT_MS,
  SELF_SERVED_BACKENDS,
  type LinkState,
  type PriorKey,
  type Side,
  type SideState,
  type WaitPhase,
  type XenbusContext,
  type XenbusEvent,
  type XenbusInput,
} from './xenbus.types.ts';

/** A XenbusState from a xenstore value: integers 0..8 only; anything else is Unknown (0). */
export function parseXenbusState(raw: string): { state: number; known: boolean } {
  if (/^[0-8]$/.test(raw)) return { state: Number(raw), known: true };
  return { state: 0, known: false };
}

const NO_SIDE: SideState = { state: 0, present: false, seen: false, gone: false };

export function initialXenbusContext(input: XenbusInput): XenbusContext {
  return {
    uuid: input.uuid,
    domid: input.domid,
    kind: input.kind,
    devid: input.devid,
    backendKind: undefined,
    backendDomid: undefined,
    frontend: NO_SIDE,
    backend: NO_SIDE,
    online: undefined,
    hotplugStatus: undefined,
    hotplugError: undefined,
    script: undefined,
    backendConfig: undefined,
    created: undefined,
    backendSeenTs: undefined,
    everConnected: false,
    removingSince: undefined,
    roundSeq: undefined,
    frontendStateSeq: undefined,
    phase: undefined,
    phaseSince: undefined,
    deadline: undefined,
    stall: undefined,
    failure: undefined,
    lastUnknown: undefined,
  };
}

/** Whether a device's sides are both gone (libxl removed it, or the domain went away). */
export function isRemoved(c: XenbusContext): boolean {
  const fe = c.frontend;
  const be = c.backend;
  return (fe.gone || !fe.seen) && (be.gone || !be.seen) && (fe.gone || be.gone) && !fe.present && !be.present;
}

/** The link state the context stands for. */
export function linkOf(c: XenbusContext): LinkState {
  if (isRemoved(c)) return 'removed';
  if (c.failure) return 'failed';
  if (c.stall) return 'stalled';
  const fe = c.frontend.state;
  const be = c.backend.state;
  if (fe === 5 || fe === 6 || be === 5 || be === 6) return 'closing';
  if (c.everConnected && (fe === 4 || fe === 7 || fe === 8) && (be === 4 || be === 7 || be === 8)) return 'connected';
  return 'waiting';
}

function writeSide(side: SideState, raw: string): SideState {
  return { state: parseXenbusState(raw).state, present: true, seen: true, gone: false };
}

function removeSide(side: SideState): SideState {
  return { state: 0, present: false, seen: side.seen, gone: side.seen || side.gone };
}

function applyKey(c: XenbusContext, k: PriorKey, seq: number, ts: number): XenbusContext {
  let n = c;
  if (k.side === 'backend') {
    if (n.backendKind === undefined && k.backendKind !== undefined) n = { ...n, backendKind: k.backendKind };
    if (n.backendDomid === undefined && k.backendDomid !== undefined) n = { ...n, backendDomid: k.backendDomid };
    if (n.backendSeenTs === undefined) n = { ...n, backendSeenTs: ts };
  }
  if (k.key === 'state') {
    if (!parseXenbusState(k.value).known) n = { ...n, lastUnknown: { side: k.side, value: k.value, seq } };
    n = k.side === 'frontend' ? { ...n, frontend: writeSide(n.frontend, k.value) } : { ...n, backend: writeSide(n.backend, k.value) };
    return n;
  }
  if (k.side !== 'backend') return n;
  switch (k.key) {
    case 'online':
      return { ...n, online: k.value };
    case 'hotplug-status':
      return { ...n, hotplugStatus: k.value };
    case 'hotplug-error':
      return { ...n, hotplugError: k.value };
    case 'script':
      return { ...n, script: k.value };
    case 'security_model':
    case 'path':
      return n.backendKind === 'xen_9pfs' ? { ...n, backendConfig: { ...n.backendConfig, [k.key]: k.value } } : n;
    default:
      return n;
  }
}

function removeKey(c: XenbusContext, side: Side, key: string): XenbusContext {
  if (key === '' || key === 'state') {
    const n = side === 'frontend' ? { ...c, frontend: removeSide(c.frontend) } : { ...c, backend: removeSide(c.backend) };
    if (key === '' && side === 'backend') return { ...n, online: undefined, hotplugStatus: undefined, hotplugError: undefined };
    return n;
  }
  if (side !== 'backend') return c;
  switch (key) {
    case 'online':
      return { ...c, online: undefined };
    case 'hotplug-status':
      return { ...c, hotplugStatus: undefined };
    case 'hotplug-error':
      return { ...c, hotplugError: undefined };
    default:
      return c;
  }
}

function hotplugExpected(c: XenbusContext): boolean {
  return (c.backendKind !== undefined && HOTPLUG_BACKENDS.includes(c.backendKind)) || !!c.script;
}

function selfServed(c: XenbusContext): boolean {
  return c.backendKind !== undefined && SELF_SERVED_BACKENDS.includes(c.backendKind);
}

/** Failures: a hotplug script that reported an error, or a side that closed before ever connecting. */
function judgeFailure(c: XenbusContext, seq: number): XenbusContext {
  const hs = c.hotplugStatus;
  const closingByLibxl = c.online === '0' || c.removingSince !== undefined;
  if (c.failure) {
    // A new round (backend back at Initialising/InitWait, script not failing) clears the failure.
    const newRound = (c.backend.state === 1 || c.backend.state === 2) && hs !== 'error' && hs !== 'busy';
    return newRound ? { ...c, failure: undefined } : c;
  }
  if (hs === 'error' || hs === 'busy') {
    return { ...c, failure: { side: 'backend', reason: c.hotplugError ? `hotplug: ${c.hotplugError}` : `hotplug-status=${hs}`, seq } };
  }
  if (!c.everConnected && !closingByLibxl && c.backend.state === 6 && c.backend.present) {
    return { ...c, failure: { side: 'backend', reason: 'backend closed before connecting', seq } };
  }
  // A frontend still Closed from before the backend's new round has not closed in this round.
  const frontendOfThisRound = c.roundSeq === undefined || (c.frontendStateSeq !== undefined && c.frontendStateSeq > c.roundSeq);
  if (!c.everConnected && !closingByLibxl && frontendOfThisRound && c.frontend.state === 6 && c.frontend.present && c.backend.state < 5) {
    return { ...c, failure: { side: 'frontend', reason: 'frontend closed before connecting', seq } };
  }
  return c;
}

/** Which libxl wait is in progress, and since when. */
function currentPhase(c: XenbusContext): { phase: WaitPhase; since: number } | undefined {
  if (c.failure || isRemoved(c) || !c.backend.present) return undefined;
  if (c.removingSince && c.backend.state !== 6) return { phase: 'close', since: c.removingSince.ts };
  if (c.removingSince || c.everConnected) return undefined;
  if (!selfServed(c) && c.backend.state < 2 && c.backendSeenTs !== undefined) {
    return { phase: 'initwait', since: c.backendSeenTs };
  }
  if (hotplugExpected(c) && c.backend.state >= 2 && !c.hotplugStatus) return { phase: 'hotplug', since: -1 };
  return undefined;
}

const TIMEOUT_OF: Record<WaitPhase, number> = {
  initwait: LIBXL_INIT_TIMEOUT_MS,
  hotplug: LIBXL_HOTPLUG_TIMEOUT_MS,
  close: LIBXL_DESTROY_TIMEOUT_MS,
};

function updateWait(c: XenbusContext, seq: number, ts: number): XenbusContext {
  const cur = currentPhase(c);
  if (!cur) {
    if (c.phase === undefined && c.deadline === undefined && c.stall === undefined) return c;
    return { ...c, phase: undefined, phaseSince: undefined, deadline: undefined, stall: undefined };
  }
  if (cur.phase === c.phase) return c;
  // A new wait: it starts at its own start when known (creation, removal), else now.
  const start = cur.since >= 0 ? cur.since : ts;
  return {
    ...c,
    phase: cur.phase,
    phaseSince: { seq, ts: start },
    deadline: start + TIMEOUT_OF[cur.phase],
    stall: undefined,
  };
}

/** The next context after one event. Pure and total. */
export function reduceXenbus(c0: XenbusContext, e: XenbusEvent): XenbusContext {
  let c = c0;
  if (e.type === 'clock.tick') {
    if (c.deadline === undefined || e.ts < c.deadline || !c.phase) return c;
    return {
      ...c,
      stall: { side: 'backend', phase: c.phase, since: c.phaseSince?.seq ?? e.seq, deadline: c.deadline },
      deadline: undefined,
    };
  }
  if (e.type === 'xenbus.write') {
    // Re-created under the same id (soft reset, reboot with a new domid): start afresh.
    if (isRemoved(c) || e.domid !== c.domid) {
      c = initialXenbusContext({ uuid: c.uuid, domid: e.domid, kind: c.kind, devid: c.devid });
    }
    if (c.created === undefined) c = { ...c, created: { seq: e.seq, ts: e.ts } };
    for (const k of e.prior ?? []) c = applyKey(c, k, e.seq, e.ts);
    c = applyKey(c, e, e.seq, e.ts);
    if (e.side === 'backend' && e.key === 'online' && e.value === '0' && !c.removingSince) {
      c = { ...c, removingSince: { seq: e.seq, ts: e.ts } };
    }
    // A device detached and attached again at the same path (a stub domain's CD-ROM disk): online=1
    // ends the removal only once the backend starts a new round, so its Closed is not a failure.
    if (e.side === 'backend' && e.key === 'online' && e.value === '1' && c.backend.state !== 5 && c.backend.state !== 6) c = { ...c, removingSince: undefined };
    // Any state of a new round (1..4: watches may skip to Connected) once online is 1 again.
    if (e.side === 'backend' && e.key === 'state' && ['1', '2', '3', '4'].includes(e.value) && c.removingSince && c.online === '1') c = { ...c, removingSince: undefined, roundSeq: e.seq };
    if (e.side === 'frontend' && e.key === 'state') c = { ...c, frontendStateSeq: e.seq };
  } else {
    if (e.domid !== c.domid) return c;
    c = removeKey(c, e.side, e.key);
  }
  if (!c.everConnected && c.frontend.state === 4 && c.backend.state === 4) c = { ...c, everConnected: true };
  // Back to the start of a handshake (reconnect after online=1): a fresh round.
  if (c.everConnected && c.frontend.state <= 2 && c.backend.state <= 2 && c.frontend.present && c.backend.present) {
    c = { ...c, everConnected: false };
  }
  c = judgeFailure(c, e.seq);
  const waiting = c0.phase === 'initwait' || c0.phase === 'hotplug' ? c0 : undefined;
  c = updateWait(c, e.seq, e.ts);
  // libxl gave up waiting and is removing the device: its timer started when it wrote the device,
  // which Xendeck observes a moment later, so a removal in the last stretch of the wait is that
  // timeout (a stall), even if the record clock has not quite reached the deadline.
  if (waiting && waiting.deadline !== undefined && !waiting.stall && isRemovalStart(e) && e.ts >= waiting.deadline - OBSERVATION_SLACK_MS) {
    // As when the deadline passes (clock.tick): the wait is over, as a stall.
    c = { ...c, stall: { side: 'backend', phase: waiting.phase!, since: waiting.phaseSince?.seq ?? e.seq, deadline: waiting.deadline }, deadline: undefined };
  }
  return c;
}

/** How late Xendeck may observe libxl's own writes (ms on the record clock). */
export const OBSERVATION_SLACK_MS = 1000;

function isRemovalStart(e: XenbusEvent): boolean {
  if (e.type === 'xenbus.rm') return true;
  if (e.type !== 'xenbus.write' || e.side !== 'backend') return false;
  return (e.key === 'online' && e.value === '0') || (e.key === 'state' && (e.value === '5' || e.value === '6'));
}

/** One-entry memo so that every region's guards and the action share one reduction per event. */
let memo: { c: XenbusContext; e: XenbusEvent; n: XenbusContext } | undefined;
export function nextXenbusContext(c: XenbusContext, e: XenbusEvent): XenbusContext {
  if (memo && memo.c === c && memo.e === e) return memo.n;
  const n = reduceXenbus(c, e);
  memo = { c, e, n };
  return n;
}
