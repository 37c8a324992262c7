/**
 * The domain lifecycle, one actor per domain uuid (`domain:<uuid>`).
 *
 * States (DESIGN.md section 5): `creating` → `running` ⇄ `paused`;
 * `shuttingDown` (a request sits in `control/shutdown`); `shutdown.<reason>`
 * (poweroff, reboot, suspend, crash, watchdog, soft_reset); `softResetting`;
 * `dying`; `gone`.
 *
 * Invariants:
 * - Events about another domid than `context.domid` never move the current
 *   domain, except a *new* domid appearing under this uuid, which is a restart
 *   (xl re-creates the domain with the same uuid and a new domid): the restart
 *   is counted and the old domid's late release / removal is ignored.
 * - A soft reset keeps the domid: `softResetting` absorbs the two releases and
 *   the subtree removal and ends when the same domid is introduced again.
 *   libxl refuses to soft-reset a domain that is not HVM (seed 004:
 *   `libxl_domain_soft_reset` returns ERROR_INVAL), and xl then destroys the
 *   domain; such a domain stays `shutdown.soft_reset` with
 *   `softResetRefused` until it dies.
 * - Watches coalesce and dominfo is polled, so any state may be skipped; an
 *   event that does not apply is ignored, never thrown on.
 * - `gone` is not final: a new domid under the same uuid brings it back.
 * - No timers: nothing here waits on the clock (`clock.tick` is ignored).
 */
import { and, assign, setup } from 'xstate';
import type { ShutdownReason } from '../events/record.ts';
import type { DomainContext, DomainEvent, DomainInput } from './domain.types.ts';

/** The domid an event speaks of, when it names one. */
function eventDomid(event: DomainEvent): number | undefined {
  if (event.type === 'domain.xl') {
    const d = event.decision;
    return 'domid' in d ? d.domid : undefined;
  }
  return 'domid' in event ? event.domid : undefined;
}

function isCurrent(context: DomainContext, event: DomainEvent): boolean {
  const d = eventDomid(event);
  return d === undefined || context.domid === undefined || d === context.domid;
}

/** The shutdown reason an event shows for the current domid (dominfo or xl's monitor line), if any. */
function shownShutdown(context: DomainContext, event: DomainEvent): ShutdownReason | undefined {
  if (!isCurrent(context, event)) return undefined;
  if (event.type === 'domain.info') return event.shutdown && !event.dying ? event.reason : undefined;
  if (event.type === 'domain.xl' && event.decision.kind === 'shutdown') return event.decision.reason;
  return undefined;
}

type ActionName = 'setName' | 'setDomid' | 'recordShutdown' | 'markSoftResetRefused' | 'recordXl';
type GuardRef =
  | 'hasDying'
  | 'hasPaused'
  | 'hasRunning'
  | 'isCurrentDomid'
  | 'hasRefusedSoftReset'
  | 'hasXlDestroyed'
  | 'hasXlExitAfterDestroy'
  | { type: 'hasShutdown'; params: { reason: ShutdownReason } };
interface Edge {
  guard: GuardRef;
  target?: string;
  actions?: ActionName[];
}

type Place = 'creating' | 'running' | 'paused' | 'shuttingDown' | ShutdownReason;

const REASONS: readonly ShutdownReason[] = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'];

/**
 * The shutdown transitions shared by `domain.info` and xl's "has shut down"
 * line: every reason but the one the domain is already in. A soft_reset
 * shutdown goes to `softResetting`, unless the domain is known not to be HVM.
 */
function shutdownTransitions(from: Place | undefined, extra: ActionName[]): Edge[] {
  const list: Edge[] = [];
  for (const reason of REASONS) {
    if (reason === from) continue;
    if (reason === 'soft_reset') {
      list.push({
        guard: 'hasRefusedSoftReset',
        target: '#domain.shutdown.soft_reset',
        actions: [...extra, 'recordShutdown', 'markSoftResetRefused'],
      });
      list.push({
        guard: { type: 'hasShutdown', params: { reason } },
        target: '#domain.softResetting',
        actions: [...extra, 'recordShutdown'],
      });
      continue;
    }
    list.push({
      guard: { type: 'hasShutdown', params: { reason } },
      target: `#domain.shutdown.${reason}`,
      actions: [...extra, 'recordShutdown'],
    });
  }
  return list;
}

