/** Types of the xenbus device machine: input, context, events. */
import type { Side } from './xenbus.paths.ts';

export type { Side } from './xenbus.paths.ts';

/** XenbusState names by value (xen/include/public/io/xenbus.h). */
export const XENBUS_STATE_NAMES = [
  'Unknown',
  'Initialising',
  'InitWait',
  'Initialised',
  'Connected',
  'Closing',
  'Closed',
  'Reconfiguring',
  'Reconfigured',
] as const;
export type XenbusStateName = (typeof XENBUS_STATE_NAMES)[number];

/** The link between the two sides, derived from both (the `link` region). */
export const LINK_STATES = ['waiting', 'connected', 'closing', 'stalled', 'failed', 'removed'] as const;
export type LinkState = (typeof LINK_STATES)[number];

/** The libxl wait a deadline belongs to. */
export type WaitPhase = 'initwait' | 'hotplug' | 'close';

/** libxl's timeouts (reference 2.4, 2.5). */
export const LIBXL_INIT_TIMEOUT_MS = 10_000;
export const LIBXL_HOTPLUG_TIMEOUT_MS = 40_000;
export const LIBXL_DESTROY_TIMEOUT_MS = 10_000;

/** Backends QEMU (or xenconsoled) serves: no InitWait wait, no hotplug script. */
export const SELF_SERVED_BACKENDS: readonly string[] = ['qdisk', 'vfb', 'vkbd', 'qusb', '9pfs', 'console'];
/** Backends whose hotplug script libxl runs in dom0 (an observed `script` key also counts). */
export const HOTPLUG_BACKENDS: readonly string[] = ['vbd', 'vif'];

export interface SideState {
  /** XenbusState value; 0 (Unknown) when absent or unparsable. */
  state: number;
  /** Whether the `state` node exists now. */
  present: boolean;
  /** Whether this side's `state` node was ever seen. */
  seen: boolean;
  /** Whether this side's `state` node (or directory) was removed after being seen. */
  gone: boolean;
}

export interface XenbusInput {
  uuid: string;
  domid: number;
  kind: string;
  devid: number;
}

export interface XenbusContext extends XenbusInput {
  backendKind: string | undefined;
  backendDomid: number | undefined;
  frontend: SideState;
  backend: SideState;
  online: string | undefined;
  hotplugStatus: string | undefined;
  hotplugError: string | undefined;
  script: string | undefined;
  /** For xen-9pfsd backends (`xen_9pfs`): `security_model` and `path`, so a refused device's stall is left to ninepfs. */
  backendConfig: Record<string, string> | undefined;
  /** First record that created (or re-created) this device. */
  created: { seq: number; ts: number } | undefined;
  /** When the backend directory was first seen (the InitWait wait starts there). */
  backendSeenTs: number | undefined;
  everConnected: boolean;
  /** libxl started removal (online=0): the backend must reach Closed in 10 s. */
  removingSince: { seq: number; ts: number } | undefined;
  /** Seq at which the backend began its current round after a removal (detached and attached again at the same path). */
  roundSeq: number | undefined;
  /** Seq of the last observed frontend `state` write. */
  frontendStateSeq: number | undefined;
  /** The libxl wait in progress, if any. */
  phase: WaitPhase | undefined;
  phaseSince: { seq: number; ts: number } | undefined;
  /** Absolute ms on the record clock; the router sends clock.tick when it passes. */
  deadline: number | undefined;
  stall: { side: Side; phase: WaitPhase; since: number; deadline: number } | undefined;
  failure: { side: Side; reason: string; seq: number } | undefined;
  /** The last state value that was not an integer 0..8, kept instead of thrown. */
  lastUnknown: { side: Side; value: string; seq: number } | undefined;
}

/** A key written under one side's directory (key relative to it, '' never). */
export interface XenbusWriteEvent {
  type: 'xenbus.write';
  ts: number;
  seq: number;
  domid: number;
  side: Side;
  key: string;
  value: string;
  backendKind?: string;
  backendDomid?: number;
  /** Keys already in the mirror when this delivery creates the actor. */
  prior?: PriorKey[];
}

/** A key or the whole directory ('') removed under one side. */
export interface XenbusRmEvent {
  type: 'xenbus.rm';
  ts: number;
  seq: number;
  domid: number;
  side: Side;
  key: string;
}

export interface ClockTickEvent {
  type: 'clock.tick';
  ts: number;
  seq: number;
}

export interface PriorKey {
  side: Side;
  key: string;
  value: string;
  backendKind?: string;
  backendDomid?: number;
}

export type XenbusEvent = XenbusWriteEvent | XenbusRmEvent | ClockTickEvent;
