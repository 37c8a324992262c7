/**
 * ioreq servers (seed 002, reference section 6): the `ioreq.op` observation,
 * the per-domain context and the machine's events.
 *
 * dom0 cannot list ioreq servers, so Xendeck learns of them from reports: the
 * simulator's (`src: 'sim'`, what its hypervisor model answered) and the
 * helper's (`src: 'helper'`, dm_op probes such as get_ioreq_server_info with
 * XEN_DMOP_no_gfns). Each report is one `ioreq.op` record:
 *
 *   {src:'sim'|'helper', type:'ioreq.op', domid, data:{domid, caller, op, id?, range?, param?, value?, result, xen?}}
 */

/** The record type of an ioreq report (an addition to the observation vocabulary v1). */
export const IOREQ_OP_TYPE = 'ioreq.op';

/** Up to 8 servers per domain (MAX_NR_IOREQ_SERVERS, Xen 4.12 through master). */
export const MAX_IOREQ_SERVERS = 8;

/** HVM params deprecated when the default server was removed. */
export const HVM_PARAM_DM_DOMAIN = 13;
export const HVM_PARAM_BUFIOREQ_EVTCHN = 26;

export type IoreqOpName = 'create' | 'map' | 'unmap' | 'enable' | 'disable' | 'destroy' | 'info' | 'get_param' | 'set_param';
export const IOREQ_OPS: readonly IoreqOpName[] = ['create', 'map', 'unmap', 'enable', 'disable', 'destroy', 'info', 'get_param', 'set_param'];

/** dm_op result: 'ok' or the errno name the hypercall returned. */
export type IoreqResult = 'ok' | 'ENOSPC' | 'EINVAL' | 'EPERM' | 'ENOENT' | 'ENODATA' | 'EEXIST' | 'ENOMEM' | 'ESRCH' | 'EOPNOTSUPP';
export const IOREQ_RESULTS: readonly IoreqResult[] = ['ok', 'ENOSPC', 'EINVAL', 'EPERM', 'ENOENT', 'ENODATA', 'EEXIST', 'ENOMEM', 'ESRCH', 'EOPNOTSUPP'];

/** A claimed range: port I/O, MMIO, or PCI config by SBDF (`seg<<16|bus<<8|dev<<3|fn`); inclusive. */
export interface IoRange {
  type: 'port' | 'mmio' | 'pci';
  start: number;
  end: number;
}

/** The request part of an op (what the caller asked). */
export interface IoreqRequest {
  /** The calling domain (the would-be or actual emulating domain). */
  caller: number;
  op: IoreqOpName;
  /** Server id: the target of map/unmap/enable/disable/destroy/info; for create, the id returned. */
  id?: number;
  range?: IoRange;
  /** HVM param index for get_param / set_param. */
  param?: number;
  value?: number;
}

/** `data` of an `ioreq.op` record. */
export interface IoreqOpData extends IoreqRequest {
  /** The HVM domain the servers serve. */
  domid: number;
  result: IoreqResult;
  /** Hypervisor version, when the reporter knows it (`4.17.7`). */
  xen?: string;
}

export type IoreqServerState = 'created' | 'enabled' | 'disabled' | 'destroyed';

export interface IoreqServer {
  id: number;
  /** Emulating domain; null when a probe showed the server but not its owner. */
  emulator: number | null;
  state: IoreqServerState;
  ranges: IoRange[];
  /** seq of the record that made it known. */
  since: number;
}

/** A report whose result differs from what the rules expect. */
export interface IoreqMismatch {
  seq: number;
  op: IoreqOpName;
  id?: number;
  observed: IoreqResult;
  expected: IoreqResult;
}

export interface IoreqInput {
  uuid: string;
  domid?: number;
  xen?: string;
}

export interface IoreqContext {
  uuid: string;
  domid: number | undefined;
  /** Xen version the rules follow (default the Debian baseline 4.17). */
  xen: string;
  /** Live servers by slot (length 8, null = free as far as Xendeck knows). */
  slots: Array<IoreqServer | null>;
  /** Slots in use that no report named (learned from an ENOSPC with fewer than 8 known). */
  hidden: number;
  /** Servers in use: known + hidden. */
  inUse: number;
  /** Destroyed servers, last 16. */
  destroyed: IoreqServer[];
  mismatches: IoreqMismatch[];
  mismatchCount: number;
  /** Creates answered ENOSPC. */
  refusals: number;
  /** seq at which all 8 slots became used (start of an exhaustion incident). */
  fullSince: number | undefined;
  lastOp: { seq: number; op: IoreqOpName; id?: number; result: IoreqResult } | undefined;
}

interface Stamp {
  ts: number;
  seq: number;
}

export type IoreqEvent =
  | ({ type: 'ioreq.op'; op: IoreqOpData } & Stamp)
  /** A new domain instance (boot, reboot, soft reset): Xen destroyed every server of the old one. */
  | ({ type: 'ioreq.reset'; domid: number } & Stamp)
  | ({ type: 'clock.tick' } & Stamp);
