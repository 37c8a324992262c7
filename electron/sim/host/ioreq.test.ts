import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ioreqModel } from '../../../machines/ioreq/ioreq.rules.ts';
import { IoreqTable, MAX_NR_IOREQ_SERVERS, deprecatedParam, HVM_PARAM_BUFIOREQ_EVTCHN, HVM_PARAM_DM_DOMAIN, type IoreqReport } from './ioreq.ts';

describe('ioreq servers (seed 002, reference 6)', () => {
  it('rule at most 8 servers: the ninth create gets ENOSPC', () => {
    const t = new IoreqTable(3);
    for (let i = 0; i < MAX_NR_IOREQ_SERVERS; i++) expect(t.create(0, 1)).toEqual({ ok: true, value: i });
    expect(t.create(0, 1)).toEqual({ ok: false, errno: 'ENOSPC' });
    expect(t.count()).toBe(8);
  });

  it('rule lowest free slot: a destroyed id is reused (no reserved default id 0)', () => {
    const t = new IoreqTable(3);
    t.create(0, 0);
    t.create(0, 0);
    expect(t.destroy(0, 0)).toEqual({ ok: true, value: undefined });
    expect(t.create(0, 0)).toEqual({ ok: true, value: 0 });
  });

  it('rule ownership: every op from another domain gets EPERM; unknown ids ENOENT', () => {
    const t = new IoreqTable(3);
    t.create(7, 1);
    expect(t.destroy(0, 0)).toEqual({ ok: false, errno: 'EPERM' });
    expect(t.setState(0, 0, true)).toEqual({ ok: false, errno: 'EPERM' });
    expect(t.getInfo(0, 0)).toEqual({ ok: false, errno: 'EPERM' });
    expect(t.mapRange(0, 0, 0, 1n, 2n)).toEqual({ ok: false, errno: 'EPERM' });
    expect(t.destroy(7, 5)).toEqual({ ok: false, errno: 'ENOENT' });
    expect(t.getInfo(7, 0)).toEqual({ ok: true, value: { bufioreq_port: 40 } });
  });

  it('rule start > end is EINVAL before the id is looked up; map_mem_type takes only HVMMEM_ioreq_server', () => {
    const t = new IoreqTable(3);
    expect(t.mapRange(0, 6, 1, 10n, 9n)).toEqual({ ok: false, errno: 'EINVAL' });
    t.create(0, 1);
    expect(t.mapMemType(0, 0, 0)).toEqual({ ok: false, errno: 'EINVAL' });
    expect(t.mapMemType(0, 0, 1)).toEqual({ ok: true, value: undefined });
  });

  it('rule no default server: a disabled server or an unclaimed range gets no I/O', () => {
    const t = new IoreqTable(3);
    t.create(0, 1);
    t.mapRange(0, 0, 0, 0x10n, 0x1fn);
    expect(t.select(0, 0x10n)).toBeUndefined();
    t.setState(0, 0, true);
    expect(t.select(0, 0x10n)?.id).toBe(0);
    expect(t.select(0, 0x80n)).toBeUndefined();
  });

  it('rule deprecated params 13 and 26: EPERM/ENODATA on 4.12-4.13, EINVAL from 4.14', () => {
    for (const p of [HVM_PARAM_DM_DOMAIN, HVM_PARAM_BUFIOREQ_EVTCHN]) {
      expect(deprecatedParam('4.13.5', 'set', p)).toEqual({ ok: false, errno: 'EPERM' });
      expect(deprecatedParam('4.12.0', 'get', p)).toEqual({ ok: false, errno: 'ENODATA' });
      expect(deprecatedParam('4.14.0', 'set', p)).toEqual({ ok: false, errno: 'EINVAL' });
      expect(deprecatedParam('4.17.7', 'get', p)).toEqual({ ok: false, errno: 'EINVAL' });
    }
    expect(deprecatedParam('4.17.7', 'get', 5)).toBeUndefined();
  });
});

describe('ioreq table against the ioreq machine model (machines/ioreq)', () => {
  it('gives the same result and id as ioreqModel(4.17.7).step for random op sequences', () => {
    const ops = fc.oneof(
      fc.record({ op: fc.constant('create' as const), caller: fc.constantFrom(0, 5) }),
      fc.record({ op: fc.constantFrom('destroy' as const, 'enable' as const, 'disable' as const, 'info' as const), caller: fc.constantFrom(0, 5), id: fc.integer({ min: 0, max: 8 }) }),
      fc.record({
        op: fc.constantFrom('map' as const, 'unmap' as const),
        caller: fc.constantFrom(0, 5),
        id: fc.integer({ min: 0, max: 8 }),
        type: fc.constantFrom(0 as const, 1 as const),
        start: fc.integer({ min: 0, max: 40 }),
        len: fc.integer({ min: -2, max: 10 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(ops, { maxLength: 40 }), (seq) => {
        const model = ioreqModel('4.17.7');
        let state = model.empty();
        const reports: IoreqReport[] = [];
        const t = new IoreqTable(3, undefined, (r) => reports.push(r));
        seq.forEach((o, i) => {
          const before = reports.length;
          if (o.op === 'create') t.create(o.caller, 1);
          else if (o.op === 'destroy') t.destroy(o.caller, o.id);
          else if (o.op === 'info') t.getInfo(o.caller, o.id);
          else if (o.op === 'enable' || o.op === 'disable') t.setState(o.caller, o.id, o.op === 'enable');
          else if ('type' in o) t.mapRange(o.caller, o.id, o.type, BigInt(o.start), BigInt(o.start + o.len), o.op === 'unmap');
          expect(reports.length).toBe(before + 1);
          const rep = reports[before];
          const { domid: _d, result, ...req } = rep;
          const stepped = model.step(state, req, i + 1);
          expect(result, JSON.stringify(rep)).toBe(stepped.result);
          if (rep.op === 'create' && result === 'ok') expect(rep.id).toBe(stepped.id);
          state = stepped.state;
        });
      }),
      { numRuns: 200 },
    );
  });
});
