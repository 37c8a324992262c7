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

export class IoreqTable {
  private readonly slots: Array<IoreqServer | undefined> = new Array(MAX_NR_IOREQ_SERVERS).fill(undefined);

  constructor(
    readonly domid: number,
    private readonly onOp: (line: string) => void = () => undefined,
  ) {}

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
    if (bufioreq < 0 || bufioreq > 2) return this.report('create', `emulator=${caller} bufioreq=${bufioreq}`, fail('EINVAL'));
    const i = this.slots.findIndex((s) => s === undefined);
    if (i < 0) return this.report('create', `emulator=${caller} bufioreq=${bufioreq}`, fail('ENOSPC'));
    this.slots[i] = { id: i, emulator: caller, bufioreq: bufioreq as 0 | 1 | 2, enabled: false, ranges: [], memType: false };
    return this.report('create', `id=${i} emulator=${caller} bufioreq=${bufioreq}`, okv(i));
  }

  getInfo(caller: number, id: number): IoreqResult<{ bufioreq_port: number }> {
    const s = this.owned(caller, id);
    if (typeof s === 'string') return this.report('get_info', `id=${id}`, fail(s));
    return this.report('get_info', `id=${id}`, okv({ bufioreq_port: s.bufioreq ? 40 + id : 0 }));
  }

  mapRange(caller: number, id: number, type: 0 | 1 | 2, start: bigint, end: bigint, unmap = false): IoreqResult {
    const op = unmap ? 'unmap_io_range' : 'map_io_range';
    const detail = `id=${id} type=${type} start=0x${start.toString(16)} end=0x${end.toString(16)}`;
    if (start > end || type > 2) return this.report(op, detail, fail('EINVAL'));
    const s = this.owned(caller, id);
    if (typeof s === 'string') return this.report(op, detail, fail(s));
    if (unmap) {
      const i = s.ranges.findIndex((r) => r.type === type && r.start === start && r.end === end);
      if (i < 0) return this.report(op, detail, fail('ENOENT'));
      s.ranges.splice(i, 1);
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
    const s = this.owned(caller, id);
    if (typeof s === 'string') return this.report('set_state', `id=${id} enabled=${enabled ? 1 : 0}`, fail(s));
    s.enabled = enabled;
    return this.report('set_state', `id=${id} enabled=${enabled ? 1 : 0}`, okv(undefined));
  }

  destroy(caller: number, id: number): IoreqResult {
    const s = this.owned(caller, id);
    if (typeof s === 'string') return this.report('destroy', `id=${id}`, fail(s));
    this.slots[id] = undefined;
    return this.report('destroy', `id=${id}`, okv(undefined));
  }

  /** Domain destruction: every server goes, whoever owns it. */
  destroyAll(): void {
    for (const s of this.list()) {
      this.slots[s.id] = undefined;
      this.onOp(`xen_ioreq: destroy dom=${this.domid} id=${s.id} rc=0`);
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
