import { describe, expect, it } from 'vitest';
import type { RouteContext } from '../host/binding.ts';
import { ninepfsBinding, ninepfsIncident } from './ninepfs.binding.ts';

const U5 = 'bbbb0000-0000-4000-8000-000000000005';
const FE = '/local/domain/5/device/9pfs/0';
const BE = '/local/domain/0/backend/xen_9pfs/5/0';
const ID = `ninepfs:${U5}:9pfs/0`;

function fakeCtx(tree: Record<string, string>, actors: string[] = []): RouteContext {
  return {
    uuidOf: (d) => (d === 5 ? U5 : undefined),
    domidOf: () => undefined,
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
const rec = (type: string, data: Record<string, unknown>) => ({ seq: ++seq, ts: 2000 + seq, src: 'xs', type, data, prev: '', hash: '' }) as any;

describe('ninepfs route', () => {
  it('creates the actor from a xen_9pfs backend key, keyed on the frontend uuid', () => {
    const out = ninepfsBinding.route(rec('xs.write', { path: `${BE}/security_model`, value: 'none' }), fakeCtx({}));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      id: ID,
      uuid: U5,
      input: { uuid: U5, domid: 5, devid: 0 },
      event: { type: 'ninepfs.write', side: 'backend', key: 'security_model', value: 'none', domid: 5, backendDomid: 0, prior: [] },
    });
  });

  it('does not route QEMU-served 9pfs backends (backend kind 9pfs)', () => {
    expect(ninepfsBinding.route(rec('xs.write', { path: '/local/domain/0/backend/9pfs/5/0/state', value: '1' }), fakeCtx({}))).toEqual([]);
    const tree = { [`${FE}/backend`]: '/local/domain/0/backend/9pfs/5/0' };
    expect(ninepfsBinding.route(rec('xs.write', { path: `${FE}/state`, value: '1' }), fakeCtx(tree))).toEqual([]);
  });

  it('routes frontend keys once the frontend points at a xen_9pfs backend', () => {
    expect(ninepfsBinding.route(rec('xs.write', { path: `${FE}/state`, value: '1' }), fakeCtx({}))).toEqual([]);
    const viaRecord = ninepfsBinding.route(rec('xs.write', { path: `${FE}/backend`, value: BE }), fakeCtx({}));
    expect(viaRecord[0]!.id).toBe(ID);
    const tree = { [`${FE}/backend`]: BE };
    const out = ninepfsBinding.route(rec('xs.write', { path: `${FE}/num-rings`, value: '2' }), fakeCtx(tree, [ID]));
    expect(out[0]!.event).toMatchObject({ side: 'frontend', key: 'num-rings', value: '2' });
    expect(out[0]!.event).not.toHaveProperty('prior');
  });

  it('routes event-channel-N and ring-refN but not look-alikes or unrelated keys', () => {
    const ctx = fakeCtx({ [`${FE}/backend`]: BE }, [ID]);
    expect(ninepfsBinding.route(rec('xs.write', { path: `${FE}/event-channel-3`, value: '9' }), ctx)).toHaveLength(1);
    expect(ninepfsBinding.route(rec('xs.write', { path: `${FE}/ring-ref3`, value: '9' }), ctx)).toHaveLength(1);
    expect(ninepfsBinding.route(rec('xs.write', { path: `${FE}/tag`, value: 'share' }), ctx)).toEqual([]);
    expect(ninepfsBinding.route(rec('xs.write', { path: `${BE}/max-space`, value: '10' }), ctx)).toEqual([]);
  });

  it('carries both sides’ keys from the mirror when it creates the actor', () => {
    const tree = { [`${FE}/backend`]: BE, [`${FE}/state`]: '1', [`${BE}/state`]: '1', [`${BE}/path`]: '/srv/share' };
    const out = ninepfsBinding.route(rec('xs.write', { path: `${BE}/security_model`, value: 'none' }), fakeCtx(tree));
    expect(out[0]!.event.prior).toEqual([
      { side: 'frontend', key: 'state', value: '1' },
      { side: 'frontend', key: 'backend', value: BE },
      { side: 'backend', key: 'state', value: '1', backendDomid: 0 },
      { side: 'backend', key: 'path', value: '/srv/share', backendDomid: 0 },
    ]);
  });

  it('delivers removals (key, directory, ancestor) only to an existing actor', () => {
    const tree = { [`${FE}/backend`]: BE, [`${FE}/state`]: '4', [`${BE}/state`]: '4' };
    const r = rec('xs.rm', { path: `${FE}/state` });
    expect(ninepfsBinding.route(r, fakeCtx(tree))).toEqual([]);
    expect(ninepfsBinding.route(r, fakeCtx(tree, [ID]))).toEqual([{ id: ID, uuid: U5, event: { type: 'ninepfs.rm', ts: r.ts, seq: r.seq, domid: 5, side: 'frontend', key: 'state' } }]);
    const all = ninepfsBinding.route(rec('xs.rm', { path: '/local/domain/0/backend/xen_9pfs' }), fakeCtx(tree, [ID]));
    expect(all.map((o) => o.event)).toMatchObject([{ type: 'ninepfs.rm', side: 'backend', key: '' }]);
  });

  it('ignores other records', () => {
    expect(ninepfsBinding.route(rec('dominfo', { domid: 5 }), fakeCtx({}))).toEqual([]);
    expect(ninepfsBinding.route(rec('xs.write', { path: '/local/domain/0/backend/vbd/5/768/state', value: '1' }), fakeCtx({}))).toEqual([]);
  });
});