/** dominfo polls, by precedence: dying, shutdown, paused, running. Ignored when they change nothing. */
function infoTransitions(from?: Place): Edge[] {
  const list: Edge[] = [
    { guard: 'hasDying', target: '#domain.dying', actions: ['setName'] },
    ...shutdownTransitions(from, ['setName']),
  ];
  if (from === 'shuttingDown') {
    // Still up while it shuts down: stay.
    list.push({ guard: 'isCurrentDomid', actions: ['setName'] });
    return list;
  }
  if (from === 'soft_reset') {
    // A refused soft reset ends in destruction; nothing brings it back to life.
    list.push({ guard: 'isCurrentDomid' });
    return list;
  }
  if (from !== 'paused') list.push({ guard: 'hasPaused', target: '#domain.paused', actions: ['setDomid', 'setName'] });
  if (from !== 'running') list.push({ guard: 'hasRunning', target: '#domain.running', actions: ['setDomid', 'setName'] });
  list.push({ guard: 'isCurrentDomid', actions: ['setName'] });
  return list;
}

/** xl's log: its "has shut down" line is a shutdown observation too; "has been destroyed" means gone. */
function xlTransitions(from?: Place): Edge[] {
  return [
    ...shutdownTransitions(from === 'creating' ? undefined : from, ['recordXl']),
    { guard: 'hasXlDestroyed', target: '#domain.gone', actions: ['recordXl'] },
    // xl's monitor exits once it has destroyed the domain ("Done. Exiting now"); with
    // preserve the domain stays, so only a destroy action means it is gone.
    { guard: 'hasXlExitAfterDestroy', target: '#domain.gone', actions: ['recordXl'] },
  ];
}

const NOT_HVM = new Set(['pv', 'pvh']);

