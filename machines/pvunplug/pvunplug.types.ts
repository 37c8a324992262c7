/** Context, input and events of the pvUnplug machine (one actor per HVM domain uuid). */
import type { EmulatedDevice } from './unplug-effect.ts';
import type { TokenBucketState } from './token-bucket.ts';

/** Which QEMU's platform device to expect: qemu-traditional (`seed`, honours the blacklist) or `upstream` (always 0x49d2). */
export type PvProfile = 'seed' | 'upstream';

export const MAGIC = 0x49d2;
export const MAGIC_BLACKLISTED = 0xd249;
/** How many guest log lines the context keeps (the records keep them all). */
export const LOG_KEEP = 50;
/** How many notes (ignored builds, unexpected values) the context keeps. */
export const NOTES_KEEP = 20;

export interface PvUnplugInput {
  uuid: string;
  domid?: number;
  profile?: PvProfile;
}

/** A guest log line accepted by the bucket. */
export interface PvLogLine {
  seq: number;
  ts: number;
  text: string;
}

export interface PvUnplugContext {
  uuid: string;
  domid: number | undefined;
  profile: PvProfile;
  /** Last magic the drivers read at port 0x10. */
  magic: number | undefined;
  /** Protocol version read at port 0x12 (0 means: skip straight to the mask). */
  protocolVersion: number | undefined;
  product: number | undefined;
  build: number | undefined;
  /** Unplug mask written (OR of every write since the device model started). */
  mask: number | undefined;
  blacklisted: boolean;
  /** The domain's emulated devices, from the backends libxl wrote. */
  devices: EmulatedDevice[];
  /** The emulated devices the mask made disappear. */
  disappeared: EmulatedDevice[];
  /** QMP DEVICE_DELETED device ids or paths seen after an unplug. */
  deleted: string[];
  /** Guest-written driver keys (`data/`, `drivers/`, `attr/`), latest value per key relative to the domain. */
  driverKeys: Record<string, string>;
  /** Last accepted guest log lines (at most LOG_KEEP). */
  log: PvLogLine[];
  logLines: number;
  logDropped: number;
  logBytesDropped: number;
  bucket: TokenBucketState | undefined;
  /** QEMU said it throttled the guest's log. */
  throttled: boolean;
  /** Things that went against the protocol or the expectation of the profile. */
  notes: string[];
  /** First seq of the current handshake (start of an incident range). */
  since: number | undefined;
}

interface Stamp {
  ts: number;
  seq: number;
}

export type PvUnplugEvent =
  | ({ type: 'pv.magic'; value: number } & Stamp)
  | ({ type: 'pv.version'; value: number } & Stamp)
  | ({ type: 'pv.product'; value: number } & Stamp)
  | ({ type: 'pv.build'; value: number } & Stamp)
  | ({ type: 'pv.build.ignored'; value: number } & Stamp)
  | ({ type: 'pv.blacklisted' } & Stamp)
  | ({ type: 'pv.mask'; value: number } & Stamp)
  /** QEMU's DEBUG_PLATFORM `unplug disks` / `unplug nics`, when no mask line was seen. */
  | ({ type: 'pv.unplug'; what: 'disks' | 'nics' } & Stamp)
  | ({ type: 'pv.log'; text: string } & Stamp)
  /** Lines the host already dropped before recording (a `dropped` record). */
  | ({ type: 'pv.log.dropped'; count: number; bytes: number } & Stamp)
  | ({ type: 'pv.throttled' } & Stamp)
  /** A disk or NIC backend of the domain: its emulated twin. */
  | ({ type: 'pv.device'; device: EmulatedDevice } & Stamp)
  /** A backend removed: `id` one device, or every device of `kind` when id is absent. */
  | ({ type: 'pv.device.removed'; kind: 'disk' | 'nic'; devid?: number } & Stamp)
  | ({ type: 'pv.device.deleted'; device: string } & Stamp)
  | ({ type: 'pv.driver.key'; key: string; value: string } & Stamp)
  | ({ type: 'pv.profile'; profile: PvProfile } & Stamp)
  /** A new domain instance (boot, reboot, soft reset): a fresh device model and platform device. */
  | ({ type: 'pv.reset'; domid: number } & Stamp)
  | ({ type: 'clock.tick' } & Stamp);
