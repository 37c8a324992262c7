/**
 * Through the host router (machines/host): the xenbus and ninepfs actors of one xen-9pfsd
 * device, side by side, and the rule that a device is reported once.
 */
import { describe, expect, it } from 'vitest';
import { replay } from '../host/replay.ts';
import { xenbusBinding } from '../xenbus/xenbus.binding.ts';
import { ninepfsBinding } from './ninepfs.binding.ts';

const UUID = 'cccc0000-0000-4000-8000-00000000000c';
const FE = '/local/domain/5/device/9pfs/0';
const BE = '/local/domain/0/backend/xen_9pfs/5/0';

function records(steps: Array<[number, string, Record<string, unknown>]>) {
  return steps.map(([ts, type, data], i) => ({ seq: i + 1, ts, src: 'xs', type, data, prev: '', hash: '' }) as any);
}

const BASE: Array<[number, string, Record<string, unknown>]> = [
  [1000, 'dominfo', { domid: 5, uuid: UUID, running: true, blocked: false, paused: false, shutdown: false, dying: false }],
  [1000, 'xs.write', { path: '/local/domain/5/vm', value: `/vm/${UUID}` }],
  [1010, 'xs.write', { path: `${FE}/backend`, value: BE }],
  [1010, 'xs.write', { path: `${FE}/state`, value: '1' }],
  [1010, 'xs.write', { path: `${BE}/state`, value: '1' }],
];

function run(extra: Array<[number, string, Record<string, unknown>]>) {
  const { view } = replay(records([...BASE, ...extra]), [xenbusBinding, ninepfsBinding]);
  const state = (id: string) => view.actors.find((a) => a.id === id)?.state;
  return { view, xenbus: state(`xenbus:${UUID}:9pfs/0`), ninepfs: state(`ninepfs:${UUID}:9pfs/0`) };
}

describe('xenbus and ninepfs through the router', () => {
  it('reports a frontend with num-rings 5 once, with the close reason', () => {
    const r = run([
      [1010, 'xs.write', { path: `${BE}/security_model`, value: 'none' }],
      [1010, 'xs.write', { path: `${BE}/path`, value: '/srv/share' }],
      [1020, 'xs.write', { path: `${BE}/versions`, value: '1' }],
      [1020, 'xs.write', { path: `${BE}/max-rings`, value: '4' }],
      [1020, 'xs.write', { path: `${BE}/max-ring-page-order`, value: '9' }],
      [1020, 'xs.write', { path: `${BE}/state`, value: '2' }],
      [1100, 'xs.write', { path: `${FE}/version`, value: '1' }],
      [1100, 'xs.write', { path: `${FE}/num-rings`, value: '5' }],
      [1100, 'xs.write', { path: `${FE}/state`, value: '3' }],
      [1110, 'xs.write', { path: `${BE}/state`, value: '6' }],
    ]);
    expect(r.xenbus).toBe('backend.Closed,frontend.Initialised,link.failed');
    expect(r.ninepfs).toBe('daemon.closed,observed.complied');
    const hits = r.view.incidents.filter((i) => i.actor.includes(':9pfs/0'));
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ kind: 'handshake-failure' });
    expect(JSON.stringify(hits[0])).toContain('num-rings 5 out of 1..4');
  });

  it('reports a refused security model once, not again as an InitWait stall', () => {
    const r = run([
      [1010, 'xs.write', { path: `${BE}/security_model`, value: 'mapped-xattr' }],
      [1010, 'xs.write', { path: `${BE}/path`, value: '/srv/share' }],
      [30_000, 'host.tick', {}],
    ]);
    expect(r.xenbus).toBe('backend.Initialising,frontend.Initialising,link.stalled');
    expect(r.ninepfs).toBe('daemon.refused,observed.complied');
    const hits = r.view.incidents.filter((i) => i.actor.includes(':9pfs/0'));
    expect(hits.map((h) => h.kind)).toEqual(['handshake-failure']);
  });

  it('reports a daemon that never answers as an InitWait stall from the xenbus actor', () => {
    const r = run([
      [1010, 'xs.write', { path: `${BE}/security_model`, value: 'none' }],
      [1010, 'xs.write', { path: `${BE}/path`, value: '/srv/share' }],
      [30_000, 'host.tick', {}],
    ]);
    expect(r.ninepfs).toBe('daemon.published,observed.pending');
    const hits = r.view.incidents.filter((i) => i.actor.includes(':9pfs/0'));
    expect(hits.map((h) => [h.kind, h.actor.split(':')[0]])).toEqual([['handshake-stall', 'xenbus']]);
  });
});
