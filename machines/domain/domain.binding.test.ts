import { describe, expect, it } from 'vitest';
import type { XRecord } from '../events/record.ts';
import type { RouteContext } from '../host/binding.ts';
import { HostRouter } from '../host/router.ts';
import { domainBinding, domainIncident, routeDomain } from './domain.binding.ts';

const U = '6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const ID = `domain:${U}`;

function rec(seq: number, type: string, data: Record<string, unknown>, extra: Partial<XRecord> = {}): XRecord {
  return { seq, ts: 1_000 + seq, src: 'xs', type, data, prev: '', hash: '', ...extra };
}

/** A tiny RouteContext over a map of xenstore nodes and a domid → uuid map. */
function fakeCtx(tree: Record<string, string> = {}, uuids: Record<number, string> = {}): RouteContext {
  return {
    uuidOf: (d) => uuids[d],
    domidOf: (u) => {
      const hit = Object.entries(uuids).find(([, v]) => v === u);
      return hit ? Number(hit[0]) : undefined;
    },
    uuidOfName: () => undefined,
    read: (p) => tree[p],
    children: (p) => {
      const pre = `${p}/`;
      const names = new Set<string>();
      for (const k of Object.keys(tree)) if (k.startsWith(pre)) names.add(k.slice(pre.length).split('/')[0] ?? '');
      return [...names].sort();
    },
    domainType: () => undefined,
    targetOf: () => undefined,
    stubdomOf: () => undefined,
    has: () => false,
  };
}

describe('routeDomain', () => {
  it('routes an introduce to domain:<uuid>, with input so it may create the actor', () => {
    const out = routeDomain(rec(3, 'xs.introduce', { domid: 5 }), fakeCtx({ '/local/domain/5/name': 'web' }, { 5: U }));
    expect(out).toEqual([{ id: ID, uuid: U, input: { uuid: U, domid: 5, name: 'web' }, event: { type: 'domain.introduce', domid: 5, ts: 1003, seq: 3 } }]);
  });

  it('routes nothing for an introduce whose uuid is not known yet', () => {
    expect(routeDomain(rec(3, 'xs.introduce', { domid: 5 }), fakeCtx())).toEqual([]);
  });

  it('keys by the record uuid, or by ~/vm in the mirror, when the router has no mapping', () => {
    expect(routeDomain(rec(3, 'xs.release', { domid: 5 }, { domid: 5, uuid: U }), fakeCtx())[0]?.id).toBe(ID);
    expect(routeDomain(rec(3, 'xs.release', { domid: 5 }), fakeCtx({ '/local/domain/5/vm': `/vm/${U}` }))[0]?.id).toBe(ID);
  });

  it('takes the uuid of a ~/vm write from its value and may create the actor', () => {
    const out = routeDomain(rec(4, 'xs.write', { path: '/local/domain/6/vm', value: `/vm/${U}` }), fakeCtx());
    expect(out).toEqual([{ id: ID, uuid: U, input: { uuid: U, domid: 6, name: undefined }, event: { type: 'domain.vm', domid: 6, ts: 1004, seq: 4 } }]);
  });

  it('routes name, type, stub domain and target writes without input', () => {
    const ctx = fakeCtx({}, { 5: U });
    const ev = (path: string, value: string) => routeDomain(rec(9, 'xs.write', { path, value }), ctx).map((r) => [r.input, r.event]);
    expect(ev('/local/domain/5/name', 'web')).toEqual([[undefined, { type: 'domain.name', domid: 5, name: 'web', ts: 1009, seq: 9 }]]);
    expect(ev('/libxl/5/type', 'hvm')).toEqual([[undefined, { type: 'domain.type', domid: 5, domainType: 'hvm', ts: 1009, seq: 9 }]]);
    expect(ev('/libxl/5/type', 'weird')).toEqual([]);
    expect(ev('/local/domain/5/image/device-model-domid', '6')).toEqual([[undefined, { type: 'domain.stubdom', domid: 5, stubdomId: 6, ts: 1009, seq: 9 }]]);
    expect(ev('/local/domain/5/target', '3')).toEqual([[undefined, { type: 'domain.target', domid: 5, targetDomid: 3, ts: 1009, seq: 9 }]]);
  });

  it('routes control/shutdown: a request word is a request, "" is the ack, anything else nothing', () => {
    const ctx = fakeCtx({}, { 5: U });
    const ev = (value: string) => routeDomain(rec(9, 'xs.write', { path: '/local/domain/5/control/shutdown', value }), ctx).map((r) => r.event.type + ':' + String((r.event as { request?: string }).request));
    expect(ev('reboot')).toEqual(['domain.shutdown.request:reboot']);
    expect(ev('halt')).toEqual(['domain.shutdown.request:halt']);
    expect(ev('')).toEqual(['domain.shutdown.ack:undefined']);
    expect(ev('crash')).toEqual([]);
  });

  it('routes the removal of /local/domain/<id> only, not of its children', () => {
    const ctx = fakeCtx({}, { 5: U });
    expect(routeDomain(rec(9, 'xs.rm', { path: '/local/domain/5' }), ctx).map((r) => r.event.type)).toEqual(['domain.removed']);
    expect(routeDomain(rec(9, 'xs.rm', { path: '/local/domain/5/device/vbd/51712' }), ctx)).toEqual([]);
  });

  it('routes dominfo by its own uuid, with input', () => {
    const out = routeDomain(
      rec(9, 'dominfo', { domid: 5, uuid: U, name: 'web', running: false, blocked: false, paused: false, shutdown: true, dying: false, reason: 'crash' }, { src: 'dominfo' }),
      fakeCtx(),
    );
    expect(out).toEqual([
      {
        id: ID,
        uuid: U,
        input: { uuid: U, domid: 5, name: 'web' },
        event: { type: 'domain.info', domid: 5, name: 'web', running: false, blocked: false, paused: false, shutdown: true, dying: false, reason: 'crash', ts: 1009, seq: 9 },
      },
    ]);
  });

  it('routes recognised xl log lines by domid, or by name through the mirror; other files and lines are ignored', () => {
    const ctx = fakeCtx({ '/local/domain/5/name': 'web', '/local/domain/5/vm': `/vm/${U}` }, { 5: U });
    const byName = routeDomain(rec(9, 'log.line', { file: 'xl', name: 'web', line: 'Action for shutdown reason code 3 is restart' }, { src: 'log' }), ctx);
    expect(byName.map((r) => [r.id, r.input, r.event.type])).toEqual([[ID, undefined, 'domain.xl']]);
    expect(routeDomain(rec(9, 'log.line', { file: 'xl', line: 'Domain 5 has been destroyed.' }, { src: 'log' }), ctx)[0]?.id).toBe(ID);
    expect(routeDomain(rec(9, 'log.line', { file: 'qemu-dm', domid: 5, line: 'Done. Rebooting now' }, { src: 'log' }), ctx)).toEqual([]);
    expect(routeDomain(rec(9, 'log.line', { file: 'xl', domid: 5, line: 'Parsing config from /etc/xen/web.cfg' }, { src: 'log' }), ctx)).toEqual([]);
  });

  it('ignores records of other kinds, including machine.transition', () => {
    const ctx = fakeCtx({}, { 5: U });
    expect(routeDomain(rec(9, 'machine.transition', { actor: ID, from: 'running', to: 'gone', cause: 3 }), ctx)).toEqual([]);
    expect(routeDomain(rec(9, 'qmp.event', { domid: 5, event: 'SHUTDOWN' }), ctx)).toEqual([]);
    expect(routeDomain(rec(9, 'xs.write', { path: '/local/domain/5/device/vbd/51712/state', value: '4' }), ctx)).toEqual([]);
  });
});

