import { describe, expect, it } from 'vitest';
import type { XRecord } from '../events/record.ts';
import { HostRouter } from '../host/router.ts';
import { cdromActorId, cdromBinding } from './cdrom.binding.ts';
import { UUID, libxlLine } from './cdrom.test-support.ts';

const STUB_UUID = '77777777-1111-4222-8333-944455556666';
const ID = cdromActorId(UUID, 5632);
const LOCKED = "Device 'ide-5632' is locked and force was not specified, wait for tray to open and try again";

/** Records as the host would stamp them: seq 1.., ts advancing by `dt` ms each unless given. */
function recorder(t0 = 1_763_740_000_000) {
  const recs: XRecord[] = [];
  let ts = t0;
  const add = (type: string, data: Record<string, unknown>, dt = 10) => {
    ts += dt;
    recs.push({ seq: recs.length + 1, ts, src: 'sim', type, data, prev: '', hash: '' } as XRecord);
    return recs.length;
  };
  return {
    recs,
    add,
    xs: (path: string, value: string, dt?: number) => add('xs.write', { path, value }, dt),
    rm: (path: string, dt?: number) => add('xs.rm', { path }, dt),
    qmp: (command: string, ok: boolean, extra: Record<string, unknown> = {}, dt?: number) =>
      add('qmp.reply', { domid: 5, command, ok, ...extra }, dt),
  };
}

/** A guest (domid 5) whose QEMU runs in stub domain 7, with CD-ROM hdc empty. */
function stubHost(r: ReturnType<typeof recorder>) {
  r.xs('/local/domain/5/vm', `/vm/${UUID}`);
  r.xs('/local/domain/7/vm', `/vm/${STUB_UUID}`);
  r.xs('/local/domain/7/target', '5');
  r.xs('/local/domain/5/image/device-model-domid', '7');
  for (const d of [5, 7]) {
    const be = `/local/domain/0/backend/vbd/${d}/5632`;
    r.xs(`${be}/dev`, 'hdc');
    r.xs(`${be}/params`, '');
    r.xs(`${be}/device-type`, 'cdrom');
  }
}

function run(recs: XRecord[]) {
  const router = new HostRouter([cdromBinding]);
  const transitions = recs.flatMap((rec) => router.apply(rec));
  return { router, transitions };
}

