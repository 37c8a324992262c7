/** Types of the ninepfs machine (a 9pfs device served by xen-9pfsd, backend kind `xen_9pfs`). */
import type { Side } from '../xenbus/xenbus.paths.ts';

export type { Side } from '../xenbus/xenbus.paths.ts';

/** xen-9pfsd's limits (tools/9pfsd xen-9pfsd.h). */
export const MAX_RINGS = 4;
export const MAX_RING_ORDER = 9;

/** What xen-9pfsd must do with the device now (the `daemon` region). */
export const DAEMON_STATES = ['probing', 'refused', 'published', 'connected', 'closing', 'closed', 'removed'] as const;
export type DaemonState = (typeof DAEMON_STATES)[number];

/** Whether the observed backend did what xen-9pfsd must do (the `observed` region). */
export const VERDICTS = ['pending', 'complied', 'deviated'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Why the device was refused or closed by xen-9pfsd's own checks. */
export type FailureCause = 'probe' | 'validation' | 'unobserved';

export interface NinepfsInput {
  uuid: string;
  domid: number;
  devid: number;
}

export interface NinepfsContext extends NinepfsInput {
  backendDomid: number | undefined;
  /** Frontend keys as observed (state, version, num-rings, event-channel-N, ring-refN, ring-page-order, backend). */
  fe: Record<string, string>;
  /** Backend keys as observed (state, security_model, path, versions, max-rings, max-ring-page-order). */
  be: Record<string, string>;
  feSeen: boolean;
  feGone: boolean;
  beSeen: boolean;
  beGone: boolean;
  /** xen-9pfsd's own copy of the frontend state (device->frontend_state), 0 at probe. */
  daemonFrontendState: number;
  /** The expected verdict: what xen-9pfsd must do. */
  expect: DaemonState;
  /** Seq of the record that set `expect`. */
  expectSeq: number | undefined;
  /** Why the backend must be (or stay) closed, e.g. `num-rings 5 out of 1..4`. */
  closeReason: string | undefined;
  /** Set when the close or refusal comes from xen-9pfsd's own checks (a handshake failure). */
  failedBy: FailureCause | undefined;
  /** Whether the observed backend did it. */
  verdict: Verdict;
  /** What the backend did instead, when `verdict` is `deviated`. */
  deviation: string | undefined;
  /** The last frontend state string xen-9pfsd would read as Unknown. */
  lastUnknown: { value: string; seq: number } | undefined;
  created: { seq: number; ts: number } | undefined;
  /**
   * Keys a judgement needs that have not been observed yet. Watches carry no value and the
   * helper reads each node after its watch fired, so keys written in one transaction can be
   * observed after the daemon's reaction to them. The verdict waits for them until `deadline`
   * (record clock), then is made with what was observed.
   */
  awaiting: 'backend-keys' | 'frontend-keys' | 'removal' | undefined;
  deadline: number | undefined;
}

export interface NinepfsKey {
  side: Side;
  key: string;
  value: string;
  backendDomid?: number;
}

export interface NinepfsWriteEvent extends NinepfsKey {
  type: 'ninepfs.write';
  ts: number;
  seq: number;
  domid: number;
  /** Keys already in the mirror when this delivery creates the actor. */
  prior?: NinepfsKey[];
}

/** A key, or the whole directory (key ''), removed under one side. */
export interface NinepfsRmEvent {
  type: 'ninepfs.rm';
  ts: number;
  seq: number;
  domid: number;
  side: Side;
  key: string;
}

export interface NinepfsTickEvent {
  type: 'clock.tick';
  ts: number;
  seq: number;
}

export type NinepfsEvent = NinepfsWriteEvent | NinepfsRmEvent | NinepfsTickEvent;
