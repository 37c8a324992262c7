/**
 * ioreq servers of one HVM domain, as Xen (>= 4.12, seed 002 and reference
 * section 6) keeps them: at most MAX_NR_IOREQ_SERVERS = 8, created in the
 * lowest free slot, owned by the emulating domain (every other op from
 * another domain gets EPERM), with I/O ranges and an enabled flag. There is
 * no default server any more. The deprecated HVM params answer by Xen version.
 */
export const MAX_NR_IOREQ_SERVERS = 8;
export const HVM_PARAM_DM_DOMAIN = 13;
export const HVM_PARAM_BUFIOREQ_EVTCHN = 26;

export type IoreqErrno = 'ENOSPC' | 'ENOENT' | 'EPERM' | 'EINVAL' | 'ENODATA' | 'EEXIST';
export type IoreqResult<T = undefined> = { ok: true; value: T } | { ok: false; errno: IoreqErrno };

export interface IoreqServer {
  id: number;
  emulator: number;
  bufioreq: 0 | 1 | 2;
  enabled: boolean;
  ranges: Array<{ type: 0 | 1 | 2; start: bigint; end: bigint }>;
  memType: boolean;
}

const okv = <T>(value: T): IoreqResult<T> => ({ ok: true, value });
const fail = (errno: IoreqErrno): IoreqResult<never> => ({ ok: false, errno });