export const domainMachine = setup({
  types: {
    context: {} as DomainContext,
    events: {} as DomainEvent,
    input: {} as DomainInput,
  },
  guards: {
    /** The event's domid is this domain's current one (or either is unknown). */
    isCurrentDomid: ({ context, event }) => isCurrent(context, event),
    /** A domid this uuid has not had: xl re-created the domain (restart). */
    isNewDomid: ({ context, event }) => {
      const d = eventDomid(event);
      if (d === undefined || context.domid === undefined) return false;
      if (d === context.domid || d === context.previousDomid) return false;
      // A late poll of a dead domid is not a restart; only a live one is.
      if (event.type === 'domain.info') return !event.dying && !event.shutdown;
      return event.type === 'domain.introduce' || event.type === 'domain.vm';
    },
    /** The same domid is introduced again (soft reset, or a release we misread). */
    isSameDomidIntroduce: ({ context, event }) =>
      event.type === 'domain.introduce' && (context.domid === undefined || event.domid === context.domid),
    /** dominfo flags say paused (whatever the domid). */
    showsPausedFlags: ({ event }) => event.type === 'domain.info' && !event.dying && !event.shutdown && event.paused,
    hasDying: ({ context, event }) => event.type === 'domain.info' && isCurrent(context, event) && event.dying,
    hasRunning: ({ context, event }) =>
      event.type === 'domain.info' && isCurrent(context, event) && !event.dying && !event.shutdown && !event.paused,
    hasPaused: ({ context, event }) =>
      event.type === 'domain.info' && isCurrent(context, event) && !event.dying && !event.shutdown && event.paused,
    hasShutdown: ({ context, event }, params: { reason: ShutdownReason }) =>
      shownShutdown(context, event) === params.reason,
    /** A soft_reset shutdown of a domain libxl will refuse to soft-reset (not HVM; seed 004). */
    hasRefusedSoftReset: ({ context, event }) =>
      shownShutdown(context, event) === 'soft_reset' && context.type !== undefined && NOT_HVM.has(context.type),
    /** A type write saying the domain is PV or PVH (no soft reset for those). */
    isNotHvmType: ({ context, event }) =>
      event.type === 'domain.type' && isCurrent(context, event) && NOT_HVM.has(event.domainType),
    /** xl's monitor saw the domain destroyed under it. */
    hasXlDestroyed: ({ context, event }) =>
      event.type === 'domain.xl' && event.decision.kind === 'destroyed' && isCurrent(context, event),
    /** xl's monitor exited after destroying the current domid (its last action was a destroy). */
    hasXlExitAfterDestroy: ({ context, event }) =>
      event.type === 'domain.xl' &&
      event.decision.kind === 'exiting' &&
      (context.lastAction === 'destroy' || context.lastAction === 'coredump-destroy'),
    /** During a soft reset, dominfo shows the domain running after its xenstore subtree was rebuilt. */
    hasRebuiltRunning: ({ context, event }) =>
      context.softResetRebuilt &&
      event.type === 'domain.info' &&
      isCurrent(context, event) &&
      !event.dying &&
      !event.shutdown,
  },
  actions: {
    /** Keep the domid the domain has now (learned from the first event naming it). */
    setDomid: assign({
      domid: ({ context, event }) => eventDomid(event) ?? context.domid,
    }),
    /** Names come from `~/name`, dominfo and the mirror at introduce; show the latest. */
    setName: assign({
      name: ({ context, event }) => {
        if (event.type === 'domain.name') return event.name;
        if (event.type === 'domain.info' || event.type === 'domain.introduce' || event.type === 'domain.vm') {
          return ('name' in event ? event.name : undefined) ?? context.name;
        }
        return context.name;
      },
    }),
    /** Type decides whether a soft reset can happen (HVM only). */
    setType: assign({
      type: ({ context, event }) => (event.type === 'domain.type' ? event.domainType : context.type),
    }),
    /** Links a guest to its stub domain, for the UI and device machines. */
    setStubdom: assign({
      stubdomId: ({ context, event }) => (event.type === 'domain.stubdom' ? event.stubdomId : context.stubdomId),
    }),
    /** Marks a stub domain with the guest it serves. */
    setTarget: assign({
      targetDomid: ({ context, event }) => (event.type === 'domain.target' ? event.targetDomid : context.targetDomid),
    }),
    /** Remember what was asked, so the UI can say "reboot requested, not yet acknowledged". */
    recordRequest: assign({
      shutdownRequest: ({ context, event }) => (event.type === 'domain.shutdown.request' ? event.request : context.shutdownRequest),
      shutdownAcked: false,
    }),
    /** The guest wrote "" back: it took the request (which does not mean it stopped). */
    recordAck: assign({ shutdownAcked: true }),
    /** A shutdown begins an episode: its reason and seq anchor incidents. */
    recordShutdown: assign(({ context, event }) => {
      const reason = shownShutdown(context, event);
      // xl may log its decision before the poll shows the shutdown: take the action logged while the domain looked up.
      const p = context.pendingAction;
      const early = p !== undefined && (p.reason === reason || p.reason === undefined) ? p.action : undefined;
      return {
        lastShutdownReason: reason,
        lastShutdownSeq: event.seq,
        episodeStart: event.seq,
        shutdownRequest: undefined,
        shutdownAcked: false,
        lastAction: early,
        pendingAction: undefined,
      };
    }),
    /** libxl returns ERROR_INVAL for a soft reset of a non-HVM domain; xl destroys it instead (seed 004). */
    markSoftResetRefused: assign({ softResetRefused: true }),
    /** Keep xl's decisions: on_* actions by reason, the action after the last shutdown. */
    recordXl: assign(({ context, event }) => {
      if (event.type !== 'domain.xl') return {};
      const d = event.decision;
      if (d.kind !== 'action') return { lastXl: d, lastXlSeq: event.seq };
      const onActions = d.reason ? { ...context.onActions, [d.reason]: d.action } : context.onActions;
      const refused = d.action === 'soft-reset' && context.type !== undefined && NOT_HVM.has(context.type);
      return {
        lastXl: d,
        lastXlSeq: event.seq,
        lastAction: d.action,
        // Logged before any shutdown was seen: keep it for the shutdown the poll is about to show.
        pendingAction: context.episodeStart === undefined ? { reason: d.reason, action: d.action } : undefined,
        onActions,
        softResetRefused: context.softResetRefused || refused,
      };
    }),
    /** A new domid under this uuid: xl re-created the domain. Per-domid facts start over. */
    beginRestart: assign(({ context, event }) => ({
      previousDomid: context.domid,
      domid: eventDomid(event) ?? context.domid,
      restartCount: context.restartCount + 1,
      restartPending: true,
      restartAfterReason: context.episodeStart !== undefined ? context.lastShutdownReason : undefined,
      stubdomId: undefined,
      shutdownRequest: undefined,
      shutdownAcked: false,
      softResetRefused: false,
      softResetRebuilt: false,
    })),
    /** Entering `running` ends any shutdown episode, and a pending restart: remember where, for the crash-restart range. */
    noteRunning: assign(({ context, event }) =>
      context.restartPending
        ? { restartPending: false, restartRunningSeq: event.seq, episodeStart: undefined }
        : { episodeStart: undefined },
    ),
    /** The soft-reset subtree was written again for the same domid (re-creation under way). */
    markRebuilt: assign({ softResetRebuilt: true }),
    /** The same domid came back: one more soft reset done. */
    finishSoftReset: assign(({ context, event }) => ({
      softResetCount: context.softResetCount + 1,
      softResetDoneSeq: event.seq,
      softResetRebuilt: false,
    })),
  },
}).createMachine({
  id: 'domain',
  context: ({ input }) => ({
    uuid: input.uuid,
    domid: input.domid,
    name: input.name,
    type: undefined,
    stubdomId: undefined,
    targetDomid: undefined,
    onActions: {},
    shutdownRequest: undefined,
    shutdownAcked: false,
    lastShutdownReason: undefined,
    lastShutdownSeq: undefined,
    lastAction: undefined,
    softResetRefused: false,
    softResetRebuilt: false,
    restartCount: 0,
    softResetCount: 0,
    previousDomid: undefined,
    restartPending: false,
    restartAfterReason: undefined,
    episodeStart: undefined,
    restartRunningSeq: undefined,
    softResetDoneSeq: undefined,
    lastXl: undefined,
    lastXlSeq: undefined,
    pendingAction: undefined,
  }),
  initial: 'creating',
  on: {
    // A new domid under this uuid, from whichever record shows it first.
    'domain.vm': [{ guard: 'isNewDomid', target: '.creating', actions: ['beginRestart', 'setName'] }],
    'domain.introduce': [
      { guard: 'isNewDomid', target: '.running', actions: ['beginRestart', 'setName', 'noteRunning'] },
    ],
    'domain.info': [
      { guard: and(['isNewDomid', 'showsPausedFlags']), target: '.paused', actions: ['beginRestart', 'setName'] },
      { guard: 'isNewDomid', target: '.running', actions: ['beginRestart', 'setName', 'noteRunning'] },
    ],
    'domain.name': [{ guard: 'isCurrentDomid', actions: 'setName' }],
    'domain.type': [{ guard: 'isCurrentDomid', actions: 'setType' }],
    'domain.stubdom': [{ guard: 'isCurrentDomid', actions: 'setStubdom' }],
    'domain.target': [{ guard: 'isCurrentDomid', actions: 'setTarget' }],
    'domain.xl': { actions: 'recordXl' },
  },
  states: {
    creating: {
      on: {
        'domain.introduce': [{ guard: 'isSameDomidIntroduce', target: 'running', actions: ['setDomid', 'setName'] }],
        'domain.vm': [{ guard: 'isCurrentDomid', actions: ['setDomid', 'setName'] }],
        'domain.info': infoTransitions(),
        'domain.xl': xlTransitions(),
        'domain.shutdown.request': [{ guard: 'isCurrentDomid', target: 'shuttingDown', actions: 'recordRequest' }],
        'domain.removed': [{ guard: 'isCurrentDomid', target: 'gone' }],
      },
    },
    running: {
      entry: 'noteRunning',
      on: {
        'domain.info': infoTransitions('running'),
        'domain.xl': xlTransitions(),
        'domain.shutdown.request': [{ guard: 'isCurrentDomid', target: 'shuttingDown', actions: 'recordRequest' }],
        'domain.removed': [{ guard: 'isCurrentDomid', target: 'gone' }],
      },
    },
    paused: {
      on: {
        'domain.info': infoTransitions('paused'),
        'domain.xl': xlTransitions(),
        'domain.shutdown.request': [{ guard: 'isCurrentDomid', target: 'shuttingDown', actions: 'recordRequest' }],
        'domain.removed': [{ guard: 'isCurrentDomid', target: 'gone' }],
      },
    },
    shuttingDown: {
      on: {
        // The guest keeps running (or is paused) while it shuts down: only a shutdown or death moves on.
        'domain.info': infoTransitions('shuttingDown'),
        'domain.xl': xlTransitions(),
        'domain.shutdown.request': [{ guard: 'isCurrentDomid', actions: 'recordRequest' }],
        'domain.shutdown.ack': [{ guard: 'isCurrentDomid', actions: 'recordAck' }],
        'domain.removed': [{ guard: 'isCurrentDomid', target: 'gone' }],
      },
    },
    shutdown: {
      initial: 'poweroff',
      on: {
        'domain.removed': [{ guard: 'isCurrentDomid', target: 'gone' }],
      },
      states: {
        poweroff: { on: { 'domain.info': infoTransitions('poweroff'), 'domain.xl': xlTransitions('poweroff') } },
        reboot: { on: { 'domain.info': infoTransitions('reboot'), 'domain.xl': xlTransitions('reboot') } },
        // A suspended domain may be resumed (cancelled suspend): a running poll brings it back.
        suspend: { on: { 'domain.info': infoTransitions('suspend'), 'domain.xl': xlTransitions('suspend') } },
        crash: { on: { 'domain.info': infoTransitions('crash'), 'domain.xl': xlTransitions('crash') } },
        watchdog: { on: { 'domain.info': infoTransitions('watchdog'), 'domain.xl': xlTransitions('watchdog') } },
        // Reached only when the soft reset is refused (not HVM): the domain waits to be destroyed.
        soft_reset: { on: { 'domain.info': infoTransitions('soft_reset'), 'domain.xl': xlTransitions('soft_reset') } },
      },
    },
    softResetting: {
      on: {
        // Both @releaseDomain firings and the subtree removal belong to the soft reset.
        'domain.vm': [{ guard: 'isCurrentDomid', actions: ['markRebuilt', 'setName'] }],
        'domain.introduce': [
          { guard: 'isSameDomidIntroduce', target: 'running', actions: ['finishSoftReset', 'setName'] },
        ],
        'domain.info': [
          { guard: 'hasDying', target: 'dying' },
          { guard: 'hasRebuiltRunning', target: 'running', actions: 'finishSoftReset' },
          { guard: 'isCurrentDomid' },
        ],
        'domain.xl': [{ guard: 'hasXlDestroyed', target: 'gone', actions: 'recordXl' }],
        // Learning now that the domain is not HVM: libxl will refuse the soft reset (seed 004).
        'domain.type': [
          { guard: 'isNotHvmType', target: '#domain.shutdown.soft_reset', actions: ['setType', 'markSoftResetRefused'] },
        ],
      },
    },
    dying: {
      on: {
        'domain.release': [{ guard: 'isCurrentDomid', target: 'gone' }],
        'domain.removed': [{ guard: 'isCurrentDomid', target: 'gone' }],
        'domain.xl': [{ guard: 'hasXlDestroyed', target: 'gone', actions: 'recordXl' }],
        'domain.info': [{ guard: 'isCurrentDomid' }],
      },
    },
    gone: {
      on: {
        // The same domid introduced again after we took it for gone: it is alive after all.
        'domain.introduce': [{ guard: 'isSameDomidIntroduce', target: 'running', actions: 'setName' }],
        // Log tails are read after xenstore: xl's line about why the domain shut down can arrive once
        // its subtree is already gone (a fast destroy that no dominfo poll caught). Take the evidence.
        'domain.xl': shutdownTransitions(undefined, ['recordXl']),
        'domain.info': [
          { guard: 'hasRunning', target: 'running' },
          { guard: 'hasPaused', target: 'paused' },
          { guard: 'isCurrentDomid' },
        ],
      },
    },
  },
});

export type DomainMachine = typeof domainMachine;
