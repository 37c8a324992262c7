import { describe, expect, it } from 'vitest';
import type { DomainType, RouteContext } from '../host/binding.ts';
import { pvUnplugBinding, routePvUnplug } from './pvunplug.binding.ts';

const UUID = '6f1c0d9e-0000-4000-8000-000000000007';
const STUB_UUID = '6f1c0d9e-0000-4000-8000-000000000008';

function fakeCtx(opts: { tree?: Record<string, string>; types?: Record<number, DomainType> } = {}): RouteContext {
  const tree = opts.tree ?? {};
  const types = opts.types ?? { 7: 'hvm', 8: 'pv' };
  const uuids: Record<number, string> = { 7: UUID, 8: STUB_UUID };
  return {
    uuidOf: (d) => uuids[d],
    domidOf: (u) => (u === UUID ? 7 : undefined),
    uuidOfName: () => undefined,
    read: (p) => tree[p],
    children: () => [],
    domainType: (d) => types[d],
    targetOf: (d) => (d === 8 ? 7 : undefined),
    stubdomOf: () => undefined,
    has: () => true,
  };
}

let seq = 0;
function rec(type: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  seq += 1;
  return { seq, ts: 1000 + seq, src: 'log', type, data, prev: '', hash: '', ...extra } as any;
}

