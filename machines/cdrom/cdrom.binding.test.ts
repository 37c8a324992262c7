import { describe, expect, it } from 'vitest';
import type { RouteContext } from '../host/binding.ts';
import { cdromActorId, cdromBinding, cdromIncident, routeCdrom } from './cdrom.binding.ts';
import { UUID } from './cdrom.test-support.ts';

type Rec = Parameters<typeof routeCdrom>[0];

const GUEST = 5;
const STUB = 7;
const OTHER_UUID = '11111111-2222-4333-8444-555555555555';

/** A tiny host: guest 5 (uuid UUID, name win10) with stub domain 7, a CD-ROM hdc and a disk hda. */
function fakeCtx(extra: Record<string, string> = {}, withStub = true): RouteContext {
  const tree: Record<string, string> = {
    '/local/domain/5/name': 'win10',
    '/local/domain/5/vm': `/vm/${UUID}`,
    '/local/domain/0/backend/vbd/5/5632/device-type': 'cdrom',
    '/local/domain/0/backend/vbd/5/5632/dev': 'hdc',
    '/local/domain/0/backend/vbd/5/5632/params': 'aio:/isos/old.iso',
    '/local/domain/0/backend/vbd/5/768/device-type': 'disk',
    '/local/domain/0/backend/vbd/5/768/dev': 'hda',
    ...(withStub
      ? {
          '/local/domain/7/name': 'win10-dm',
          '/local/domain/0/backend/vbd/7/5632/device-type': 'cdrom',
          '/local/domain/0/backend/vbd/7/5632/dev': 'hdc',
          '/local/domain/0/backend/vbd/7/5632/params': '/isos/old.iso',
        }
      : {}),
    ...extra,
  };
  const children = (path: string): string[] => {
    const prefix = `${path}/`;
    const names = new Set<string>();
    for (const k of Object.keys(tree)) if (k.startsWith(prefix)) names.add(k.slice(prefix.length).split('/')[0]);
    return [...names].sort();
  };
  return {
    uuidOf: (d) => (d === GUEST ? UUID : d === 9 ? OTHER_UUID : undefined),
    domidOf: (u) => (u === UUID ? GUEST : undefined),
    uuidOfName: () => undefined,
    read: (p) => tree[p],
    children,
    domainType: () => 'hvm',
    targetOf: (d) => (withStub && d === STUB ? GUEST : undefined),
    stubdomOf: (d) => (withStub && d === GUEST ? STUB : undefined),
    has: () => true,
  };
}

let seq = 100;
function rec(type: string, data: Record<string, unknown>, top: Partial<Rec> = {}): Rec {
  seq += 1;
  return { seq, ts: 1_000_000 + seq, src: 'xs', type, data, prev: '', hash: '', ...top } as Rec;
}

const ID = cdromActorId(UUID, 5632);

