import { describe, expect, it } from 'vitest';
import { Observer } from './observe.ts';

const FLOOD_BURST = 200;

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

  it('records a node whose bytes are not UTF-8 as an invalid-utf8 dropped record, not a silent hole', () => {
    const { o } = observer();
    const out = o.watch({ path: '/local/domain/3/data/blob', value: null, error: 'EILSEQ' });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ src: 'host', type: 'dropped', domid: 3, data: { domid: 3, path: '/local/domain/3/data/blob', reason: 'invalid-utf8', count: 1 } });
    expect(o.watch({ path: '/local/domain/3/data/x', value: null, error: 'EACCES' })).toEqual([]);
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

  it('device model liveness: a first sighting that answers is the baseline, a refusal and every later change are recorded; a domain being destroyed is not a death', () => {
    const o = new Observer(() => 1000);
    o.introduce(3);
    o.introduce(4);
    expect(o.dmStatus({ domid: 3, alive: true })).toEqual([]);
    expect(o.dmStatus({ domid: 3, alive: true })).toEqual([]);
    const gone = o.dmStatus({ domid: 3, alive: false, error: 'ECONNREFUSED' });
    expect(gone).toEqual([{ ts: 1000, src: 'helper', type: 'dm.status', domid: 3, data: { domid: 3, alive: false, error: 'ECONNREFUSED' } }]);
    expect(o.dmStatus({ domid: 3, alive: false, error: 'ECONNREFUSED' })).toEqual([]);
    expect(o.dmStatus({ domid: 3, alive: true }).map((r) => r.data)).toEqual([{ domid: 3, alive: true }]);
    // First seen dead: recorded.
    expect(o.dmStatus({ domid: 4, alive: false, error: 'ECONNREFUSED' })).toHaveLength(1);
    // A domain shutting down: its device model going away is its destruction.
    o.dominfoList([{ domid: 3, name: 'w', uuid: '6f1c0a52-3b7e-4c1d-9a8e-2f4b5c6d7e8f', running: false, blocked: false, paused: false, shutdown: true, dying: false, reason: 'poweroff' }]);
    expect(o.dmStatus({ domid: 3, alive: false, error: 'ECONNREFUSED' })).toEqual([]);
    // A released domain is forgotten; an unknown domid refusing is not recorded either.
    o.release(4);
    expect(o.dmStatus({ domid: 4, alive: false })).toEqual([]);
  });

  it('removals forget exactly the subtree, at any depth, and name lookups follow (indexed by domain)', () => {
    const o = new Observer(() => 1000);
    for (const d of [3, 4, 31]) {
      o.watch({ path: `/local/domain/${d}`, value: '' });
      o.watch({ path: `/local/domain/${d}/name`, value: `g${d}` });
      o.watch({ path: `/local/domain/${d}/device/vbd/51712/state`, value: '4' });
      o.watch({ path: `/local/domain/${d}/device/vif/0/state`, value: '4' });
    }
    o.watch({ path: '/vm/6f1c0a52-3b7e-4c1d-9a8e-2f4b5c6d7e8f/name', value: 'g3' });
    o.watch({ path: '/libxl/3/type', value: 'pvh' });
    expect(o.domidOfName('g31')).toBe(31);
    expect(o.watch({ path: '/local/domain/3/device/vbd', value: null }).map((r) => r.data)).toEqual([{ path: '/local/domain/3/device/vbd' }]);
    expect(o.read('/local/domain/3/device/vbd/51712/state')).toBeUndefined();
    expect(o.read('/local/domain/3/device/vif/0/state')).toBe('4');
    expect(o.read('/local/domain/31/device/vbd/51712/state')).toBe('4');
    // A removal of nothing known is not recorded.
    expect(o.watch({ path: '/local/domain/3/device/vbd', value: null })).toEqual([]);
    // /local/domain/3 is not a prefix of /local/domain/31.
    o.watch({ path: '/local/domain/3', value: null });
    expect(o.read('/local/domain/31/name')).toBe('g31');
    expect(o.domidOfName('g3')).toBeUndefined();
    expect(o.domainNames()).toEqual(['g31', 'g4']);
    // Above the domains: every domain at once, nothing else.
    expect(o.watch({ path: '/local/domain', value: null })).toHaveLength(1);
    expect(o.domainNames()).toEqual([]);
    expect(o.read('/libxl/3/type')).toBe('pvh');
    expect(o.nodeCount).toBe(2);
    // The same after a restart through toJSON/fromJSON.
    const again = Observer.fromJSON(o.toJSON(), () => 1000);
    expect(again.watch({ path: '/vm', value: null })).toHaveLength(1);
    expect(again.nodeCount).toBe(1);
  });

  it('an xl line naming its domid keeps it, even when the name has passed to a new domain meanwhile', () => {
    const o = new Observer(() => 1000);
    o.watch({ path: '/local/domain/175/name', value: 'db' });
    o.watch({ path: '/local/domain/175/vm', value: '/vm/6f1c0a52-3b7e-4c1d-9a8e-2f4b5c6d7e8f' });
    const late = o.logLine({ kind: 'xl', name: 'db', line: 'Domain 165 has shut down, reason code 3 0x3' });
    expect(late).toHaveLength(1);
    expect(late[0].domid).toBe(165);
    expect(late[0].uuid).toBeUndefined();
    expect(late[0].data).toMatchObject({ domid: 165, name: 'db' });
    // A line that names no domid goes by the name, as before.
    expect(o.logLine({ kind: 'xl', name: 'db', line: 'Action for shutdown reason code 3 is restart' })[0].domid).toBe(175);
  });

  it('records only log lines the parsers recognise, with the domid found by name', () => {
    const { o } = observer();
    o.watch({ path: '/local/domain/7/name', value: 'win10' });
    expect(o.logLine({ kind: 'qemu-dm', name: 'win10', line: 'some chatter' })).toEqual([]);
    const r = o.logLine({ kind: 'qemu-dm', name: 'win10', line: 'Drivers are blacklisted!' });
    expect(r.map((x) => x.data)).toEqual([{ file: 'qemu-dm', domid: 7, name: 'win10', line: 'Drivers are blacklisted!' }]);
  });
});