describe('pvUnplug binding', () => {
  it('is the pvUnplug kind', () => {
    expect(pvUnplugBinding.kind).toBe('pvUnplug');
    expect(pvUnplugBinding.machine.id).toBe('pvUnplug');
  });

  it('routes a qemu-traditional product line of an HVM domain, creating the actor', () => {
    const r = rec('log.line', { file: 'qemu-dm', domid: 7, line: 'Citrix Windows PV drivers loaded in guest' });
    const out = routePvUnplug(r, fakeCtx());
    expect(out).toEqual([
      { id: `pvUnplug:${UUID}`, uuid: UUID, input: { uuid: UUID, domid: 7 }, event: { type: 'pv.product', value: 1, ts: r.ts, seq: r.seq } },
    ]);
  });

  it('routes the upstream trace event as a guest log line', () => {
    const r = rec('log.line', { file: 'qemu-dm', domid: 7, line: '812@1763740000.123456:xen_platform_log xen platform: XENBUS|Started' });
    expect(routePvUnplug(r, fakeCtx())[0].event).toMatchObject({ type: 'pv.log', text: 'XENBUS|Started' });
  });

  it('routes the simulator mask line', () => {
    const r = rec('log.line', { file: 'qemu-dm', domid: 7, line: 'xen_platform: unplug mask 0x3' });
    expect(routePvUnplug(r, fakeCtx())[0].event).toMatchObject({ type: 'pv.mask', value: 3 });
  });

  it('ignores other log files, unrelated lines, PV domains and stub domains', () => {
    const ctx = fakeCtx();
    expect(routePvUnplug(rec('log.line', { file: 'xl', domid: 7, line: 'PV driver build 3' }), ctx)).toEqual([]);
    expect(routePvUnplug(rec('log.line', { file: 'qemu-dm', domid: 7, line: 'VNC server running on 127.0.0.1:5900' }), ctx)).toEqual([]);
    expect(routePvUnplug(rec('log.line', { file: 'qemu-dm', domid: 8, line: 'PV driver build 3' }), ctx)).toEqual([]);
    expect(routePvUnplug(rec('log.line', { file: 'qemu-dm', domid: 99, line: 'PV driver build 3' }), ctx)).toEqual([]);
  });

  it('takes the uuid from the record when the domid is not mapped yet', () => {
    const ctx = { ...fakeCtx(), uuidOf: () => undefined };
    const r = rec('log.line', { file: 'qemu-dm', line: 'PV driver build 3' }, { domid: 7, uuid: UUID });
    expect(routePvUnplug(r, ctx)[0].id).toBe(`pvUnplug:${UUID}`);
  });

  it('turns a disk backend `dev` into its emulated twin, reading device-type from the mirror', () => {
    const ctx = fakeCtx({ tree: { '/local/domain/0/backend/vbd/7/5632/device-type': 'cdrom' } });
    const r = rec('xs.write', { path: '/local/domain/0/backend/vbd/7/5632/dev', value: 'hdc' });
    const out = routePvUnplug(r, ctx);
    expect(out[0].event).toEqual({
      type: 'pv.device',
      device: { id: 'hdc', kind: 'cdrom', bus: 'ide', index: 2, devid: 5632, qdev: 'ide-5632' },
      ts: r.ts,
      seq: r.seq,
    });
    expect(out[0].input).toEqual({ uuid: UUID, domid: 7 });
  });

  it('turns `device-type` into the twin when `dev` is already known, and ignores PV-only vdevs', () => {
    const ctx = fakeCtx({ tree: { '/local/domain/0/backend/qdisk/7/768/dev': 'hda', '/local/domain/0/backend/vbd/7/51728/dev': 'xvde' } });
    expect(routePvUnplug(rec('xs.write', { path: '/local/domain/0/backend/qdisk/7/768/device-type', value: 'disk' }), ctx)[0].event).toMatchObject({
      type: 'pv.device',
      device: { id: 'hda', kind: 'disk' },
    });
    expect(routePvUnplug(rec('xs.write', { path: '/local/domain/0/backend/vbd/7/51728/device-type', value: 'disk' }), ctx)).toEqual([]);
    expect(routePvUnplug(rec('xs.write', { path: '/local/domain/0/backend/vbd/7/768/params', value: 'aio:/x' }), ctx)).toEqual([]);
  });

  it('turns a vif backend into an emulated NIC unless its nic type is `vif` (PV only)', () => {
    const ctx = fakeCtx({ tree: { '/local/domain/0/backend/vif/7/1/type': 'vif' } });
    expect(routePvUnplug(rec('xs.write', { path: '/local/domain/0/backend/vif/7/0/handle', value: '0' }), ctx)[0].event).toMatchObject({
      type: 'pv.device',
      device: { id: 'nic0', kind: 'nic', devid: 0, qdev: 'nic0' },
    });
    expect(routePvUnplug(rec('xs.write', { path: '/local/domain/0/backend/vif/7/1/handle', value: '1' }), ctx)[0].event).toMatchObject({
      type: 'pv.device.removed',
      kind: 'nic',
      devid: 1,
    });
  });

  it('routes backend removals without creating actors', () => {
    const ctx = fakeCtx();
    const one = routePvUnplug(rec('xs.rm', { path: '/local/domain/0/backend/vbd/7/768' }), ctx);
    expect(one[0].event).toMatchObject({ type: 'pv.device.removed', kind: 'disk', devid: 768 });
    expect(one[0].input).toBeUndefined();
    const all = routePvUnplug(rec('xs.rm', { path: '/local/domain/0/backend/vif/7' }), ctx);
    expect(all[0].event).toEqual({ type: 'pv.device.removed', kind: 'nic', ts: all[0].event.ts, seq: all[0].event.seq });
  });

  it("routes the drivers' xenstore keys under data/, drivers/ and attr/", () => {
    const out = routePvUnplug(rec('xs.write', { path: '/local/domain/7/drivers/0', value: 'XenServer XENBUS 9.1.0' }), fakeCtx());
    expect(out[0].event).toMatchObject({ type: 'pv.driver.key', key: 'drivers/0', value: 'XenServer XENBUS 9.1.0' });
    expect(routePvUnplug(rec('xs.write', { path: '/local/domain/7/control/shutdown', value: '' }), fakeCtx())).toEqual([]);
  });

  it('learns the profile from /libxl/<id>/dm-version', () => {
    const ctx = fakeCtx();
    expect(routePvUnplug(rec('xs.write', { path: '/libxl/7/dm-version', value: 'qemu_xen_traditional' }), ctx)[0].event).toMatchObject({
      type: 'pv.profile',
      profile: 'seed',
    });
    expect(routePvUnplug(rec('xs.write', { path: '/libxl/7/dm-version', value: 'qemu_xen' }), ctx)[0].event).toMatchObject({
      type: 'pv.profile',
      profile: 'upstream',
    });
    expect(routePvUnplug(rec('xs.write', { path: '/libxl/7/type', value: 'hvm' }), ctx)).toEqual([]);
  });

  it('resets on @introduceDomain, and records DEVICE_DELETED and host-side drops', () => {
    const ctx = fakeCtx();
    const intro = routePvUnplug(rec('xs.introduce', { domid: 7 }), ctx);
    expect(intro[0].event).toMatchObject({ type: 'pv.reset', domid: 7 });
    expect(intro[0].input).toBeUndefined();
    const del = routePvUnplug(rec('qmp.event', { domid: 7, event: 'DEVICE_DELETED', data: { device: 'nic0', path: '/machine/peripheral/nic0' } }), ctx);
    expect(del[0].event).toMatchObject({ type: 'pv.device.deleted', device: 'nic0' });
    const anon = routePvUnplug(rec('qmp.event', { domid: 7, event: 'DEVICE_DELETED', data: { path: '/machine/peripheral-anon/device[1]' } }), ctx);
    expect(anon[0].event).toMatchObject({ device: '/machine/peripheral-anon/device[1]' });
    const drop = routePvUnplug(rec('dropped', { domid: 7, reason: 'xen-platform-log', count: 3, bytes: 300, from: 1, to: 2 }), ctx);
    expect(drop[0].event).toMatchObject({ type: 'pv.log.dropped', count: 3, bytes: 300 });
    expect(routePvUnplug(rec('dropped', { domid: 7, reason: 'watch-flood', count: 3, from: 1, to: 2 }), ctx)).toEqual([]);
    expect(routePvUnplug(rec('qmp.event', { domid: 7, event: 'STOP' }), ctx)).toEqual([]);
  });

  it('creates actors from driver keys and devices only for domains known to be HVM', () => {
    const ctx = fakeCtx({ types: {} });
    const out = routePvUnplug(rec('xs.write', { path: '/local/domain/7/data/updated', value: '1' }), ctx);
    expect(out).toHaveLength(1);
    expect(out[0].input).toBeUndefined();
    const line = routePvUnplug(rec('log.line', { file: 'qemu-dm', domid: 7, line: 'Drivers are blacklisted!' }), ctx);
    expect(line[0].input).toEqual({ uuid: UUID, domid: 7 });
    // dm-version is also written for PV domains with a qdisk device model: it never creates on its own.
    expect(routePvUnplug(rec('xs.write', { path: '/libxl/7/dm-version', value: 'qemu_xen' }), ctx)[0].input).toBeUndefined();
    const drop = routePvUnplug(rec('dropped', { domid: 7, reason: 'xen-platform-log', count: 1, bytes: 9, from: 1, to: 1 }), ctx);
    expect(drop[0].input).toEqual({ uuid: UUID, domid: 7 });
  });

  it('names the pv-blacklisted incident only on entering blacklisted', () => {
    const context = { product: 3, build: 1, since: 12 };
    expect(pvUnplugBinding.incident!({ actor: 'a', from: 'probed', to: 'blacklisted', seq: 15, ts: 0, context })).toEqual({
      kind: 'pv-blacklisted',
      summary: 'PV drivers (linux build 1) are blacklisted: they will not load and the emulated devices stay',
      start: 12,
    });
    expect(pvUnplugBinding.incident!({ actor: 'a', from: 'emulated', to: 'unplugged', seq: 15, ts: 0, context })).toBeNull();
  });
});
