/**
 * cdrom: one emulated CD-ROM of one guest, and the media changes libxl makes
 * on it (seed 000; reference 4.3, 4.4 and 5), as Xendeck observes them.
 *
 * States (DESIGN.md section 5):
 * - `empty`, `inserted`: no change in progress; which one follows the backend `params` ('' = empty).
 * - `ejecting`: a change started (cd-insert, cd-eject, cd-force-eject); QMP eject, and for a stub
 *   domain remove-fd and the PV disk detach, until the old media is gone.
 * - `inserting`: add-fd / the stub domain's PV disk attach / blockdev-change-medium.
 * - `retrying`: blockdev-change-medium failed; the next try is due 100 ms later (at most 10 retries).
 * - `locked`: QEMU refused the eject because the guest locked the tray; `forceEjectOffered` is the way out.
 * - `failed`: the change failed (fatal QMP error, retries exhausted, 40 s timeout, refused vdev).
 * - `resync` is transient (`always` to `inserted` or `empty`): no snapshot ever rests in it.
 *
 * Invariants:
 * - `deadline` is set only in `ejecting`, `inserting` and `retrying`: the earlier of the change's
 *   40 s timeout and the next retry.
 * - `attempts` counts the retries of the current or last change (0..10); success after k retries leaves k.
 * - A change outcome is counted from one source only (QMP replies or xl lines), never twice.
 * - The guest moving the tray by itself changes `trayOpen` only, never the media.
 * - The same device re-created under a new domid (restart) resets to what its `params` say.
 */
import { assign, setup } from 'xstate';
import type { CdromContext, CdromEvent, CdromInput, TimelineStep } from './cdrom.types.ts';
import {
  CD_OPERATION_TIMEOUT_MS,
  CHANGE_RETRY_MS,
  MAX_CHANGE_RETRIES,
  TIMELINE_MAX,
  isLockedText,
  verdictOf,
  type Verdict,
} from './cdrom.steps.ts';
import { mediaPathOf, tryStubdomFdset } from './cdrom.vdev.ts';

type Args = { context: CdromContext; event: CdromEvent };

function append(timeline: TimelineStep[], step: TimelineStep): TimelineStep[] {
  const next = [...timeline, step];
  return next.length > TIMELINE_MAX ? next.slice(next.length - TIMELINE_MAX) : next;
}

function stepFrom(event: CdromEvent, v: Pick<Verdict, 'source' | 'step' | 'ok' | 'detail'>): TimelineStep {
  return {
    seq: event.seq,
    ts: event.ts,
    source: v.source,
    step: v.step,
    ok: v.ok,
    ...(v.detail !== undefined ? { detail: v.detail } : {}),
  };
}

/** The earlier of the change's timeout and the next retry. */
function nextDeadline(opDeadline: number | undefined, retryAt: number | undefined): number | undefined {
  if (opDeadline === undefined) return retryAt;
  if (retryAt === undefined) return opDeadline;
  return Math.min(opDeadline, retryAt);
}

const inEject = (s: 'eject' | 'insert') => s === 'eject';

/** The media state `params` (or, without one, the last known media) leads to. */
function paramsOf(context: CdromContext, event: CdromEvent): string | undefined {
  if (event.type === 'cd.params') return event.value;
  if (event.type === 'cd.device' && event.params !== undefined) return event.params;
  return context.params;
}

function verdict(phase: 'eject' | 'insert', { context, event }: Args): Verdict {
  return verdictOf(context, event, inEject(phase));
}

function isCompletion(v: Verdict): boolean {
  return v.kind === 'done' || v.kind === 'change-ok';
}

/** Guards for one phase of a change, keyed by name. */
function phaseGuards(phase: 'eject' | 'insert') {
  return {
    isLocked: (a: Args) => verdict(phase, a).kind === 'locked',
    isFatal: (a: Args) => verdict(phase, a).kind === 'fatal',
    isRetriesExhausted: (a: Args) =>
      verdict(phase, a).kind === 'change-failed' && a.context.attempts >= MAX_CHANGE_RETRIES,
    isChangeFailed: (a: Args) => verdict(phase, a).kind === 'change-failed',
    isCompleteWithMedia: (a: Args) => isCompletion(verdict(phase, a)) && a.context.op?.path !== undefined,
    isCompleteEmpty: (a: Args) => isCompletion(verdict(phase, a)) && a.context.op?.path === undefined,
    isInsertPhase: (a: Args) => verdict(phase, a).kind === 'insert-phase',
    isProgress: (a: Args) => verdict(phase, a).kind !== 'ignore',
  };
}
const ejectGuards = phaseGuards('eject');
const insertGuards = phaseGuards('insert');