describe('cdrom binding: one actor per CD-ROM, cdrom:<uuid>:vbd/<devid>', () => {
  it('creates the actor when the backend vbd with device-type=cdrom appears', () => {
    const out = routeCdrom(rec('xs.write', { path: '/local/domain/0/backend/vbd/5/5632/device-type', value: 'cdrom' }), fakeCtx());
    expect(out).toHaveLength(1);
    expect(out[0].id).toBe(`cdrom:${UUID}:vbd/5632`);
    expect(out[0].uuid).toBe(UUID);
    expect(out[0].input).toEqual({ uuid: UUID, domid: 5, devid: 5632, vdev: 'hdc', stubdom: true });
    expect(out[0].event).toMatchObject({ type: 'cd.device', domid: 5, fromStubdom: false, stubdom: true, vdev: 'hdc', params: 'aio:/isos/old.iso' });
  });

  it('ignores a backend vbd that is a disk, not a CD-ROM', () => {
    expect(routeCdrom(rec('xs.write', { path: '/local/domain/0/backend/vbd/5/768/device-type', value: 'disk' }), fakeCtx())).toEqual([]);
    expect(routeCdrom(rec('xs.write', { path: '/local/domain/0/backend/vbd/5/768/params', value: 'aio:/img/a' }), fakeCtx())).toEqual([]);
  });

  it('routes backend params and type of a CD-ROM, and libxl\'s copy', () => {
    const ctx = fakeCtx();
    const p = routeCdrom(rec('xs.write', { path: '/local/domain/0/backend/vbd/5/5632/params', value: '' }), ctx);
    expect(p[0].event).toMatchObject({ type: 'cd.params', where: 'backend', fromStubdom: false, value: '' });
    const t = routeCdrom(rec('xs.write', { path: '/local/domain/0/backend/vbd/5/5632/type', value: 'qdisk' }), ctx);
    expect(t[0].event).toMatchObject({ type: 'cd.type', value: 'qdisk' });
    const l = routeCdrom(rec('xs.write', { path: '/libxl/5/device/vbd/5632/params', value: 'aio:/isos/x.iso' }), ctx);
    expect(l).toHaveLength(1);
    expect(l[0].id).toBe(ID);
    expect(l[0].event).toMatchObject({ type: 'cd.params', where: 'libxl', value: 'aio:/isos/x.iso' });
  });

  it('maps the stub domain\'s vbd entries to the guest\'s actor, marked fromStubdom', () => {
    const ctx = fakeCtx();
    const out = routeCdrom(rec('xs.write', { path: '/local/domain/0/backend/vbd/7/5632/params', value: '/isos/new.iso' }), ctx);
    expect(out[0].id).toBe(ID);
    expect(out[0].event).toMatchObject({ type: 'cd.params', fromStubdom: true });
    const dev = routeCdrom(rec('xs.write', { path: '/local/domain/0/backend/vbd/7/5632/device-type', value: 'cdrom' }), ctx);
    expect(dev[0].event).toMatchObject({ type: 'cd.device', domid: 7, fromStubdom: true, stubdom: true });
  });

  it('sees the stub domain\'s PV disk detach as cd.detached (no creation)', () => {
    const out = routeCdrom(rec('xs.rm', { path: '/local/domain/0/backend/vbd/7/5632' }), fakeCtx());
    expect(out).toEqual([{ id: ID, uuid: UUID, event: expect.objectContaining({ type: 'cd.detached', domid: 7, fromStubdom: true }) }]);
    expect(out[0].input).toBeUndefined();
    expect(routeCdrom(rec('xs.rm', { path: '/local/domain/0/backend/vbd/5/768' }), fakeCtx())).toEqual([]);
  });

  it('routes nothing for a domain whose uuid is not known yet', () => {
    expect(routeCdrom(rec('xs.write', { path: '/local/domain/0/backend/vbd/3/5632/device-type', value: 'cdrom' }), fakeCtx())).toEqual([]);
  });

  it('creates the actor from the first cd command naming it (by name, domid or uuid)', () => {
    const ctx = fakeCtx();
    for (const domain of ['win10', 5, '5', UUID]) {
      const out = routeCdrom(
        rec('cmd.request', { cmd: 'c1', user: 'alice', op: 'cd-insert', args: { domain, vdev: 'hdc', path: '/isos/x.iso' } }, { src: 'user' }),
        ctx,
      );
      expect(out).toHaveLength(1);
      expect(out[0].id).toBe(ID);
      expect(out[0].input).toMatchObject({ uuid: UUID, devid: 5632, vdev: 'hdc', stubdom: true });
      expect(out[0].event).toMatchObject({ type: 'cd.request', cmd: 'c1', op: 'cd-insert', vdev: 'hdc', path: '/isos/x.iso', stubdom: true });
    }
  });

  it('maps vdev forms to the same devid (xvdc and 51744) and refuses invalid vdevs and other ops', () => {
    const ctx = fakeCtx();
    const x = routeCdrom(rec('cmd.request', { cmd: 'c', user: 'a', op: 'cd-eject', args: { domain: 5, vdev: 'xvdc' } }), ctx);
    expect(x[0].id).toBe(cdromActorId(UUID, 51744));
    expect(routeCdrom(rec('cmd.request', { cmd: 'c', user: 'a', op: 'cd-eject', args: { domain: 5, vdev: 'hdz' } }), ctx)).toEqual([]);
    expect(routeCdrom(rec('cmd.request', { cmd: 'c', user: 'a', op: 'shutdown', args: { domain: 5 } }), ctx)).toEqual([]);
  });

  it('delivers a cmd.result, and the xl step lines of its output tagged with the command, to the CD-ROMs', () => {
    const output = [
      'libxl: debug: libxl_disk.c:945:cdrom_insert_lock_acquired: Domain 5:rc=0',
      'some other line',
      'libxl: debug: libxl_disk.c:1476:cdrom_insert_done: Domain 5:rc=0',
    ].join('\n');
    const out = routeCdrom(rec('cmd.result', { cmd: 'c1', ok: true, output }), fakeCtx());
    expect(out.map((r) => r.event.type)).toEqual(['cd.step', 'cd.step', 'cd.result']);
    expect(out.every((r) => r.id === ID && r.input === undefined)).toBe(true);
    expect(out[0].event).toMatchObject({ step: 'lock-acquired', rc: 0, cmd: 'c1' });
    expect(out[2].event).toMatchObject({ type: 'cd.result', cmd: 'c1', ok: true });
  });

  it('routes xl log step lines of a guest (or its stub domain) to its CD-ROMs', () => {
    const out = routeCdrom(
      rec('log.line', { file: 'xl', line: 'libxl: debug: libxl_disk.c:1375:cdrom_insert_inserted: Domain 5:rc=-28' }),
      fakeCtx(),
    );
    expect(out).toHaveLength(1);
    expect(out[0].event).toMatchObject({ type: 'cd.step', step: 'inserted', rc: -28 });
    expect(routeCdrom(rec('log.line', { file: 'qemu-dm', line: 'x' }), fakeCtx())).toEqual([]);
  });

  it('routes QMP replies of the media-change commands, narrowing a locked-tray refusal to ide-<devid>', () => {
    const ctx = fakeCtx({
      '/local/domain/0/backend/vbd/5/5696/device-type': 'cdrom',
    });
    const all = routeCdrom(rec('qmp.reply', { domid: 5, command: 'remove-fd', ok: false, error: { class: 'GenericError', desc: 'x' } }), ctx);
    expect(all.map((r) => r.id)).toEqual([ID, cdromActorId(UUID, 5696)]);
    const locked = routeCdrom(
      rec('qmp.reply', {
        domid: 5, command: 'eject', ok: false,
        error: { class: 'GenericError', desc: "Device 'ide-5696' is locked and force was not specified, wait for tray to open and try again" },
      }),
      ctx,
    );
    expect(locked.map((r) => r.id)).toEqual([cdromActorId(UUID, 5696)]);
    expect(routeCdrom(rec('qmp.reply', { domid: 5, command: 'query-status', ok: true }), ctx)).toEqual([]);
  });

  it('maps DEVICE_TRAY_MOVED ide-<devid> to its actor without creating one', () => {
    const out = routeCdrom(
      rec('qmp.event', { domid: 5, event: 'DEVICE_TRAY_MOVED', data: { device: 'ide-5632', 'tray-open': true, id: 'ide-5632' } }),
      fakeCtx(),
    );
    expect(out).toEqual([{ id: ID, uuid: UUID, event: expect.objectContaining({ type: 'cd.tray', open: true }) }]);
    expect(routeCdrom(rec('qmp.event', { domid: 5, event: 'RESET', data: {} }), fakeCtx())).toEqual([]);
  });

  it('ignores unrelated records cheaply', () => {
    const ctx = fakeCtx();
    expect(routeCdrom(rec('xs.write', { path: '/local/domain/5/memory/target', value: '1' }), ctx)).toEqual([]);
    expect(routeCdrom(rec('machine.transition', { actor: ID, from: 'a', to: 'b', cause: 1 }), ctx)).toEqual([]);
    expect(routeCdrom(rec('dominfo', { domid: 5 }), ctx)).toEqual([]);
  });
});

