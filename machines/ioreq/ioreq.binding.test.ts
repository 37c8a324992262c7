import { describe, expect, it } from 'vitest';
import type { RouteContext } from '../host/binding.ts';
import { ioreqBinding, parseIoreqOp, routeIoreq } from './ioreq.binding.ts';

const UUID = '2b7e0d9e-0000-4000-8000-000000000003';

const ctx: RouteContext = {
  uuidOf: (d) => (d === 3 ? UUID : undefined),
  domidOf: () => undefined,
  uuidOfName: () => undefined,
  read: () => undefined,
  children: () => [],
  domainType: () => 'hvm',
  targetOf: () => undefined,
  stubdomOf: () => undefined,
  has: () => true,
};

let seq = 0;
function rec(type: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  seq += 1;
  return { seq, ts: 5000 + seq, src: 'sim', type, data, prev: '', hash: '', ...extra } as any;
}

describe('ioreq binding', () => {
  it('is the ioreq kind', () => {
    expect(ioreqBinding.kind).toBe('ioreq');
    expect(ioreqBinding.machine.id).toBe('ioreq');
  });

  it('routes an ioreq.op report to ioreq:<uuid>, creating the actor', () => {
    const r = rec('ioreq.op', { domid: 3, caller: 0, op: 'create', id: 0, result: 'ok', xen: '4.17.7' });
    expect(routeIoreq(r, ctx)).toEqual([
      {
        id: `ioreq:${UUID}`,
        uuid: UUID,
        input: { uuid: UUID, domid: 3, xen: '4.17.7' },
        event: { type: 'ioreq.op', op: { domid: 3, caller: 0, op: 'create', id: 0, result: 'ok', xen: '4.17.7' }, ts: r.ts, seq: r.seq },
      },
    ]);
  });

  it('takes the uuid from the record when the domid is not mapped yet', () => {
    const r = rec('ioreq.op', { domid: 9, caller: 0, op: 'enable', id: 1, result: 'ok' }, { domid: 9, uuid: 'u-9' });
    expect(routeIoreq(r, ctx)[0].id).toBe('ioreq:u-9');
    expect(routeIoreq(rec('ioreq.op', { domid: 9, caller: 0, op: 'enable', id: 1, result: 'ok' }), ctx)).toEqual([]);
  });

  it('keeps a range and params from the report', () => {
    const r = rec('ioreq.op', { domid: 3, caller: 0, op: 'map', id: 0, range: { type: 'pci', start: 8, end: 8 }, result: 'ok' });
    expect(routeIoreq(r, ctx)[0].event.op.range).toEqual({ type: 'pci', start: 8, end: 8 });
  });

  it('routes nothing for malformed reports', () => {
    const bad: Array<Record<string, unknown>> = [
      { caller: 0, op: 'create', result: 'ok' },
      { domid: 3, op: 'create', result: 'ok' },
      { domid: 3, caller: 0, op: 'reboot', result: 'ok' },
      { domid: 3, caller: 0, op: 'create', result: 'EWHAT' },
      { domid: 3, caller: 0, op: 'map', id: 0, range: { type: 'port', start: '1', end: 2 }, result: 'ok' },
      { domid: 3, caller: 0, op: 'map', id: 'zero', result: 'ok' },
    ];
    for (const data of bad) {
      expect(parseIoreqOp(data)).toBeUndefined();
      expect(routeIoreq(rec('ioreq.op', data), ctx)).toEqual([]);
    }
  });

  it('routes @introduceDomain as a reset that never creates an actor', () => {
    const out = routeIoreq(rec('xs.introduce', { domid: 3 }, { src: 'xs' }), ctx);
    expect(out).toHaveLength(1);
    expect(out[0].event).toMatchObject({ type: 'ioreq.reset', domid: 3 });
    expect(out[0].input).toBeUndefined();
  });

  it('ignores other records', () => {
    expect(routeIoreq(rec('xs.write', { path: '/local/domain/0/device-model/3/state', value: 'running' }), ctx)).toEqual([]);
    expect(routeIoreq(rec('log.line', { file: 'qemu-dm', domid: 3, line: 'ioreq' }), ctx)).toEqual([]);
  });

  it('names the ioreq-exhausted incident only on entering exhausted.refused', () => {
    const context = { inUse: 8, hidden: 0, fullSince: 40 };
    expect(ioreqBinding.incident!({ actor: 'a', from: 'exhausted.full', to: 'exhausted.refused', seq: 44, ts: 0, context })).toEqual({
      kind: 'ioreq-exhausted',
      summary: 'ioreq server create refused with ENOSPC: 8 of 8 servers in use',
      start: 40,
    });
    expect(ioreqBinding.incident!({ actor: 'a', from: 'servers', to: 'exhausted.full', seq: 44, ts: 0, context })).toBeNull();
    expect(ioreqBinding.incident!({ actor: 'a', from: 'exhausted.refused', to: 'exhausted.refused', seq: 45, ts: 0, context })).toBeNull();
  });
});