/** The fdset a stub domain added for this CD-ROM (opaque `stub-devid:<devid>`, reference 4.4), if listed. */
function stubFdsetIn(ret: unknown, devid: number): number | undefined {
  if (!Array.isArray(ret)) return undefined;
  for (const set of ret as Array<{ 'fdset-id'?: unknown; fds?: Array<{ opaque?: unknown }> }>) {
    if (typeof set?.['fdset-id'] !== 'number' || !Array.isArray(set.fds)) continue;
    if (set.fds.some((fd) => fd?.opaque === `stub-devid:${devid}`)) return set['fdset-id'];
  }
  return undefined;
}

/** Record a verdict's step and what it teaches (fdset, tray, stub domain, errors). */
function recordVerdict(phase: 'eject' | 'insert', { context, event }: Args): Partial<CdromContext> {
  {
    const v = verdictOf(context, event, inEject(phase));
    const patch: Partial<CdromContext> = { timeline: append(context.timeline, stepFrom(event, v)) };
    if (v.error !== undefined) patch.lastError = v.error;
    if (event.type === 'cd.qmp' && event.command === 'add-fd' && event.ok) {
      const fdset = (event.ret as { 'fdset-id'?: unknown } | undefined)?.['fdset-id'];
      if (typeof fdset === 'number') patch.fdset = fdset;
    }
    if (event.type === 'cd.qmp' && event.command === 'query-fdsets' && event.ok) {
      const fdset = stubFdsetIn(event.ret, context.devid);
      if (fdset !== undefined) patch.fdset = fdset;
    }
    if (event.type === 'cd.tray') patch.trayOpen = event.open;
    if (event.type === 'cd.step' && event.step === 'stubdom-id' && (event.value ?? 0) > 0) patch.stubdom = true;
    if (event.type === 'cd.params' && event.fromStubdom === context.stubdom) {
      patch.params = event.value;
      patch.mediaPath = mediaPathOf(event.value);
    }
    if (event.type === 'cd.type' && event.fromStubdom === context.stubdom) patch.backendType = event.value;
    if (context.op) {
      const op = { ...context.op };
      if (event.type === 'cd.detached' && event.fromStubdom) op.stubDetached = true;
      if ((v.kind === 'change-ok' || v.kind === 'change-failed') && op.changeSource === undefined)
        op.changeSource = v.source === 'qmp' ? 'qmp' : 'xl';
      // A retry's outcome arrived: it is no longer pending.
      if (v.kind !== 'ignore' && v.kind !== 'progress' && v.kind !== 'change-failed') op.retryAt = undefined;
      patch.op = op;
      patch.deadline = nextDeadline(op.opDeadline, op.retryAt);
    }
    return patch;
  }
}

/** The transitions shared by the three in-progress states for observations of the change. */
function progressTransitions(phase: 'eject' | 'insert') {
  const g = phase === 'eject' ? 'Eject' : 'Insert';
  const record = `record${g}Step` as const;
  return [
    { guard: 'isRecreated', target: '#cdrom.resync', actions: 'resetForRecreate' },
    { guard: `is${g}Locked`, target: 'locked', actions: [record, 'lockTray'] },
    { guard: `is${g}Fatal`, target: 'failed', actions: [record, 'endOp'] },
    { guard: `is${g}RetriesExhausted`, target: 'failed', actions: [record, 'failRetriesExhausted'] },
    { guard: `is${g}ChangeFailed`, target: 'retrying', actions: [record, 'scheduleRetry'] },
    { guard: `is${g}CompleteWithMedia`, target: 'inserted', actions: [record, 'endOp', 'adoptOpMedia'] },
    { guard: `is${g}CompleteEmpty`, target: 'empty', actions: [record, 'endOp', 'adoptOpMedia'] },
    { guard: `is${g}InsertPhase`, target: 'inserting', actions: record },
    { guard: `is${g}Progress`, actions: [record, 'assignDevice'] },
    { actions: 'assignDevice' },
  ] as const;
}