describe('cdrom incidents', () => {
  const base = { actor: ID, seq: 50, ts: 0 };
  it('reports cdrom-failure on entering failed, with the attempts and last error, from the change\'s first seq', () => {
    const hit = cdromIncident({
      ...base, from: 'retrying', to: 'failed',
      context: { vdev: 'hdc', devid: 5632, attempts: 10, lastError: 'blockdev-change-medium failed after 10 retries: GenericError: x', op: { op: 'cd-insert', startSeq: 12 } },
    });
    expect(hit).toEqual({
      kind: 'cdrom-failure',
      summary: 'CD-ROM hdc: cd-insert failed after 10 retries: blockdev-change-medium failed after 10 retries: GenericError: x',
      start: 12,
    });
  });

  it('reports cdrom-locked on entering locked', () => {
    const hit = cdromIncident({ ...base, from: 'ejecting', to: 'locked', context: { vdev: 'hdc', op: { startSeq: 40 } } });
    expect(hit?.kind).toBe('cdrom-locked');
    expect(hit?.start).toBe(40);
    expect(hit?.summary).toMatch(/force eject offered/);
  });

  it('reports nothing for other transitions', () => {
    expect(cdromIncident({ ...base, from: 'inserting', to: 'inserted', context: {} })).toBeNull();
    expect(cdromIncident({ ...base, from: 'failed', to: 'failed', context: {} })).toBeNull();
  });

  it('is the binding\'s incident hook, and the binding names its kind and version', () => {
    expect(cdromBinding.kind).toBe('cdrom');
    expect(cdromBinding.version).toBe('1');
    expect(cdromBinding.incident).toBe(cdromIncident);
  });
});
