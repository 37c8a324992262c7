import { describe, expect, it } from 'vitest';
import { FLOOD_BURST, FLOOD_RATE, Observer } from './observe.ts';

function observer() {
  const clock = { t: 1000 };
  return { o: new Observer(() => clock.t), clock };
}

describe('observer', () => {
  it('records a value once, a spurious firing not at all, and a removal of a subtree once', () => {
    const { o } = observer();
    expect(o.watch({ path: '/local/domain/1/name', value: 'web' })).toHaveLength(1);
    expect(o.watch({ path: '/local/domain/1/name', value: 'web' })).toEqual([]);
    o.watch({ path: '/local/domain/1/device/vbd/1/state', value: '4' });
    const rm = o.watch({ path: '/local/domain/1/device', value: null });
    expect(rm.map((x) => [x.type, x.data.path])).toEqual([['xs.rm', '/local/domain/1/device']]);
    expect(o.read('/local/domain/1/device/vbd/1/state')).toBeUndefined();
    expect(o.watch({ path: '/local/domain/1/device', value: null })).toEqual([]);
  });

  it('a scan records only what changed, then removes what it did not list', () => {
    const { o } = observer();
    o.watch({ path: '/local/domain/1/a', value: '1' });
    o.watch({ path: '/local/domain/1/b/c', value: '2' });
    o.beginScan('/local/domain');
    expect(o.watch({ path: '/local/domain/1/a', value: '1', scan: true })).toEqual([]);
    expect(o.watch({ path: '/local/domain/1/d', value: '3', scan: true })).toHaveLength(1);
    expect(o.endScan('/local/domain', false).map((x) => [x.type, x.data.path])).toEqual([['xs.rm', '/local/domain/1/b/c']]);
    // A truncated scan proves nothing about what it did not list.
    o.beginScan('/local/domain');
    expect(o.endScan('/local/domain', true)).toEqual([]);
  });

  it('coalesces a guest flooding a path: a dropped record with the count and span, then the latest value', () => {
    const { o, clock } = observer();
    const path = '/local/domain/3/data/requests';
    let recorded = 0;
    for (let i = 0; i < FLOOD_BURST + 300; i++) recorded += o.watch({ path, value: String(i) }).length;
    expect(recorded).toBe(FLOOD_BURST);
    clock.t += 1000; // FLOOD_RATE writes earned back
    const next = o.watch({ path, value: 'after' });
    expect(next.map((x) => x.type)).toEqual(['dropped', 'xs.write']);
    expect(next[0].data).toEqual({ domid: 3, path, reason: 'guest-flood', count: 300, from: 1000, to: 1000 });
    expect(next[0].domid).toBe(3);
    expect(next[1].data).toEqual({ path, value: 'after' });
    expect(FLOOD_RATE).toBeGreaterThan(1);
  });

  it('records what a flood left pending on the next flush', () => {
    const { o, clock } = observer();
    const path = '/local/domain/4/data/x';
    for (let i = 0; i < FLOOD_BURST + 5; i++) o.watch({ path, value: String(i) });
    clock.t += 500;
    const out = o.flushFloods();
    expect(out.map((x) => [x.type, x.data.count ?? x.data.value])).toEqual([
      ['dropped', 5],
      ['xs.write', String(FLOOD_BURST + 4)],
    ]);
    expect(o.flushFloods()).toEqual([]);
  });

  it("never limits dom0's nodes or a scan", () => {
    const { o } = observer();
    let n = 0;
    for (let i = 0; i < FLOOD_BURST * 2; i++) n += o.watch({ path: '/local/domain/0/backend/vbd/1/51712/state', value: String(i) }).length;
    expect(n).toBe(FLOOD_BURST * 2);
    o.beginScan('/local/domain');
    let m = 0;
    for (let i = 0; i < FLOOD_BURST * 2; i++) m += o.watch({ path: `/local/domain/5/k${i}`, value: '1', scan: true }).length;
    expect(m).toBe(FLOOD_BURST * 2);
  });

  it('dominfo: one observation per domain whose line changed, with the uuid from /vm when xl does not give it', () => {
    const { o } = observer();
    o.watch({ path: '/local/domain/2/vm', value: '/vm/6f1c0a52-3b7e-4c1d-9a8e-2f4b5c6d7e8f' });
    const line = { domid: 2, name: 'web', running: true, blocked: false, paused: false, shutdown: false, dying: false };
    const a = o.dominfoList([line, { ...line, domid: 9 }]);
    expect(a.map((x) => [x.domid, x.uuid])).toEqual([[2, '6f1c0a52-3b7e-4c1d-9a8e-2f4b5c6d7e8f']]); // domid 9 has no known uuid yet
    expect(o.dominfoList([line])).toEqual([]);
    expect(o.dominfoList([{ ...line, paused: true, running: false }])).toHaveLength(1);
  });

  it('records only log lines the parsers recognise, with the domid found by name', () => {
    const { o } = observer();
    o.watch({ path: '/local/domain/7/name', value: 'win10' });
    expect(o.logLine({ kind: 'qemu-dm', name: 'win10', line: 'some chatter' })).toEqual([]);
    const r = o.logLine({ kind: 'qemu-dm', name: 'win10', line: 'Drivers are blacklisted!' });
    expect(r.map((x) => x.data)).toEqual([{ file: 'qemu-dm', domid: 7, name: 'win10', line: 'Drivers are blacklisted!' }]);
  });
});