/** The transitions of the three in-progress states for the command's own result and the clock. */
const ownTransitions = {
  'cd.result': [
    { guard: 'isOwnSuccessWithMedia', target: 'inserted', actions: ['recordResult', 'endOp', 'adoptOpMedia'] },
    { guard: 'isOwnSuccess', target: 'empty', actions: ['recordResult', 'endOp', 'adoptOpMedia'] },
    { guard: 'isOwnLockedFailure', target: 'locked', actions: ['recordResult', 'lockTray'] },
    { guard: 'isOwnResult', target: 'failed', actions: ['recordResult', 'endOp'] },
  ],
  'cd.request': { actions: 'recordBusyRequest' },
} as const;

/** The transitions of the idle states: a new change, media seen in xenstore, a restart, the guest's tray. */
const idleTransitions = {
  'cd.request': [
    { guard: 'isStubdomVdevRefused', target: 'failed', actions: ['startOp', 'refuseVdev'] },
    { target: 'ejecting', actions: 'startOp' },
  ],
  'cd.device': [
    { guard: 'isRecreated', target: '#cdrom.resync', actions: 'resetForRecreate' },
    { guard: 'isOwnMediaChange', target: '#cdrom.resync', actions: ['assignDevice', 'syncMedia'] },
    { actions: 'assignDevice' },
  ],
  'cd.params': [
    { guard: 'isOwnMediaChange', target: '#cdrom.resync', actions: 'syncMedia' },
    { guard: 'isOwnEntry', actions: 'syncMedia' },
  ],
  'cd.type': { guard: 'isOwnEntry', actions: 'syncBackendType' },
  'cd.tray': { actions: 'recordTray' },
  'cd.result': { guard: 'isOwnResult', actions: 'recordResult' },
} as const;

