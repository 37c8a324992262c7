/**
 * Types of the cdrom machine: its input, context and events (DESIGN.md section 5).
 */

/** The commands a person can give a CD-ROM. */
export type CdOp = 'cd-insert' | 'cd-eject' | 'cd-force-eject';

/** Where a timeline step was observed. */
export type StepSource = 'cmd' | 'qmp' | 'xl' | 'xs' | 'clock';

/** One step of a media change as Xendeck saw it. */
export interface TimelineStep {
  seq: number;
  ts: number;
  source: StepSource;
  /** Short name of the step, e.g. `eject`, `remove-fd`, `stubdom-disk-detached`, `blockdev-change-medium`. */
  step: string;
  ok: boolean;
  detail?: string;
}

/** The media change in progress (or the last one, kept so its late result can still be matched). */
export interface CdOperation {
  /** Xendeck's command id, when the change came from Xendeck. */
  cmd?: string;
  op: CdOp;
  user?: string;
  /** New media path; undefined for an eject. */
  path?: string;
  force: boolean;
  startSeq: number;
  startTs: number;
  /** Absolute ms on the record clock when libxl gives up (40 s after the start). */
  opDeadline: number;
  /** When the next blockdev-change-medium retry is due (100 ms after a failure). */
  retryAt?: number;
  /** The source (qmp replies or xl lines) that counts change attempts for this change, so none is counted twice. */
  changeSource?: 'qmp' | 'xl';
  /** The stub domain's PV disk was seen going away during this change. */
  stubDetached: boolean;
  /** The command's result, once seen. */
  result?: { ok: boolean; error?: string };
  ended: boolean;
}

export interface CdromContext {
  uuid: string;
  /** The guest's domid (changes on restart). */
  domid?: number;
  devid: number;
  vdev?: string;
  /** The guest's device model runs in a Linux stub domain. */
  stubdom: boolean;
  /** fdset id used for the new media: 8000 + drive letter for a stub domain, else from add-fd. */
  fdset?: number;
  /** blockdev-change-medium retries done in the current or last change (0..10). */
  attempts: number;
  /** Backend `params` as last observed ('' = empty media). */
  params?: string;
  /** Media path named by `params`, undefined when empty. */
  mediaPath?: string;
  /** Backend `type` (phy, qdisk) as last observed. */
  backendType?: string;
  /** Tray open as last reported by DEVICE_TRAY_MOVED. */
  trayOpen?: boolean;
  lastError?: string;
  /** The guest locked the tray: a forced eject is the way out. */
  forceEjectOffered: boolean;
  /** Record-clock ms of the next timeout or retry, or undefined when not waiting. */
  deadline?: number;
  op?: CdOperation;
  /** Steps of the current or last change, oldest first, at most TIMELINE_MAX. */
  timeline: TimelineStep[];
}

export interface CdromInput {
  uuid: string;
  domid?: number;
  devid: number;
  vdev?: string;
  stubdom?: boolean;
}

interface Stamp {
  ts: number;
  seq: number;
}

/** A backend vbd with device-type=cdrom exists (the guest's, or the stub domain's copy). */
export interface CdDeviceEvent extends Stamp {
  type: 'cd.device';
  domid: number;
  fromStubdom: boolean;
  stubdom: boolean;
  vdev?: string;
  params?: string;
}
/** The backend vbd directory went away. */
export interface CdDetachedEvent extends Stamp {
  type: 'cd.detached';
  domid: number;
  fromStubdom: boolean;
}
/** `params` written on the backend or libxl's copy. */
export interface CdParamsEvent extends Stamp {
  type: 'cd.params';
  fromStubdom: boolean;
  where: 'backend' | 'libxl';
  value: string;
}
/** `type` (phy, qdisk) written on the backend or libxl's copy. */
export interface CdTypeEvent extends Stamp {
  type: 'cd.type';
  fromStubdom: boolean;
  where: 'backend' | 'libxl';
  value: string;
}
export interface CdRequestEvent extends Stamp {
  type: 'cd.request';
  cmd: string;
  user: string;
  op: CdOp;
  vdev: string;
  path?: string;
  domid?: number;
  stubdom: boolean;
}
export interface CdResultEvent extends Stamp {
  type: 'cd.result';
  cmd: string;
  ok: boolean;
  error?: string;
}
export interface CdQmpEvent extends Stamp {
  type: 'cd.qmp';
  command: string;
  ok: boolean;
  ret?: unknown;
  error?: { class: string; desc: string };
}
export interface CdTrayEvent extends Stamp {
  type: 'cd.tray';
  open: boolean;
}

/** libxl steps recognised in xl's verbose output (seed 000's LOGD lines). */
export type XlStepName =
  | 'lock-acquired'
  | 'stubdom-ejected'
  | 'stubdom-disk-ejected'
  | 'stubdom-disk-attached'
  | 'ejected'
  | 'add-fd-path'
  | 'skip-add-fd-path'
  | 'stubdom-id'
  | 'addfd-cb'
  | 'inserted'
  | 'retrying'
  | 'out-label'
  | 'done'
  | 'timeout'
  | 'vdev-invalid'
  | 'eject-locked'
  | 'error';

export interface XlStep {
  step: XlStepName;
  rc?: number;
  /** Numeric value of `stubdom_id=N` lines. */
  value?: number;
  domid?: number;
  line: string;
}

export interface CdStepEvent extends Stamp, XlStep {
  type: 'cd.step';
  /** Set when the line came from a command's output: only that command's change takes it. */
  cmd?: string;
}
export interface ClockTickEvent extends Stamp {
  type: 'clock.tick';
}

export type CdromEvent =
  | CdDeviceEvent
  | CdDetachedEvent
  | CdParamsEvent
  | CdTypeEvent
  | CdRequestEvent
  | CdResultEvent
  | CdQmpEvent
  | CdTrayEvent
  | CdStepEvent
  | ClockTickEvent;
