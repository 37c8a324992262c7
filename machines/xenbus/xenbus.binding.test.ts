import { describe, expect, it } from 'vitest';
import type { RouteContext } from '../host/binding.ts';
import { xenbusBinding, xenbusIncident } from './xenbus.binding.ts';
import { devicesBelow, parseDevicePath } from './xenbus.paths.ts';

const U3 = 'aaaa0000-0000-4000-8000-000000000003';

/** A tiny mirror: path → value, children derived from the paths. */
function fakeCtx(tree: Record<string, string>, uuids: Record<number, string> = { 3: U3 }, actors: string[] = []): RouteContext {
  return {
    uuidOf: (d) => uuids[d],
    domidOf: (u) => Number(Object.keys(uuids).find((k) => uuids[Number(k)] === u)),
    uuidOfName: () => undefined,
    read: (p) => tree[p],
    children: (p) => {
      const set = new Set<string>();
      for (const k of Object.keys(tree)) if (k.startsWith(`${p}/`)) set.add(k.slice(p.length + 1).split('/')[0]!);
      return [...set].sort();
    },
    domainType: () => undefined,
    targetOf: () => undefined,
    stubdomOf: () => undefined,
    has: (id) => actors.includes(id),
  };
}

let seq = 0;
const rec = (type: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ({ seq: ++seq, ts: 1000 + seq, src: 'xs', type, data, prev: '', hash: '', ...extra }) as any;

describe('xenbus route', () => {
  it('creates a device from its first frontend key, keyed on the frontend uuid', () => {
    const out = xenbusBinding.route(rec('xs.write', { path: '/local/domain/3/device/vbd/51712/state', value: '1' }), fakeCtx({}));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      id: `xenbus:${U3}:vbd/51712`,
      uuid: U3,
      input: { uuid: U3, domid: 3, kind: 'vbd', devid: 51712 },
      event: { type: 'xenbus.write', side: 'frontend', key: 'state', value: '1', domid: 3, prior: [] },
    });
  });

  it('creates a device from its first backend key, with the frontend kind (qdisk → vbd)', () => {
    const out = xenbusBinding.route(rec('xs.write', { path: '/local/domain/0/backend/qdisk/3/768/params', value: 'aio:/x.img' }), fakeCtx({}));
    expect(out[0]!.id).toBe(`xenbus:${U3}:vbd/768`);
    expect(out[0]!.event).toMatchObject({ side: 'backend', key: 'params', backendKind: 'qdisk', backendDomid: 0 });
  });

  it('maps xen_9pfs backends to the 9pfs frontend kind', () => {
    const out = xenbusBinding.route(rec('xs.write', { path: '/local/domain/0/backend/xen_9pfs/3/0/state', value: '1' }), fakeCtx({}));
    expect(out[0]!.id).toBe(`xenbus:${U3}:9pfs/0`);
  });

  it('tracks security_model and path for xen_9pfs backends only', () => {
    const ctx = fakeCtx({}, { 3: U3 }, [`xenbus:${U3}:9pfs/0`, `xenbus:${U3}:vbd/768`]);
    expect(xenbusBinding.route(rec('xs.write', { path: '/local/domain/0/backend/xen_9pfs/3/0/security_model', value: 'none' }), ctx)).toHaveLength(1);
    expect(xenbusBinding.route(rec('xs.write', { path: '/local/domain/0/backend/qdisk/3/768/path', value: '/x' }), ctx)).toEqual([]);
  });

  it('routes console 0 from /local/domain/<domid>/console', () => {
    const out = xenbusBinding.route(rec('xs.write', { path: '/local/domain/3/console/state', value: '1' }), fakeCtx({}));
    expect(out[0]!.id).toBe(`xenbus:${U3}:console/0`);
  });

  it('carries the keys the mirror already holds when it creates the actor', () => {
    const tree = {
      '/local/domain/3/device/vif/0/backend': '/local/domain/0/backend/vif/3/0',
      '/local/domain/3/device/vif/0/state': '1',
      '/local/domain/0/backend/vif/3/0/state': '2',
      '/local/domain/0/backend/vif/3/0/hotplug-status': '',
    };
    const out = xenbusBinding.route(rec('xs.write', { path: '/local/domain/3/device/vif/0/mac', value: '00:16:3e:00:00:01' }), fakeCtx(tree));
    expect(out[0]!.event.prior).toEqual([
      { side: 'frontend', key: 'state', value: '1' },
      { side: 'backend', key: 'state', value: '2', backendKind: 'vif', backendDomid: 0 },
      { side: 'backend', key: 'hotplug-status', value: '', backendKind: 'vif', backendDomid: 0 },
    ]);
  });

  it('ignores untracked keys once the actor exists', () => {
    const ctx = fakeCtx({}, { 3: U3 }, [`xenbus:${U3}:vbd/51712`]);
    expect(xenbusBinding.route(rec('xs.write', { path: '/local/domain/3/device/vbd/51712/ring-ref', value: '8' }), ctx)).toEqual([]);
    expect(xenbusBinding.route(rec('xs.write', { path: '/local/domain/3/device/vbd/51712/state', value: '3' }), ctx)).toHaveLength(1);
  });

  it('routes nothing while the frontend domain uuid is unknown', () => {
    expect(xenbusBinding.route(rec('xs.write', { path: '/local/domain/9/device/vbd/1/state', value: '1' }), fakeCtx({}))).toEqual([]);
  });

  it('uses the uuid carried by the record when the domid matches', () => {
    const out = xenbusBinding.route(rec('xs.write', { path: '/local/domain/9/device/vbd/1/state', value: '1' }, { domid: 9, uuid: 'u9' }), fakeCtx({}));
    expect(out[0]!.id).toBe('xenbus:u9:vbd/1');
  });

  it('delivers removals only to existing actors and never creates', () => {
    const id = `xenbus:${U3}:vbd/51712`;
    const r = rec('xs.rm', { path: '/local/domain/3/device/vbd/51712' });
    expect(xenbusBinding.route(r, fakeCtx({}))).toEqual([]);
    const out = xenbusBinding.route(r, fakeCtx({}, { 3: U3 }, [id]));
    expect(out).toEqual([{ id, uuid: U3, event: { type: 'xenbus.rm', ts: r.ts, seq: r.seq, domid: 3, side: 'frontend', key: '' } }]);
    expect(out[0]).not.toHaveProperty('input');
  });

  it('expands the removal of a whole domain into its device directories', () => {
    const tree = {
      '/local/domain/3/device/vbd/51712/state': '4',
      '/local/domain/3/device/vif/0/state': '4',
      '/local/domain/3/console/state': '1',
      '/local/domain/3/name': 'vm3',
    };
    const ids = [`xenbus:${U3}:vbd/51712`, `xenbus:${U3}:vif/0`, `xenbus:${U3}:console/0`];
    const out = xenbusBinding.route(rec('xs.rm', { path: '/local/domain/3' }), fakeCtx(tree, { 3: U3 }, ids));
    expect(out.map((o) => o.id).sort()).toEqual([...ids].sort());
    expect(out.every((o) => o.event.type === 'xenbus.rm' && o.event.key === '')).toBe(true);
  });

  it('expands the removal of a backend tree for one frontend domain', () => {
    const tree = { '/local/domain/0/backend/vbd/3/51712/state': '4', '/local/domain/0/backend/vbd/3/51728/state': '4' };
    const ids = [`xenbus:${U3}:vbd/51712`, `xenbus:${U3}:vbd/51728`];
    const out = xenbusBinding.route(rec('xs.rm', { path: '/local/domain/0/backend/vbd/3' }), fakeCtx(tree, { 3: U3 }, ids));
    expect(out.map((o) => o.id)).toEqual(ids);
    expect(out[0]!.event).toMatchObject({ side: 'backend', domid: 3 });
  });

  it('ignores records of other types and paths', () => {
    const ctx = fakeCtx({});
    expect(xenbusBinding.route(rec('dominfo', { domid: 3 }), ctx)).toEqual([]);
    expect(xenbusBinding.route(rec('xs.write', { path: '/vm/x/name', value: 'a' }), ctx)).toEqual([]);
    expect(xenbusBinding.route(rec('xs.write', { path: '/local/domain/3/name', value: 'a' }), ctx)).toEqual([]);
    expect(xenbusBinding.route(rec('machine.transition', { actor: 'x' }), ctx)).toEqual([]);
  });
});

