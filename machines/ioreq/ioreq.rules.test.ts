import { describe, expect, it } from 'vitest';
import { ioreqModel, parseXenVersion } from './ioreq.rules.ts';
import type { IoreqDomainState } from './ioreq.rules.ts';
import type { IoreqRequest } from './ioreq.types.ts';

const QEMU = 0;
const STUB = 5;

function run(model = ioreqModel('4.17.7'), reqs: IoreqRequest[], state: IoreqDomainState = model.empty()) {
  const results: Array<{ result: string; id?: number }> = [];
  let seq = 0;
  for (const r of reqs) {
    const out = model.step(state, r, ++seq);
    state = out.state;
    results.push(out.id !== undefined ? { result: out.result, id: out.id } : { result: out.result });
  }
  return { state, results };
}

const create = (caller = QEMU): IoreqRequest => ({ caller, op: 'create' });

describe('ioreqModel (seed 002, reference 6)', () => {
  it('parses Xen versions, defaulting to the 4.17 baseline', () => {
    expect(parseXenVersion('4.13.5')).toEqual({ major: 4, minor: 13 });
    expect(parseXenVersion('4.20-unstable')).toEqual({ major: 4, minor: 20 });
    expect(parseXenVersion(undefined)).toEqual({ major: 4, minor: 17 });
  });

  it('at most 8 servers per domain: the 9th create is ENOSPC', () => {
    const { results } = run(undefined, Array.from({ length: 9 }, () => create()));
    expect(results.slice(0, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((id) => ({ result: 'ok', id })));
    expect(results[8]).toEqual({ result: 'ENOSPC' });
  });

  it('no default server: id 0 is an ordinary id from 4.12, and ops on a free id 0 are ENOENT', () => {
    const m = ioreqModel('4.12');
    expect(m.hasDefaultServer).toBe(false);
    expect(m.expect(m.empty(), { caller: QEMU, op: 'enable', id: 0 }).result).toBe('ENOENT');
    expect(m.expect(m.empty(), { caller: QEMU, op: 'destroy', id: 0 }).result).toBe('ENOENT');
    expect(run(m, [create()]).results[0]).toEqual({ result: 'ok', id: 0 });
  });

  it('before 4.12 id 0 was the default server: creates start at 1, destroy(0) is EPERM, other ops EOPNOTSUPP', () => {
    const m = ioreqModel('4.11');
    const { results } = run(m, Array.from({ length: 8 }, () => create()));
    expect(results[0]).toEqual({ result: 'ok', id: 1 });
    expect(results[6]).toEqual({ result: 'ok', id: 7 });
    expect(results[7]).toEqual({ result: 'ENOSPC' });
    expect(m.expect(m.empty(), { caller: QEMU, op: 'destroy', id: 0 }).result).toBe('EPERM');
    expect(m.expect(m.empty(), { caller: QEMU, op: 'map', id: 0, range: { type: 'port', start: 1, end: 2 } }).result).toBe('EOPNOTSUPP');
  });

  it('create / map range / enable / disable / destroy succeed for the emulating domain', () => {
    const { results, state } = run(undefined, [
      create(),
      { caller: QEMU, op: 'map', id: 0, range: { type: 'port', start: 0x60, end: 0x64 } },
      { caller: QEMU, op: 'enable', id: 0 },
      { caller: QEMU, op: 'disable', id: 0 },
      { caller: QEMU, op: 'unmap', id: 0, range: { type: 'port', start: 0x60, end: 0x64 } },
      { caller: QEMU, op: 'destroy', id: 0 },
    ]);
    expect(results.map((r) => r.result)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(state.slots.every((s) => s === null)).toBe(true);
  });

  it('map range with start > end is EINVAL, checked before the id', () => {
    const m = ioreqModel();
    const bad = { type: 'mmio' as const, start: 0x2000, end: 0x1000 };
    expect(m.expect(m.empty(), { caller: QEMU, op: 'map', id: 3, range: bad }).result).toBe('EINVAL');
    expect(m.expect(m.empty(), { caller: QEMU, op: 'unmap', id: 3, range: bad }).result).toBe('EINVAL');
    expect(m.expect(m.empty(), { caller: QEMU, op: 'map', id: 3, range: { type: 'mmio', start: 1, end: 1 } }).result).toBe('ENOENT');
  });

  it('only the emulating domain may act: any other caller gets EPERM', () => {
    const { state } = run(undefined, [create(STUB)]);
    const m = ioreqModel();
    for (const op of ['enable', 'disable', 'destroy', 'info'] as const) {
      expect(m.expect(state, { caller: QEMU, op, id: 0 }).result).toBe('EPERM');
      expect(m.expect(state, { caller: STUB, op, id: 0 }).result).toBe('ok');
    }
    expect(m.expect(state, { caller: QEMU, op: 'map', id: 0, range: { type: 'pci', start: 8, end: 8 } }).result).toBe('EPERM');
  });

  it('an overlapping map is EEXIST and an unmap of a range not held is ENOENT', () => {
    const m = ioreqModel();
    const { state } = run(m, [create(), { caller: QEMU, op: 'map', id: 0, range: { type: 'port', start: 0x10, end: 0x1f } }]);
    expect(m.expect(state, { caller: QEMU, op: 'map', id: 0, range: { type: 'port', start: 0x1f, end: 0x20 } }).result).toBe('EEXIST');
    expect(m.expect(state, { caller: QEMU, op: 'map', id: 0, range: { type: 'mmio', start: 0x10, end: 0x1f } }).result).toBe('ok');
    expect(m.expect(state, { caller: QEMU, op: 'unmap', id: 0, range: { type: 'port', start: 0x12, end: 0x13 } }).result).toBe('ok');
    expect(m.expect(state, { caller: QEMU, op: 'unmap', id: 0, range: { type: 'port', start: 0x1f, end: 0x20 } }).result).toBe('ENOENT');
    const after = m.step(state, { caller: QEMU, op: 'unmap', id: 0, range: { type: 'port', start: 0x12, end: 0x13 } }, 9).state;
    expect(after.slots[0]!.ranges).toEqual([
      { type: 'port', start: 0x10, end: 0x11 },
      { type: 'port', start: 0x14, end: 0x1f },
    ]);
  });

  it('a destroyed server frees its slot: the next create reuses the lowest free id', () => {
    const reqs: IoreqRequest[] = [...Array.from({ length: 8 }, () => create()), { caller: QEMU, op: 'destroy', id: 5 }, create()];
    expect(run(undefined, reqs).results.at(-1)).toEqual({ result: 'ok', id: 5 });
  });

  it('deprecated params 13 and 26: set EPERM, get ENODATA on Xen 4.12–4.13', () => {
    for (const v of ['4.12.4', '4.13.5']) {
      const m = ioreqModel(v);
      for (const param of [13, 26]) {
        expect(m.expect(m.empty(), { caller: 0, op: 'set_param', param, value: 1 })).toEqual({ result: 'EPERM', certain: true });
        expect(m.expect(m.empty(), { caller: 0, op: 'get_param', param })).toEqual({ result: 'ENODATA', certain: true });
      }
    }
  });

  it('deprecated params 13 and 26: both set and get are EINVAL from Xen 4.14', () => {
    for (const v of ['4.14', '4.17.7', '4.20']) {
      const m = ioreqModel(v);
      for (const param of [13, 26]) {
        expect(m.expect(m.empty(), { caller: 0, op: 'set_param', param, value: 1 }).result).toBe('EINVAL');
        expect(m.expect(m.empty(), { caller: 0, op: 'get_param', param }).result).toBe('EINVAL');
      }
    }
  });

  it('before 4.12 param 26 could not be set and both could be read', () => {
    const m = ioreqModel('4.11');
    expect(m.expect(m.empty(), { caller: 0, op: 'set_param', param: 26 }).result).toBe('EINVAL');
    expect(m.expect(m.empty(), { caller: 0, op: 'get_param', param: 26 }).result).toBe('ok');
    expect(m.expect(m.empty(), { caller: 0, op: 'set_param', param: 13 }).result).toBe('ok');
  });

  it('other params are outside the model: ok, but not certain', () => {
    const m = ioreqModel();
    expect(m.expect(m.empty(), { caller: 0, op: 'get_param', param: 5 })).toEqual({ result: 'ok', certain: false });
  });

  it('an ENOSPC with fewer than 8 known servers counts the unreported ones as hidden', () => {
    const m = ioreqModel();
    const { state } = run(m, [create(), create()]);
    const after = m.apply(state, create(), 'ENOSPC', 3).state;
    expect(after.hidden).toBe(6);
    expect(m.expect(after, create()).result).toBe('ENOSPC');
    expect(m.expect(after, { caller: QEMU, op: 'enable', id: 4 })).toEqual({ result: 'ENOENT', certain: false });
  });

  it('a probe answered EPERM shows a server owned by another domain; ENOENT shows a server gone', () => {
    const m = ioreqModel();
    let s = m.apply(m.empty(), { caller: 0, op: 'info', id: 2 }, 'EPERM', 1).state;
    expect(s.slots[2]).toMatchObject({ id: 2, emulator: null, state: 'created' });
    expect(m.expect(s, { caller: 0, op: 'destroy', id: 2 }).certain).toBe(false);
    const gone = m.apply(s, { caller: 0, op: 'info', id: 2 }, 'ENOENT', 2);
    s = gone.state;
    expect(s.slots[2]).toBeNull();
    expect(gone.destroyed).toMatchObject({ id: 2, state: 'destroyed' });
  });
});