describe('cdrom through the host router', () => {
  it('a stub-domain change whose blockdev-change-medium keeps failing: retries on the record clock, then a cdrom-failure incident from the request on', () => {
    const r = recorder();
    stubHost(r);
    const req = r.add('cmd.request', { cmd: 'c1', user: 'alice', op: 'cd-insert', args: { domain: 5, vdev: 'hdc', path: '/isos/x.iso' } });
    r.qmp('query-version', true, { return: { qemu: { major: 7, minor: 2, micro: 22 } } });
    r.qmp('eject', true);
    r.qmp('remove-fd', false, { error: { class: 'GenericError', desc: "File descriptor named 'fdset-id:8002' not found" } });
    r.rm('/local/domain/0/backend/vbd/7/5632');
    r.xs('/local/domain/0/backend/vbd/7/5632/dev', 'hdc');
    r.xs('/local/domain/0/backend/vbd/7/5632/params', '/isos/x.iso');
    r.xs('/local/domain/0/backend/vbd/7/5632/device-type', 'cdrom');
    r.xs('/local/domain/0/backend/vbd/7/5632/params', '');
    let last = 0;
    for (let i = 0; i <= 10; i++) last = r.qmp('blockdev-change-medium', false, { error: { class: 'GenericError', desc: 'Could not open /dev/fdset/8002' } }, 150);
    const { router, transitions } = run(r.recs);

    expect(router.actorState(ID)).toBe('failed');
    const mine = transitions.filter((t) => t.actor === ID).map((t) => t.to);
    expect(mine.slice(0, 4)).toEqual(['empty', 'ejecting', 'inserting', 'retrying']);
    expect(mine.filter((s) => s === 'retrying')).toHaveLength(10);
    expect(mine.at(-1)).toBe('failed');
    const ctx = router.view().actors.find((a) => a.id === ID)!.context as { attempts: number; fdset: number; stubdom: boolean };
    expect(ctx).toMatchObject({ attempts: 10, fdset: 8002, stubdom: true });
    expect(router.incidents).toEqual([
      expect.objectContaining({ kind: 'cdrom-failure', actor: ID, uuid: UUID, from: req, to: last }),
    ]);
    expect(router.incidents[0].summary).toMatch(/failed after 10 retries/);
    expect(router.faults).toEqual([]);
  });

  it('a locked tray from xl -v output raises cdrom-locked; a forced eject leads back to empty', () => {
    const r = recorder();
    stubHost(r);
    r.xs('/local/domain/0/backend/vbd/7/5632/params', '/isos/old.iso');
    const req = r.add('cmd.request', { cmd: 'c1', user: 'alice', op: 'cd-eject', args: { domain: 5, vdev: 'hdc' } });
    r.add('log.line', { file: 'xl', domid: 5, line: `libxl: error: libxl_qmp.c:1837:qmp_ev_parse_error_messages: Domain 5:${LOCKED}` });
    const lockedAt = r.add('cmd.result', { cmd: 'c1', ok: false, error: LOCKED });
    r.add('cmd.request', { cmd: 'c2', user: 'alice', op: 'cd-force-eject', args: { domain: 5, vdev: 'hdc' } });
    r.qmp('eject', true);
    r.add('qmp.event', { domid: 5, event: 'DEVICE_TRAY_MOVED', data: { device: 'ide-5632', 'tray-open': true, id: 'ide-5632' } });
    r.add('cmd.result', {
      cmd: 'c2',
      ok: true,
      output: [libxlLine('cdrom_insert_stubdom_ejected', 'rc=-28'), libxlLine('cdrom_insert_inserted', 'rc=0'), libxlLine('cdrom_insert_done', 'rc=0')].join('\n'),
    });
    const { router, transitions } = run(r.recs);
    const mine = transitions.filter((t) => t.actor === ID).map((t) => t.to);
    expect(mine).toEqual(['empty', 'inserted', 'ejecting', 'locked', 'ejecting', 'empty']);
    expect(router.incidents).toEqual([expect.objectContaining({ kind: 'cdrom-locked', from: req, to: lockedAt - 1 })]);
    const ctx = router.view().actors.find((a) => a.id === ID)!.context as { forceEjectOffered: boolean; trayOpen: boolean };
    expect(ctx).toMatchObject({ forceEjectOffered: false, trayOpen: true });
  });

  it('the 40 s timeout fires from the record clock when a later record passes it', () => {
    const r = recorder();
    stubHost(r);
    r.add('cmd.request', { cmd: 'c1', user: 'alice', op: 'cd-insert', args: { domain: 5, vdev: 'hdc', path: '/isos/x.iso' } });
    r.qmp('eject', true);
    const later = r.add('host.tick', {}, 39_980);
    const { router: before } = run(r.recs);
    expect(before.actorState(ID)).toBe('ejecting');
    const after = r.add('host.tick', {}, 100);
    const { router, transitions } = run(r.recs);
    expect(router.actorState(ID)).toBe('failed');
    expect(transitions.filter((t) => t.actor === ID).at(-1)).toMatchObject({ to: 'failed', cause: after });
    expect(later).toBeLessThan(after);
  });

  it('a router snapshot taken mid-retry and restored continues exactly as an uninterrupted run', () => {
    const r = recorder();
    stubHost(r);
    r.add('cmd.request', { cmd: 'c1', user: 'alice', op: 'cd-insert', args: { domain: 5, vdev: 'hdc', path: '/isos/x.iso' } });
    r.qmp('eject', true);
    r.xs('/local/domain/0/backend/vbd/7/5632/params', '');
    for (let i = 0; i < 3; i++) r.qmp('blockdev-change-medium', false, { error: { class: 'GenericError', desc: 'x' } }, 150);
    const cut = r.recs.length;
    r.qmp('blockdev-change-medium', true, {}, 150);
    const whole = run(r.recs).router.view();

    const first = new HostRouter([cdromBinding]);
    r.recs.slice(0, cut).forEach((rec) => first.apply(rec));
    const resumed = HostRouter.restore([cdromBinding], first.snapshot());
    r.recs.slice(cut).forEach((rec) => resumed.apply(rec));
    expect(resumed.view()).toEqual(whole);
    expect(resumed.actorState(ID)).toBe('inserted');
    expect((whole.actors.find((a) => a.id === ID)!.context as { attempts: number }).attempts).toBe(3);
  });
});