describe('xenbus paths', () => {
  it('parses frontend and backend paths with their keys', () => {
    expect(parseDevicePath('/local/domain/3/device/vbd/51712/state')).toEqual({ side: 'frontend', domid: 3, kind: 'vbd', devid: 51712, key: 'state' });
    expect(parseDevicePath('/local/domain/0/backend/xen_9pfs/3/1')).toEqual({
      side: 'backend', domid: 3, kind: '9pfs', devid: 1, backendKind: 'xen_9pfs', backendDomid: 0, key: '',
    });
    expect(parseDevicePath('/local/domain/3/device/vbd/abc/state')).toBeUndefined();
    expect(parseDevicePath('/local/domain/3/vuart/0/state')).toEqual({ side: 'frontend', domid: 3, kind: 'vuart', devid: 0, key: 'state' });
    expect(parseDevicePath('/local/domain/3/device/suspend/event-channel')).toBeUndefined();
  });

  it('lists no devices below an unrelated path', () => {
    expect(devicesBelow('/vm/abc', () => [])).toEqual([]);
  });
});

describe('xenbus incidents', () => {
  const base = { actor: `xenbus:${U3}:vbd/51712`, seq: 40, ts: 11_000 };
  it('reports handshake-stall when the link enters stalled, starting where the wait began', () => {
    const hit = xenbusIncident({ ...base, from: 'backend.Initialising,frontend.Initialising,link.waiting', to: 'backend.Initialising,frontend.Initialising,link.stalled',
      context: { kind: 'vbd', devid: 51712, backendKind: 'vbd', stall: { side: 'backend', phase: 'initwait', since: 2, deadline: 11_000 } } });
    expect(hit).toEqual({ kind: 'handshake-stall', summary: "vbd/51712: backend (vbd) waited past libxl's timeout to reach InitWait", start: 2 });
  });

  it('reports handshake-failure with kind/devid and side when the link enters failed', () => {
    const hit = xenbusIncident({ ...base, from: 'link.waiting', to: 'link.failed',
      context: { kind: 'vbd', devid: 51712, backendKind: 'vbd', failure: { side: 'backend', reason: 'hotplug-status=error', seq: 33 } } });
    expect(hit).toEqual({ kind: 'handshake-failure', summary: 'vbd/51712: backend failed: hotplug-status=error', start: 33 });
  });

  it('leaves failures of xen-9pfsd devices to the ninepfs machine (one report per device)', () => {
    const hit = xenbusIncident({ ...base, from: 'link.waiting', to: 'link.failed',
      context: { kind: '9pfs', devid: 0, backendKind: 'xen_9pfs', failure: { side: 'backend', reason: 'backend closed before connecting', seq: 33 } } });
    expect(hit).toBeNull();
  });

  it('leaves the InitWait stall of a device xen-9pfsd must refuse to the ninepfs machine', () => {
    const stall = { side: 'backend', phase: 'initwait', since: 2, deadline: 11_000 };
    const t = { ...base, from: 'link.waiting', to: 'link.stalled' };
    const refused = { kind: '9pfs', devid: 0, backendKind: 'xen_9pfs', stall, backendConfig: { security_model: 'mapped', path: '/srv' } };
    expect(xenbusIncident({ ...t, context: refused })).toBeNull();
    const accepted = { ...refused, backendConfig: { security_model: 'none', path: '/srv' } };
    expect(xenbusIncident({ ...t, context: accepted })?.kind).toBe('handshake-stall');
  });

  it('reports nothing when the link does not change', () => {
    expect(xenbusIncident({ ...base, from: 'backend.Initialising,link.stalled', to: 'backend.InitWait,link.stalled', context: {} })).toBeNull();
  });
});