describe('domainIncident', () => {
  const base = { actor: ID, ts: 0 };
  const ctx = { uuid: U, name: 'web', domid: 5, onActions: {}, softResetCount: 1, lastShutdownSeq: 40 };

  it('a crash is an incident, with the on_crash action when known', () => {
    expect(domainIncident({ ...base, from: 'running', to: 'shutdown.crash', seq: 40, context: { ...ctx, lastAction: 'preserve' } })).toEqual({
      kind: 'crash',
      summary: 'web (domid 5) crashed; on_crash=preserve',
    });
  });

  it('a watchdog shutdown is an incident', () => {
    expect(domainIncident({ ...base, from: 'running', to: 'shutdown.watchdog', seq: 40, context: ctx })?.kind).toBe('watchdog');
  });

  it('a soft reset is an incident from the soft_reset shutdown to the re-introduce', () => {
    expect(domainIncident({ ...base, from: 'softResetting', to: 'running', seq: 52, context: ctx })).toMatchObject({ kind: 'soft-reset', start: 40 });
  });

  it('a crash followed by a restart is an incident from the crash to the new domid running', () => {
    const hit = domainIncident({
      ...base,
      from: 'creating',
      to: 'running',
      seq: 60,
      context: { ...ctx, domid: 6, previousDomid: 5, restartAfterReason: 'crash', restartRunningSeq: 60, onActions: { crash: 'restart' } },
    });
    expect(hit).toEqual({ kind: 'crash-restart', summary: 'web crashed as domid 5 and was restarted as domid 6 (on_crash=restart)', start: 40 });
  });

  it('after on_crash=preserve or destroy, the domain created again under its uuid is not a crash-restart (a person did it); rename-restart is', () => {
    const again = (crash: string) =>
      domainIncident({
        ...base,
        from: 'gone',
        to: 'running',
        seq: 90,
        context: { ...ctx, domid: 15, previousDomid: 5, restartAfterReason: 'crash', restartRunningSeq: 90, onActions: { crash } },
      });
    expect(again('preserve')).toBeNull();
    expect(again('destroy')).toBeNull();
    expect(again('coredump-destroy')).toBeNull();
    expect(again('rename-restart')).toMatchObject({ kind: 'crash-restart' });
  });

  it('a reboot restart, a pause and an unpause are not incidents', () => {
    expect(domainIncident({ ...base, from: 'gone', to: 'running', seq: 60, context: { ...ctx, restartAfterReason: 'reboot', restartRunningSeq: 60 } })).toBeNull();
    expect(domainIncident({ ...base, from: 'running', to: 'paused', seq: 60, context: ctx })).toBeNull();
    expect(domainIncident({ ...base, from: 'paused', to: 'running', seq: 61, context: { ...ctx, restartAfterReason: 'crash', restartRunningSeq: 30 } })).toBeNull();
  });
});

