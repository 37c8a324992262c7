/**
 * Types of the domain lifecycle machine: its input, context and events.
 * Every event carries the record clock (`ts`) and the record's `seq`.
 */
import type { ShutdownReason, Vocabulary } from '../events/record.ts';
import type { DomainType } from '../host/binding.ts';
import type { OnShutdownAction, XlDecision } from './xl-log.ts';

/** A shutdown request written to `~/control/shutdown` (Linux also accepts `halt`). */
export type ShutdownRequest = 'poweroff' | 'reboot' | 'suspend' | 'halt';
export const SHUTDOWN_REQUESTS: readonly ShutdownRequest[] = ['poweroff', 'reboot', 'suspend', 'halt'];

/** The on_* settings when known: by shutdown reason. */
export type OnActions = Partial<Record<ShutdownReason, OnShutdownAction>>;

export interface DomainInput {
  uuid: string;
  domid?: number;
  name?: string;
}

export interface DomainContext {
  uuid: string;
  /** Current domid; changes on restart, kept on soft reset. */
  domid: number | undefined;
  name: string | undefined;
  type: DomainType | undefined;
  /** This guest's stub domain id (`image/device-model-domid`). */
  stubdomId: number | undefined;
  /** For a stub domain: the domid it serves (`~/target`). */
  targetDomid: number | undefined;
  /** on_* actions seen in xl's log, by shutdown reason. */
  onActions: OnActions;
  /** The pending request written to `control/shutdown`, until the domain shuts down. */
  shutdownRequest: ShutdownRequest | undefined;
  /** Whether the guest acknowledged that request (wrote "" back). */
  shutdownAcked: boolean;
  lastShutdownReason: ShutdownReason | undefined;
  /** seq of the record that showed the last shutdown. */
  lastShutdownSeq: number | undefined;
  /** The on_* action xl took after the last shutdown, when its log showed it. */
  lastAction: OnShutdownAction | undefined;
  /** xl tried to soft-reset a domain that is not HVM: libxl refuses (seed 004) and xl destroys it. */
  softResetRefused: boolean;
  /** During a soft reset: the subtree was removed, then `~/vm` was written again for the same domid. */
  softResetRebuilt: boolean;
  restartCount: number;
  softResetCount: number;
  /** The domid before the last restart. */
  previousDomid: number | undefined;
  /** A new domid was seen and the domain has not reached `running` since. */
  restartPending: boolean;
  /** Why the domain went down before the last restart (the reason of the shutdown that preceded the new domid). */
  restartAfterReason: ShutdownReason | undefined;
  /** seq of the shutdown that began the last restart / soft-reset episode. */
  episodeStart: number | undefined;
  /** seq at which the last restart reached `running` (the record that ended the episode). */
  restartRunningSeq: number | undefined;
  /** seq at which the last soft reset ended (re-introduce). */
  softResetDoneSeq: number | undefined;
  /** The last xl decision for this domain, for the UI. */
  lastXl: XlDecision | undefined;
  lastXlSeq: number | undefined;
  /** An on_* action xl logged before the shutdown it follows was observed. */
  pendingAction: { reason: ShutdownReason | undefined; action: OnShutdownAction } | undefined;
}

interface Stamp {
  ts: number;
  seq: number;
}

export type DomainEvent =
  /** The domain was introduced to xenstore (`@introduceDomain`). */
  | ({ type: 'domain.introduce'; domid: number } & Stamp)
  /** `/local/domain/<id>/vm` written: this uuid now has this domid (creation begins). */
  | ({ type: 'domain.vm'; domid: number } & Stamp)
  | ({ type: 'domain.name'; domid: number; name: string } & Stamp)
  | ({ type: 'domain.type'; domid: number; domainType: DomainType } & Stamp)
  | ({ type: 'domain.stubdom'; domid: number; stubdomId: number } & Stamp)
  | ({ type: 'domain.target'; domid: number; targetDomid: number } & Stamp)
  /** `control/shutdown` written with a request. */
  | ({ type: 'domain.shutdown.request'; domid: number; request: ShutdownRequest } & Stamp)
  /** `control/shutdown` written "" by the guest. */
  | ({ type: 'domain.shutdown.ack'; domid: number } & Stamp)
  /** A dominfo poll. */
  | ({ type: 'domain.info' } & Omit<Vocabulary['dominfo'], 'uuid'> & Stamp)
  /** `@releaseDomain` for this domid. */
  | ({ type: 'domain.release'; domid: number } & Stamp)
  /** `/local/domain/<id>` removed. */
  | ({ type: 'domain.removed'; domid: number } & Stamp)
  /** A line of xl's log for this domain, parsed. */
  | ({ type: 'domain.xl'; decision: XlDecision } & Stamp)
  /** The record clock passed a deadline (this machine keeps none; accepted and ignored). */
  | ({ type: 'clock.tick' } & Stamp);

export type DomainEventType = DomainEvent['type'];
