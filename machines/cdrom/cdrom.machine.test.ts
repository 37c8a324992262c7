import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { cdromMachine } from './cdrom.machine.ts';
import { T0, UUID, drive, ev, libxlLine } from './cdrom.test-support.ts';

const ISO = '/isos/tools.iso';

/** A dom0 (no stub domain) change up to the point blockdev-change-medium is sent. */
function dom0InsertUpToChange() {
  const d = drive();
  d.send(ev.params('aio:/isos/old.iso'), 0);
  d.send(ev.insert('c1', ISO), 10);
  d.send(ev.qmpOk('query-version', { qemu: { major: 7, minor: 2, micro: 22 } }), 20);
  d.send(ev.qmpOk('eject'), 30);
  d.send(ev.params(''), 40);
  d.send(ev.qmpOk('add-fd', { 'fdset-id': 0, fd: 25 }), 50);
  return d;
}

describe('cdrom machine: the media change of seed 000', () => {
  it('follows the dom0 step sequence: query-version, eject, params cleared, add-fd, blockdev-change-medium (reference 4.3)', () => {
    const d = dom0InsertUpToChange();
    expect(d.state()).toBe('inserting');
    expect(d.actor.getSnapshot().context.fdset).toBe(0);
    d.send(ev.qmpOk('blockdev-change-medium'), 60);
    const c = d.actor.getSnapshot().context;
    expect(d.state()).toBe('inserted');
    expect(c.attempts).toBe(0);
    expect(c.deadline).toBeUndefined();
    expect(c.timeline.map((s) => s.step)).toEqual([
      'cd-insert', 'query-version', 'eject', 'params (backend)', 'add-fd', 'blockdev-change-medium',
    ]);
    d.send(ev.params(`aio:${ISO}`), 70);
    expect(d.actor.getSnapshot().context.mediaPath).toBe(ISO);
  });

  it('follows the stub-domain step sequence: eject, remove-fd, PV disk detach and attach, change by fdset 8002 (seed 000)', () => {
    const d = drive({ stubdom: true });
    d.send(ev.insert('c1', ISO, 'hdc', true), 0);
    expect(d.actor.getSnapshot().context.fdset).toBe(8002);
    d.send(ev.qmpOk('query-version'), 10);
    d.send(ev.qmpOk('eject'), 20);
    d.send(ev.qmpOk('remove-fd'), 30);
    expect(d.state()).toBe('ejecting');
    d.send(ev.detached(7), 40);
    expect(d.actor.getSnapshot().context.op?.stubDetached).toBe(true);
    d.send(ev.device(7, ISO, true, true), 50);
    expect(d.state()).toBe('inserting');
    d.send(ev.params(ISO, true), 60); // the attach writes the raw path before QEMU has the media
    expect(d.state()).toBe('inserting');
    d.send(ev.params('', true), 70);
    d.send(ev.qmpOk('blockdev-change-medium'), 80);
    expect(d.state()).toBe('inserted');
    expect(d.actor.getSnapshot().context.timeline.map((s) => s.step)).toContain('stubdom-disk-attached');
  });

  it('a stub-domain eject also re-attaches the PV disk and ends with blockdev-change-medium by fdset (seed 000)', () => {
    const d = drive({ stubdom: true });
    d.send(ev.device(7, ISO, true, true), 0);
    expect(d.state()).toBe('inserted');
    d.send(ev.eject('c1', 'hdc', true), 10);
    d.send(ev.qmpOk('eject'), 20);
    d.send(ev.qmpOk('query-fdsets', [{ 'fdset-id': 8002, fds: [{ fd: 3, opaque: 'stub-devid:5632' }] }]), 25);
    expect(d.actor.getSnapshot().context.fdset).toBe(8002);
    d.send(ev.qmpOk('remove-fd'), 30);
    d.send(ev.detached(7), 40);
    expect(d.state()).toBe('ejecting');
    d.send(ev.device(7, '', true, true), 50);
    d.send(ev.qmpOk('query-fdsets', [{ 'fdset-id': 1, fds: [{ fd: 4, opaque: 'stub-devid:5632' }] }]), 55);
    expect(d.actor.getSnapshot().context.fdset).toBe(1);
    expect(d.state()).toBe('inserting');
    d.send(ev.params('', true), 60);
    expect(d.state()).toBe('inserting');
    d.send(ev.qmpOk('blockdev-change-medium'), 70);
    expect(d.state()).toBe('empty');
    expect(d.actor.getSnapshot().context.mediaPath).toBeUndefined();
  });

  it('in a stub domain, media follows the stub domain\'s vbd entries, not the guest\'s (seed 000)', () => {
    const d = drive({ stubdom: true });
    d.send(ev.params(`aio:${ISO}`, false), 0);
    expect(d.state()).toBe('empty');
    d.send(ev.params(ISO, true), 10);
    expect(d.state()).toBe('inserted');
    d.send(ev.params('', false), 20);
    expect(d.state()).toBe('inserted');
  });

  it('tolerates remove-fd GenericError (empty fdset) and carries on (seed 000)', () => {
    const d = drive({ stubdom: true });
    d.send(ev.insert('c1', ISO, 'hdc', true), 0);
    d.send(ev.qmpOk('eject'), 10);
    d.send(ev.qmpErr('remove-fd', 'GenericError', "File descriptor named 'fdset-id:8002' not found"), 20);
    expect(d.state()).toBe('ejecting');
    const last = d.actor.getSnapshot().context.timeline.at(-1);
    expect(last?.step).toBe('remove-fd');
    expect(last?.detail).toMatch(/^tolerated: GenericError/);
    expect(d.actor.getSnapshot().context.lastError).toBeUndefined();
  });

  it('treats any other remove-fd error class as fatal (seed 000)', () => {
    const d = drive({ stubdom: true });
    d.send(ev.insert('c1', ISO, 'hdc', true), 0);
    d.send(ev.qmpOk('eject'), 10);
    d.send(ev.qmpErr('remove-fd', 'CommandNotFound', 'The command remove-fd has not been found'), 20);
    expect(d.state()).toBe('failed');
    expect(d.actor.getSnapshot().context.lastError).toBe('CommandNotFound: The command remove-fd has not been found');
    expect(d.actor.getSnapshot().context.deadline).toBeUndefined();
  });

  it('retries blockdev-change-medium 100 ms after a failure, and success after k retries is recorded as k (seed 000)', () => {
    const d = dom0InsertUpToChange();
    for (let k = 1; k <= 3; k++) {
      d.send(ev.qmpErr('blockdev-change-medium', 'GenericError', 'Could not open /dev/fdset/0'));
      expect(d.state()).toBe('retrying');
      const c = d.actor.getSnapshot().context;
      expect(c.attempts).toBe(k);
      expect(c.op?.retryAt).toBe(c.timeline.at(-1)!.ts + 100);
      expect(c.deadline).toBe(c.op?.retryAt);
      d.tickToDeadline();
      expect(d.state()).toBe('inserting');
    }
    d.send(ev.qmpOk('blockdev-change-medium'));
    expect(d.state()).toBe('inserted');
    expect(d.actor.getSnapshot().context.attempts).toBe(3);
  });

  it('fails after 10 retries of blockdev-change-medium (seed 000)', () => {
    const d = dom0InsertUpToChange();
    for (let k = 1; k <= 10; k++) {
      d.send(ev.qmpErr('blockdev-change-medium', 'GenericError', 'Could not open /dev/fdset/0'));
      expect(d.state()).toBe('retrying');
      d.tickToDeadline();
    }
    d.send(ev.qmpErr('blockdev-change-medium', 'GenericError', 'Could not open /dev/fdset/0'));
    const c = d.actor.getSnapshot().context;
    expect(d.state()).toBe('failed');
    expect(c.attempts).toBe(10);
    expect(c.lastError).toBe('blockdev-change-medium failed after 10 retries: GenericError: Could not open /dev/fdset/0');
    expect(c.deadline).toBeUndefined();
  });

  it('does not tick before the retry is due (record clock)', () => {
    const d = dom0InsertUpToChange();
    d.send(ev.qmpErr('blockdev-change-medium', 'GenericError', 'x'), 100);
    d.send(ev.tick(), 199);
    expect(d.state()).toBe('retrying');
    d.send(ev.tick(), 200);
    expect(d.state()).toBe('inserting');
  });

  it('gives up when the overall 40 s timeout passes on the record clock (reference 4.3)', () => {
    const d = drive();
    d.send(ev.insert('c1', ISO), 1000);
    expect(d.actor.getSnapshot().context.deadline).toBe(T0 + 41_000);
    d.send(ev.qmpOk('eject'), 2000);
    d.send(ev.tick(), 40_999);
    expect(d.state()).toBe('ejecting');
    d.send(ev.tick(), 41_000);
    expect(d.state()).toBe('failed');
    expect(d.actor.getSnapshot().context.lastError).toBe('timed out after 40 s');
    expect(d.actor.getSnapshot().context.deadline).toBeUndefined();
  });

  it('times out during retries: the earlier of the retry and the 40 s timeout is the deadline', () => {
    const d = drive();
    d.send(ev.insert('c1', ISO), 0);
    d.send(ev.params(''), 100);
    d.send(ev.qmpErr('blockdev-change-medium', 'GenericError', 'x'), 39_950);
    expect(d.actor.getSnapshot().context.deadline).toBe(T0 + 40_000);
    d.tickToDeadline();
    expect(d.state()).toBe('failed');
    expect(d.actor.getSnapshot().context.lastError).toMatch(/^timed out after 40 s \(last error: /);
  });

  it('a tray locked by the guest ends in locked with forced eject offered (reference 4.3)', () => {
    const d = drive();
    d.send(ev.params(`aio:${ISO}`), 0);
    d.send(ev.insert('c1', '/isos/new.iso'), 10);
    d.send(ev.qmpOk('query-version'), 20);
    d.send(ev.lockedEject(5632), 30);
    const c = d.actor.getSnapshot().context;
    expect(d.state()).toBe('locked');
    expect(c.forceEjectOffered).toBe(true);
    expect(c.lastError).toBe(
      "GenericError: Device 'ide-5632' is locked and force was not specified, wait for tray to open and try again",
    );
    expect(c.mediaPath).toBe(ISO);
    expect(c.deadline).toBeUndefined();
  });

  it('a cd-force-eject from locked leads back through ejecting to empty', () => {
    const d = drive();
    d.send(ev.params(`aio:${ISO}`), 0);
    d.send(ev.eject('c1'), 10);
    d.send(ev.lockedEject(), 20);
    expect(d.state()).toBe('locked');
    d.send(ev.forceEject('c2'), 30);
    expect(d.state()).toBe('ejecting');
    expect(d.actor.getSnapshot().context.op?.force).toBe(true);
    d.send(ev.qmpOk('eject'), 40);
    d.send(ev.tray(true), 41);
    expect(d.state()).toBe('ejecting');
    d.send(ev.params(''), 50);
    expect(d.state()).toBe('empty');
    const c = d.actor.getSnapshot().context;
    expect(c.forceEjectOffered).toBe(false);
    expect(c.mediaPath).toBeUndefined();
    d.send(ev.result('c2', true), 60);
    expect(d.state()).toBe('empty');
    expect(d.actor.getSnapshot().context.timeline.at(-1)).toMatchObject({ step: 'result', ok: true });
  });

  it('a tray locked by the guest, seen only in xl -v output, ends in locked with forced eject offered', () => {
    const d = drive();
    d.send(ev.eject('c1'), 0);
    d.send(ev.xl("libxl: error: libxl_qmp.c:1837:qmp_ev_parse_error_messages: Domain 5:Device 'ide-5632' is locked and force was not specified, wait for tray to open and try again", 'c1'), 10);
    expect(d.state()).toBe('locked');
    expect(d.actor.getSnapshot().context.forceEjectOffered).toBe(true);
    expect(d.actor.getSnapshot().context.lastError).toBe(
      "Device 'ide-5632' is locked and force was not specified, wait for tray to open and try again",
    );
  });

  it('a failed cd command whose error is the locked-tray text ends in locked', () => {
    const d = drive();
    d.send(ev.eject('c1'), 0);
    d.send(ev.result('c1', false, "libxl: error: ... Device 'ide-5632' is locked and force was not specified, wait for tray to open and try again"), 10);
    expect(d.state()).toBe('locked');
    expect(d.actor.getSnapshot().context.forceEjectOffered).toBe(true);
  });

  it('empty media: an eject is an insert of nothing and ends with params="" (reference 4.3)', () => {
    const d = drive();
    d.send(ev.params(`aio:${ISO}`), 0);
    expect(d.state()).toBe('inserted');
    d.send(ev.eject('c1'), 10);
    d.send(ev.qmpOk('eject'), 20);
    expect(d.state()).toBe('ejecting');
    d.send(ev.params(''), 30);
    expect(d.state()).toBe('empty');
    expect(d.actor.getSnapshot().context.params).toBe('');
  });

  it('empty media: cd-insert without a path is an eject', () => {
    const d = drive();
    d.send(ev.params(`aio:${ISO}`), 0);
    d.send({ type: 'cd.request', cmd: 'c1', user: 'bob', op: 'cd-insert', vdev: 'hdc', stubdom: false }, 10);
    expect(d.actor.getSnapshot().context.op?.path).toBeUndefined();
    d.send(ev.params(''), 20);
    expect(d.state()).toBe('empty');
  });

  it('empty media in xenstore outside a change: params="" is empty, a path is inserted', () => {
    const d = drive();
    d.send(ev.device(5, `aio:${ISO}`), 0);
    expect(d.state()).toBe('inserted');
    d.send(ev.params(''), 10);
    expect(d.state()).toBe('empty');
  });

  it('DEVICE_TRAY_MOVED by the guest alone records the tray without pretending the media changed', () => {
    const d = drive();
    d.send(ev.params(`aio:${ISO}`), 0);
    d.send(ev.tray(true), 10);
    let c = d.actor.getSnapshot().context;
    expect(d.state()).toBe('inserted');
    expect(c.trayOpen).toBe(true);
    expect(c.mediaPath).toBe(ISO);
    expect(c.op).toBeUndefined();
    d.send(ev.tray(false), 20);
    c = d.actor.getSnapshot().context;
    expect(c.trayOpen).toBe(false);
    expect(c.timeline).toEqual([]);
  });

  it('the guest opening a locked tray itself releases the lock; the media stays', () => {
    const d = drive();
    d.send(ev.params(`aio:${ISO}`), 0);
    d.send(ev.eject('c1'), 10);
    d.send(ev.lockedEject(), 20);
    d.send(ev.tray(true), 30);
    const c = d.actor.getSnapshot().context;
    expect(d.state()).toBe('inserted');
    expect(c.forceEjectOffered).toBe(false);
    expect(c.mediaPath).toBe(ISO);
  });

  it('refuses a stub-domain change for a vdev that is not hdX or xvdY (seed 000)', () => {
    const d = drive({ stubdom: true, vdev: 'sdc', devid: 2080 });
    d.send(ev.insert('c1', ISO, 'sdc', true), 0);
    expect(d.state()).toBe('failed');
    expect(d.actor.getSnapshot().context.lastError).toBe('disk->vdev "sdc" isn\'t hdX or xvdY');
  });

  it('xvdd in a stub domain uses fdset 8003 (seed 000)', () => {
    const d = drive({ stubdom: true, vdev: 'xvdd', devid: 51760 });
    d.send(ev.insert('c1', ISO, 'xvdd', true), 0);
    expect(d.actor.getSnapshot().context.fdset).toBe(8003);
  });

  it('counts retries from xl step lines alone, success after k retries recorded as k (seed 000)', () => {
    const d = drive({ stubdom: true });
    d.send(ev.insert('c1', ISO, 'hdc', true), 0);
    const lines = [
      libxlLine('cdrom_insert_lock_acquired', 'rc=0'),
      libxlLine('cdrom_insert_stubdom_ejected', 'rc=-28'),
      libxlLine('cdrom_insert_stubdom_disk_ejected_aocomplete', 'rc=0'),
      libxlLine('cdrom_insert_ejected_aodevcb', 'rc=0'),
      libxlLine('cdrom_insert_ejected', 'rc=0'),
      libxlLine('cdrom_insert_addfd_cb', 'rc=0'),
      libxlLine('cdrom_insert_inserted', 'rc=-28'),
      libxlLine('cdrom_insert_inserted', 'Retrying QMP cdrom change'),
      libxlLine('cdrom_insert_addfd_cb', 'rc=0'),
      libxlLine('cdrom_insert_inserted', 'rc=-28'),
      libxlLine('cdrom_insert_inserted', 'Retrying QMP cdrom change'),
      libxlLine('cdrom_insert_addfd_cb', 'rc=0'),
      libxlLine('cdrom_insert_inserted', 'rc=0'),
    ];
    for (const l of lines) d.send(ev.xl(l, 'c1'), 500);
    expect(d.state()).toBe('inserted');
    expect(d.actor.getSnapshot().context.attempts).toBe(2);
    d.send(ev.xl(libxlLine('cdrom_insert_done', 'rc=0'), 'c1'), 500);
    d.send(ev.result('c1', true), 500);
    expect(d.state()).toBe('inserted');
  });

  it('does not count a change twice when both the QMP reply and the xl line report it', () => {
    const d = dom0InsertUpToChange();
    d.send(ev.qmpErr('blockdev-change-medium', 'GenericError', 'x'), 100);
    d.send(ev.xl(libxlLine('cdrom_insert_inserted', 'rc=-28')), 100);
    expect(d.actor.getSnapshot().context.attempts).toBe(1);
    d.tickToDeadline();
    d.send(ev.qmpOk('blockdev-change-medium'), 300);
    expect(d.state()).toBe('inserted');
    expect(d.actor.getSnapshot().context.attempts).toBe(1);
  });

  it('ignores step lines from another command\'s output', () => {
    const d = drive();
    d.send(ev.insert('c1', ISO), 0);
    d.send(ev.xl(libxlLine('cdrom_insert_done', 'rc=-3'), 'other'), 10);
    expect(d.state()).toBe('ejecting');
  });

  it('an xl done line with a non-zero rc fails the change', () => {
    const d = drive();
    d.send(ev.insert('c1', ISO), 0);
    d.send(ev.xl(libxlLine('cdrom_insert_done', 'rc=-3')), 10);
    expect(d.state()).toBe('failed');
    expect(d.actor.getSnapshot().context.lastError).toBe('done: rc=-3');
  });

  it('a late success of its own command overrides a predicted timeout', () => {
    const d = drive();
    d.send(ev.insert('c1', ISO), 0);
    d.send(ev.tick(), 40_000);
    expect(d.state()).toBe('failed');
    d.send(ev.result('c1', true), 41_000);
    expect(d.state()).toBe('inserted');
    expect(d.actor.getSnapshot().context.mediaPath).toBe(ISO);
  });

  it('the same device re-created under a new domid (restart) drops the change and follows params', () => {
    const d = drive();
    d.send(ev.device(5, ''), 0);
    d.send(ev.insert('c1', ISO), 10);
    d.send(ev.device(9, `aio:${ISO}`), 20);
    const c = d.actor.getSnapshot().context;
    expect(d.state()).toBe('inserted');
    expect(c.domid).toBe(9);
    expect(c.deadline).toBeUndefined();
    expect(c.op?.ended).toBe(true);
  });

  it('a second request while a change runs is noted and does not restart the change', () => {
    const d = drive();
    d.send(ev.insert('c1', ISO), 0);
    d.send(ev.qmpOk('eject'), 10);
    d.send(ev.eject('c2'), 20);
    const c = d.actor.getSnapshot().context;
    expect(d.state()).toBe('ejecting');
    expect(c.op?.cmd).toBe('c1');
    expect(c.timeline.at(-1)?.step).toBe('cd-eject (while busy)');
  });

  it('starts mid-flow from a resolved state (retrying) and retries when due', () => {
    const base = createActor(cdromMachine, { input: { uuid: UUID, devid: 5632 } }).getSnapshot().context;
    const resolved = cdromMachine.resolveState({
      value: 'retrying',
      context: {
        ...base,
        attempts: 4,
        deadline: 1100,
        op: { cmd: 'c1', op: 'cd-insert', path: ISO, force: false, startSeq: 1, startTs: 0, opDeadline: 40_000, retryAt: 1100, stubDetached: false, ended: false },
      },
    });
    const a = createActor(cdromMachine, { snapshot: resolved, input: { uuid: UUID, devid: 5632 } });
    a.start();
    a.send({ type: 'clock.tick', ts: 1100, seq: 2 });
    expect(a.getSnapshot().value).toBe('inserting');
    a.send({ type: 'cd.qmp', ts: 1200, seq: 3, command: 'blockdev-change-medium', ok: true });
    expect(a.getSnapshot().value).toBe('inserted');
    expect(a.getSnapshot().context.attempts).toBe(4);
  });
});