describe('domain binding through the host router', () => {
  let seq = 0;
  const at = (type: string, data: Record<string, unknown>, src: XRecord['src'] = 'xs'): XRecord => {
    seq += 1;
    return { seq, ts: 10_000 + seq * 100, src, type, data, prev: '', hash: '' };
  };
  const dominfo = (domid: number, f: Record<string, unknown>) =>
    at('dominfo', { domid, uuid: U, running: false, blocked: true, paused: false, shutdown: false, dying: false, ...f }, 'dominfo');
  const create = (domid: number) => [
    at('xs.write', { path: `/local/domain/${domid}/vm`, value: `/vm/${U}` }),
    at('xs.write', { path: `/local/domain/${domid}/name`, value: 'web' }),
    at('xs.write', { path: `/libxl/${domid}/type`, value: 'hvm' }),
    at('xs.introduce', { domid }),
  ];

  it('crash then restart with a new domid: a crash incident and a crash-restart incident spanning both', () => {
    seq = 0;
    const router = new HostRouter([domainBinding]);
    const feed = (rs: XRecord[]) => rs.flatMap((r) => router.apply(r));
    feed(create(5));
    const crash = dominfo(5, { blocked: false, shutdown: true, reason: 'crash' });
    feed([crash]);
    feed([
      at('log.line', { file: 'xl', name: 'web', line: 'Action for shutdown reason code 3 is restart' }, 'log'),
      dominfo(5, { blocked: false, dying: true }),
      at('xs.release', { domid: 5 }),
      at('xs.rm', { path: '/local/domain/5' }),
    ]);
    const tr = feed(create(6));
    const intro = seq;
    expect(tr.map((t) => `${t.from}>${t.to}`)).toEqual(['gone>creating', 'creating>running']);
    const view = router.view();
    // The crash incident runs until the domain left the crash, with xl's action learned meanwhile.
    expect(view.incidents.map((i) => i.kind)).toEqual(['crash', 'crash-restart']);
    expect(view.incidents[0].from).toBe(crash.seq);
    expect(view.incidents[0].to).toBeGreaterThan(crash.seq);
    expect(view.incidents[0].to).toBeLessThan(intro);
    expect(view.incidents[0].summary).toBe('web (domid 5) crashed; on_crash=restart');
    expect(view.incidents[1]).toMatchObject({ from: crash.seq, to: intro });
    expect(view.incidents[1]?.summary).toBe('web crashed as domid 5 and was restarted as domid 6 (on_crash=restart)');
  });

  it('soft reset: one soft-reset incident from the soft_reset shutdown to the re-introduce, domid kept', () => {
    seq = 0;
    const router = new HostRouter([domainBinding]);
    const feed = (rs: XRecord[]) => rs.flatMap((r) => router.apply(r));
    feed(create(5));
    const sr = dominfo(5, { blocked: false, shutdown: true, reason: 'soft_reset' });
    feed([sr, at('xs.release', { domid: 5 }), at('xs.release', { domid: 5 }), at('xs.rm', { path: '/local/domain/5' })]);
    feed(create(5));
    const view = router.view();
    expect(view.incidents.map((i) => [i.kind, i.from, i.to])).toEqual([['soft-reset', sr.seq, seq]]);
    const actor = view.actors.find((a) => a.id === ID);
    expect(actor?.state).toBe('running');
    expect(actor?.context).toMatchObject({ domid: 5, softResetCount: 1, restartCount: 0 });
  });
});