export const cdromMachine = setup({
  types: {
    context: {} as CdromContext,
    events: {} as CdromEvent,
    input: {} as CdromInput,
  },
  guards: {
    isEjectLocked: ejectGuards.isLocked,
    isEjectFatal: ejectGuards.isFatal,
    isEjectRetriesExhausted: ejectGuards.isRetriesExhausted,
    isEjectChangeFailed: ejectGuards.isChangeFailed,
    isEjectCompleteWithMedia: ejectGuards.isCompleteWithMedia,
    isEjectCompleteEmpty: ejectGuards.isCompleteEmpty,
    isEjectInsertPhase: ejectGuards.isInsertPhase,
    isEjectProgress: ejectGuards.isProgress,
    isInsertLocked: insertGuards.isLocked,
    isInsertFatal: insertGuards.isFatal,
    isInsertRetriesExhausted: insertGuards.isRetriesExhausted,
    isInsertChangeFailed: insertGuards.isChangeFailed,
    isInsertCompleteWithMedia: insertGuards.isCompleteWithMedia,
    isInsertCompleteEmpty: insertGuards.isCompleteEmpty,
    isInsertInsertPhase: insertGuards.isInsertPhase,
    isInsertProgress: insertGuards.isProgress,
    /** The guest's own vbd showed up under a new domid: the domain was restarted. */
    isRecreated: ({ context, event }) =>
      event.type === 'cd.device' && !event.fromStubdom && context.domid !== undefined && event.domid !== context.domid,
    /** Entries of the place libxl keeps this CD-ROM's media: the stub domain's copy when there is one. */
    isOwnEntry: ({ context, event }) =>
      (event.type === 'cd.params' || event.type === 'cd.type' || event.type === 'cd.device') &&
      event.fromStubdom === context.stubdom,
    /** `params` on our entries now says something other than the state shows. */
    isOwnMediaChange: ({ context, event }) => {
      if (!((event.type === 'cd.params' || event.type === 'cd.device') && event.fromStubdom === context.stubdom))
        return false;
      const params = paramsOf(context, event);
      if (params === undefined) return false;
      return (params === '') !== (context.mediaPath === undefined) || params !== context.params;
    },
    isStubdomVdevRefused: ({ context, event }) =>
      event.type === 'cd.request' && (event.stubdom || context.stubdom) && tryStubdomFdset(event.vdev) === undefined,
    isOwnResult: ({ context, event }) => event.type === 'cd.result' && context.op?.cmd === event.cmd,
    isOwnSuccess: ({ context, event }) => event.type === 'cd.result' && context.op?.cmd === event.cmd && event.ok,
    isOwnSuccessWithMedia: ({ context, event }) =>
      event.type === 'cd.result' && context.op?.cmd === event.cmd && event.ok && context.op.path !== undefined,
    isOwnLockedFailure: ({ context, event }) =>
      event.type === 'cd.result' && context.op?.cmd === event.cmd && !event.ok && isLockedText(event.error),
    /** A failed change whose own command then reported success: the observation wins over the timeout. */
    isLateSuccess: ({ context, event }) =>
      event.type === 'cd.result' && context.op?.cmd === event.cmd && event.ok && context.op.result === undefined,
    isOpTimedOut: ({ context, event }) =>
      event.type === 'clock.tick' && context.op !== undefined && event.ts >= context.op.opDeadline,
    isRetryDue: ({ context, event }) =>
      event.type === 'clock.tick' && context.op?.retryAt !== undefined && event.ts >= context.op.retryAt,
    hasMedia: ({ context }) => context.mediaPath !== undefined,
    isTrayOpened: ({ event }) => event.type === 'cd.tray' && event.open,
  },
  actions: {
    /** Keep what the device's xenstore entries say about it (domid, vdev, stub domain). */
    assignDevice: assign(({ context, event }) => {
      if (event.type !== 'cd.device') return {};
      return {
        domid: event.fromStubdom ? context.domid : event.domid,
        vdev: event.vdev ?? context.vdev,
        stubdom: context.stubdom || event.stubdom || event.fromStubdom,
      };
    }),
    /** Media changed outside a change of ours (restart scan, another tool): follow params. */
    syncMedia: assign(({ context, event }) => {
      const params = paramsOf(context, event);
      if (params === undefined) return {};
      return { params, mediaPath: mediaPathOf(params) };
    }),
    /** The backend type says how params is written (qdisk `<fmt>:<path>`, phy the raw path). */
    syncBackendType: assign(({ event }) => (event.type === 'cd.type' ? { backendType: event.value } : {})),
    /** The same device under a new domid: a change in flight died with the old domain. */
    resetForRecreate: assign(({ context, event }) => {
      if (event.type !== 'cd.device') return {};
      const params = event.params ?? context.params;
      return {
        domid: event.domid,
        vdev: event.vdev ?? context.vdev,
        stubdom: event.stubdom,
        params,
        mediaPath: params === undefined ? undefined : mediaPathOf(params),
        deadline: undefined,
        forceEjectOffered: false,
        trayOpen: undefined,
        op: context.op ? { ...context.op, ended: true, retryAt: undefined } : undefined,
      };
    }),
    /** A person asked for a change: start its timeline and its 40 s clock. */
    startOp: assign(({ context, event }) => {
      if (event.type !== 'cd.request') return {};
      const stubdom = context.stubdom || event.stubdom;
      const opDeadline = event.ts + CD_OPERATION_TIMEOUT_MS;
      return {
        stubdom,
        vdev: event.vdev,
        attempts: 0,
        lastError: undefined,
        fdset: stubdom ? tryStubdomFdset(event.vdev) : undefined,
        deadline: opDeadline,
        op: {
          cmd: event.cmd,
          op: event.op,
          user: event.user,
          ...(event.op === 'cd-insert' && event.path ? { path: event.path } : {}),
          force: event.op === 'cd-force-eject',
          startSeq: event.seq,
          startTs: event.ts,
          opDeadline,
          stubDetached: false,
          ended: false,
        },
        timeline: [
          {
            seq: event.seq,
            ts: event.ts,
            source: 'cmd' as const,
            step: event.op,
            ok: true,
            detail: event.path ? `${event.vdev} ${event.path}` : event.vdev,
          },
        ],
      };
    }),
    /** libxl refuses a stub-domain change for a vdev that is not hdX or xvdY before doing anything. */
    refuseVdev: assign(({ context, event }) => {
      if (event.type !== 'cd.request') return {};
      const error = `disk->vdev "${event.vdev}" isn't hdX or xvdY`;
      return {
        lastError: error,
        deadline: undefined,
        op: context.op ? { ...context.op, ended: true } : undefined,
        timeline: append(context.timeline, { seq: event.seq, ts: event.ts, source: 'cmd', step: 'vdev-refused', ok: false, detail: error }),
      };
    }),
    /** Keep each observed step of the eject phase, and what it teaches. */
    recordEjectStep: assign((a) => recordVerdict('eject', a)),
    /** Keep each observed step of the insert phase, and what it teaches. */
    recordInsertStep: assign((a) => recordVerdict('insert', a)),
    /** A failed blockdev-change-medium is retried 100 ms later: count it and wait. */
    scheduleRetry: assign(({ context, event }) => {
      if (!context.op) return {};
      const retryAt = event.ts + CHANGE_RETRY_MS;
      const op = { ...context.op, retryAt };
      return { attempts: context.attempts + 1, op, deadline: nextDeadline(op.opDeadline, retryAt) };
    }),
    /** The retry is due: libxl sends blockdev-change-medium again. */
    startRetry: assign(({ context, event }) => {
      if (!context.op) return {};
      const op = { ...context.op, retryAt: undefined };
      return {
        op,
        deadline: nextDeadline(op.opDeadline, undefined),
        timeline: append(context.timeline, { seq: event.seq, ts: event.ts, source: 'clock', step: 'retry', ok: true, detail: `retry ${context.attempts}` }),
      };
    }),
    /** The tenth retry failed too: libxl gives up. */
    failRetriesExhausted: assign(({ context }) => ({
      lastError: `blockdev-change-medium failed after ${context.attempts} retries${context.lastError ? `: ${context.lastError}` : ''}`,
      deadline: undefined,
      op: context.op ? { ...context.op, ended: true, retryAt: undefined } : undefined,
    })),
    /** libxl's 40 s timer fired: the change is abandoned. */
    recordTimeout: assign(({ context, event }) => ({
      lastError: `timed out after ${CD_OPERATION_TIMEOUT_MS / 1000} s${context.lastError ? ` (last error: ${context.lastError})` : ''}`,
      deadline: undefined,
      op: context.op ? { ...context.op, ended: true, retryAt: undefined } : undefined,
      timeline: append(context.timeline, { seq: event.seq, ts: event.ts, source: 'clock', step: 'timeout', ok: false }),
    })),
    /** The change is over, one way or another: stop waiting. */
    endOp: assign(({ context }) => ({
      deadline: undefined,
      forceEjectOffered: false,
      op: context.op ? { ...context.op, ended: true, retryAt: undefined } : undefined,
    })),
    /** QEMU refused to eject a locked tray: offer the forced eject, the only way out. */
    lockTray: assign(({ context }) => ({
      deadline: undefined,
      forceEjectOffered: true,
      trayOpen: false,
      lastError:
        context.lastError ?? `Device 'ide-${context.devid}' is locked and force was not specified, wait for tray to open and try again`,
      op: context.op ? { ...context.op, ended: true, retryAt: undefined } : undefined,
    })),
    /** The change succeeded: the media is what it asked for (params follows in xenstore). */
    adoptOpMedia: assign(({ context }) => {
      const path = context.op?.path;
      if (path === undefined) return { mediaPath: undefined };
      return { mediaPath: path, lastError: undefined };
    }),
    /** The guest opened the tray itself: it is no longer locked, and the media did not change. */
    releaseLock: assign({ forceEjectOffered: false, trayOpen: true }),
    /** The guest moved the tray by itself: note it, the media stays as params say. */
    recordTray: assign(({ event }) => (event.type === 'cd.tray' ? { trayOpen: event.open } : {})),
    /** Keep the command's own verdict on the change in its timeline. */
    recordResult: assign(({ context, event }) => {
      if (event.type !== 'cd.result' || !context.op) return {};
      return {
        ...(event.ok ? {} : { lastError: event.error ?? context.lastError ?? 'command failed' }),
        op: { ...context.op, result: { ok: event.ok, ...(event.error !== undefined ? { error: event.error } : {}) } },
        timeline: append(context.timeline, {
          seq: event.seq,
          ts: event.ts,
          source: 'cmd',
          step: 'result',
          ok: event.ok,
          ...(event.error !== undefined ? { detail: event.error } : {}),
        }),
      };
    }),
    /** Another change was asked for while one runs: libxl queues it behind the QMP lock; note it. */
    recordBusyRequest: assign(({ context, event }) => {
      if (event.type !== 'cd.request') return {};
      return {
        timeline: append(context.timeline, { seq: event.seq, ts: event.ts, source: 'cmd', step: `${event.op} (while busy)`, ok: true }),
      };
    }),
  },
}).createMachine({
  id: 'cdrom',
  context: ({ input }) => ({
    uuid: input.uuid,
    ...(input.domid !== undefined ? { domid: input.domid } : {}),
    devid: input.devid,
    ...(input.vdev !== undefined ? { vdev: input.vdev } : {}),
    stubdom: input.stubdom ?? false,
    attempts: 0,
    forceEjectOffered: false,
    timeline: [],
  }),
  initial: 'empty',
  states: {
    /** Transient: pick empty or inserted from the media just learnt. Never observable. */
    resync: {
      always: [{ guard: 'hasMedia', target: 'inserted' }, { target: 'empty' }],
    },
    empty: { on: idleTransitions },
    inserted: { on: idleTransitions },
    ejecting: {
      on: {
        ...ownTransitions,
        'cd.qmp': progressTransitions('eject'),
        'cd.step': progressTransitions('eject'),
        'cd.params': progressTransitions('eject'),
        'cd.type': progressTransitions('eject'),
        'cd.detached': progressTransitions('eject'),
        'cd.device': progressTransitions('eject'),
        'cd.tray': progressTransitions('eject'),
        'clock.tick': { guard: 'isOpTimedOut', target: 'failed', actions: 'recordTimeout' },
      },
    },
    inserting: {
      on: {
        ...ownTransitions,
        'cd.qmp': progressTransitions('insert'),
        'cd.step': progressTransitions('insert'),
        'cd.params': progressTransitions('insert'),
        'cd.type': progressTransitions('insert'),
        'cd.detached': progressTransitions('insert'),
        'cd.device': progressTransitions('insert'),
        'cd.tray': progressTransitions('insert'),
        'clock.tick': { guard: 'isOpTimedOut', target: 'failed', actions: 'recordTimeout' },
      },
    },
    retrying: {
      on: {
        ...ownTransitions,
        'cd.qmp': progressTransitions('insert'),
        'cd.step': progressTransitions('insert'),
        'cd.params': progressTransitions('insert'),
        'cd.type': progressTransitions('insert'),
        'cd.detached': progressTransitions('insert'),
        'cd.device': progressTransitions('insert'),
        'cd.tray': progressTransitions('insert'),
        'clock.tick': [
          { guard: 'isOpTimedOut', target: 'failed', actions: 'recordTimeout' },
          { guard: 'isRetryDue', target: 'inserting', actions: 'startRetry' },
        ],
      },
    },
    locked: {
      on: {
        ...idleTransitions,
        'cd.tray': [
          { guard: 'isTrayOpened', target: 'resync', actions: ['recordTray', 'releaseLock'] },
          { actions: 'recordTray' },
        ],
      },
    },
    failed: {
      on: {
        ...idleTransitions,
        'cd.params': { guard: 'isOwnEntry', actions: 'syncMedia' },
        'cd.device': [
          { guard: 'isRecreated', target: 'resync', actions: 'resetForRecreate' },
          { actions: ['assignDevice', 'syncMedia'] },
        ],
        'cd.result': [
          { guard: 'isLateSuccess', target: 'resync', actions: ['recordResult', 'endOp', 'adoptOpMedia'] },
          { guard: 'isOwnResult', actions: 'recordResult' },
        ],
      },
    },
  },
});