describe('ninepfs incidents', () => {
  const base = { actor: ID, seq: 30, ts: 3000 };
  it('reports handshake-failure with the close reason when validation closes the device', () => {
    const hit = ninepfsIncident({ ...base, from: 'daemon.published,observed.complied', to: 'daemon.closed,observed.pending',
      context: { devid: 0, failedBy: 'validation', closeReason: 'num-rings 5 out of 1..4', verdict: 'pending', expectSeq: 29 } });
    expect(hit).toEqual({ kind: 'handshake-failure', summary: '9pfs/0: xen-9pfsd must close the backend: num-rings 5 out of 1..4 (not yet observed)', start: 29 });
  });

  it('reports handshake-failure when the device must be refused', () => {
    const hit = ninepfsIncident({ ...base, from: 'daemon.probing,observed.pending', to: 'daemon.refused,observed.complied',
      context: { devid: 0, failedBy: 'probe', closeReason: 'security_model "x" is not none', verdict: 'complied', expectSeq: 30 } });
    expect(hit?.summary).toBe('9pfs/0: xen-9pfsd must refuse the device: security_model "x" is not none (it did)');
  });

  it('reports a backend deviating from xen-9pfsd', () => {
    const hit = ninepfsIncident({ ...base, from: 'daemon.published,observed.pending', to: 'daemon.published,observed.deviated',
      context: { devid: 0, deviation: 'InitWait with max-rings=8 (xen-9pfsd writes 4)', verdict: 'deviated', expectSeq: 29 } });
    expect(hit).toEqual({ kind: 'handshake-failure', summary: '9pfs/0: backend deviated from xen-9pfsd: InitWait with max-rings=8 (xen-9pfsd writes 4)', start: 29 });
  });

  it('does not report a device twice: a deviation after a reported failure is only in the state', () => {
    const hit = ninepfsIncident({ ...base, from: 'daemon.closed,observed.pending', to: 'daemon.closed,observed.deviated',
      context: { devid: 0, failedBy: 'validation', deviation: 'backend Connected although num-rings 5 out of 1..4', verdict: 'deviated', expectSeq: 29 } });
    expect(hit).toBeNull();
  });

  it('reports nothing for a close the frontend asked for', () => {
    expect(ninepfsIncident({ ...base, from: 'daemon.connected,observed.complied', to: 'daemon.closed,observed.pending',
      context: { devid: 0, closeReason: 'frontend Closed', verdict: 'pending' } })).toBeNull();
  });
});