/** Compares dotted versions: -1, 0, 1. */
function cmpVersion(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/**
 * One dm_op as the `ioreq.op` observation of machines/ioreq reports it (its
 * README): the domain served, the caller, the op, the server id, the range,
 * and the result.
 */
export interface IoreqReport {
  domid: number;
  caller: number;
  op: 'create' | 'map' | 'unmap' | 'enable' | 'disable' | 'destroy' | 'info' | 'get_param' | 'set_param';
  id?: number;
  range?: { type: 'port' | 'mmio' | 'pci'; start: number; end: number };
  param?: number;
  result: 'ok' | IoreqErrno;
}

const RANGE_NAMES = ['port', 'mmio', 'pci'] as const;

export class IoreqTable {
  private readonly slots: Array<IoreqServer | undefined> = new Array(MAX_NR_IOREQ_SERVERS).fill(undefined);

  constructor(
    readonly domid: number,
    private readonly onOp: (line: string) => void = () => undefined,
    private readonly onReport: (r: IoreqReport) => void = () => undefined,
  ) {}

  private emit(r: Omit<IoreqReport, 'domid' | 'result'>, res: IoreqResult<unknown>, id?: number): void {
    this.onReport({ domid: this.domid, ...r, ...(id !== undefined ? { id } : {}), result: res.ok ? 'ok' : res.errno });
  }

  list(): IoreqServer[] {
    return this.slots.filter((s): s is IoreqServer => s !== undefined);
  }

  count(): number {
    return this.list().length;
  }

  private report<T>(op: string, detail: string, r: IoreqResult<T>): IoreqResult<T> {
    this.onOp(`xen_ioreq: ${op} dom=${this.domid} ${detail} rc=${r.ok ? 0 : `-${r.errno}`}`);
    return r;
  }

  private owned(caller: number, id: number): IoreqServer | IoreqErrno {
    const s = id >= 0 && id < MAX_NR_IOREQ_SERVERS ? this.slots[id] : undefined;
    if (!s) return 'ENOENT';
    if (s.emulator !== caller) return 'EPERM';
    return s;
  }

  create(caller: number, bufioreq: number): IoreqResult<number> {
    const r = this.createInner(caller, bufioreq);
    this.emit({ caller, op: 'create' }, r, r.ok ? r.value : undefined);
    return r;
  }

  private createInner(caller: number, bufioreq: number): IoreqResult<number> {
    if (bufioreq < 0 || bufioreq > 2) return this.report('create', `emulator=${caller} bufioreq=${bufioreq}`, fail('EINVAL'));
    const i = this.slots.findIndex((s) => s === undefined);
    if (i < 0) return this.report('create', `emulator=${caller} bufioreq=${bufioreq}`, fail('ENOSPC'));
    this.slots[i] = { id: i, emulator: caller, bufioreq: bufioreq as 0 | 1 | 2, enabled: false, ranges: [], memType: false };
    return this.report('create', `id=${i} emulator=${caller} bufioreq=${bufioreq}`, okv(i));
  }

  getInfo(caller: number, id: number): IoreqResult<{ bufioreq_port: number }> {
    const s = this.owned(caller, id);
    const r = typeof s === 'string' ? this.report('get_info', `id=${id}`, fail(s)) : this.report('get_info', `id=${id}`, okv({ bufioreq_port: s.bufioreq ? 40 + id : 0 }));
    this.emit({ caller, op: 'info', id }, r);
    return r;
  }

  mapRange(caller: number, id: number, type: 0 | 1 | 2, start: bigint, end: bigint, unmap = false): IoreqResult {
    const r = this.mapInner(caller, id, type, start, end, unmap);
    this.emit({ caller, op: unmap ? 'unmap' : 'map', id, range: { type: RANGE_NAMES[type] ?? 'port', start: Number(start), end: Number(end) } }, r);
    return r;
  }

  private mapInner(caller: number, id: number, type: 0 | 1 | 2, start: bigint, end: bigint, unmap: boolean): IoreqResult {
    const op = unmap ? 'unmap_io_range' : 'map_io_range';
    const detail = `id=${id} type=${type} start=0x${start.toString(16)} end=0x${end.toString(16)}`;
    if (start > end || type > 2) return this.report(op, detail, fail('EINVAL'));
    const s = this.owned(caller, id);
    if (typeof s === 'string') return this.report(op, detail, fail(s));
    if (unmap) {
      // Xen's rangeset: the range must lie inside one held range; what lies outside it stays.
      const i = s.ranges.findIndex((r) => r.type === type && r.start <= start && end <= r.end);
      if (i < 0) return this.report(op, detail, fail('ENOENT'));
      const [held] = s.ranges.splice(i, 1);
      if (held.start < start) s.ranges.push({ type, start: held.start, end: start - 1n });
      if (held.end > end) s.ranges.push({ type, start: end + 1n, end: held.end });
    } else {
      if (s.ranges.some((r) => r.type === type && r.start <= end && start <= r.end)) return this.report(op, detail, fail('EEXIST'));
      s.ranges.push({ type, start, end });
    }
    return this.report(op, detail, okv(undefined));
  }

  mapMemType(caller: number, id: number, type: number): IoreqResult {
    if (type !== 1) return this.report('map_mem_type', `id=${id} type=${type}`, fail('EINVAL'));
    const s = this.owned(caller, id);
    if (typeof s === 'string') return this.report('map_mem_type', `id=${id} type=${type}`, fail(s));
    s.memType = true;
    return this.report('map_mem_type', `id=${id} type=${type}`, okv(undefined));
  }

  setState(caller: number, id: number, enabled: boolean): IoreqResult {
    const r = this.setStateInner(caller, id, enabled);
    this.emit({ caller, op: enabled ? 'enable' : 'disable', id }, r);
    return r;
  }

  private setStateInner(caller: number, id: number, enabled: boolean): IoreqResult {
    const s = this.owned(caller, id);
    if (typeof s === 'string') return this.report('set_state', `id=${id} enabled=${enabled ? 1 : 0}`, fail(s));
    s.enabled = enabled;
    return this.report('set_state', `id=${id} enabled=${enabled ? 1 : 0}`, okv(undefined));
  }

  destroy(caller: number, id: number): IoreqResult {
    const s = this.owned(caller, id);
    let r: IoreqResult;
    if (typeof s === 'string') r = this.report('destroy', `id=${id}`, fail(s));
    else {
      this.slots[id] = undefined;
      r = this.report('destroy', `id=${id}`, okv(undefined));
    }
    this.emit({ caller, op: 'destroy', id }, r);
    return r;
  }

  /** Domain destruction: every server goes, whoever owns it. */
  destroyAll(): void {
    for (const s of this.list()) {
      this.slots[s.id] = undefined;
      this.onOp(`xen_ioreq: destroy dom=${this.domid} id=${s.id} rc=0`);
      this.onReport({ domid: this.domid, caller: s.emulator, op: 'destroy', id: s.id, result: 'ok' });
    }
  }

  /** Which enabled server claims a port access, if any (no default server: unclaimed I/O goes nowhere). */
  select(type: 0 | 1 | 2, addr: bigint): IoreqServer | undefined {
    return this.list().find((s) => s.enabled && s.ranges.some((r) => r.type === type && r.start <= addr && addr <= r.end));
  }
}

/** HVMOP_get_param / set_param on the deprecated params, by Xen version (reference 6). */
export function deprecatedParam(xen: string, op: 'get' | 'set', index: number): IoreqResult<number> | undefined {
  if (index !== HVM_PARAM_DM_DOMAIN && index !== HVM_PARAM_BUFIOREQ_EVTCHN) return undefined;
  if (cmpVersion(xen, '4.12') < 0) return okv(0);
  if (cmpVersion(xen, '4.14') < 0) return fail(op === 'set' ? 'EPERM' : 'ENODATA');
  return fail('EINVAL');
}
