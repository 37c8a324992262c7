import { afterEach, describe, expect, it } from 'vitest';
import { testEnv, type TestEnv } from './testenv.ts';
import { parseXlStep } from '../../../machines/cdrom/cdrom.steps.ts';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.stop();
  env = undefined;
});

const HVM = { type: 'hvm' as const, boot_ms: 200, disks: [{ vdev: 'hda', target: '/var/lib/images/w.img' }, { vdev: 'hdc', cdrom: true }] };

describe('CD-ROM change, QEMU in dom0 (reference 4.3)', () => {
  it('cd-insert: query-version, eject, add-fd with the image, blockdev-change-medium, params aio:<path> on the backend and /libxl', async () => {
    env = testEnv();
    const e = env;
    const d = await e.host.create({ name: 'w', ...HVM });
    await e.host.cdInsert(d, 'hdc', '/var/lib/isos/a.iso');
    const calls = e.qmp.filter((c) => c.domid === 1);
    expect(calls.map((c) => c.cmd)).toEqual(['query-version', 'eject', 'add-fd', 'blockdev-change-medium']);
    expect(calls[1].args).toEqual({ id: 'ide-5632' });
    expect(calls[2].args).toEqual({ opaque: 'raw:/var/lib/isos/a.iso' });
    expect(calls[3].args).toEqual({ id: 'ide-5632', filename: '/dev/fdset/0', format: 'raw' });
    const x = e.store.as(0);
    expect(x.read('/local/domain/0/backend/qdisk/1/5632/params')).toBe('aio:/var/lib/isos/a.iso');
    expect(x.read('/libxl/1/device/vbd/5632/params')).toBe('aio:/var/lib/isos/a.iso');
    await e.host.cdInsert(d, 'hdc', undefined);
    expect(x.read('/local/domain/0/backend/qdisk/1/5632/params')).toBe('');
  });

  it('a locked tray fails the eject with QEMU exact GenericError text', async () => {
    env = testEnv();
    const e = env;
    const d = await e.host.create({ name: 'w', ...HVM });
    e.host.guestDo('w', 'lock-tray');
    await expect(e.host.cdInsert(d, 'hdc', '/var/lib/isos/a.iso')).rejects.toThrow("Device 'ide-5632' is locked and force was not specified, wait for tray to open and try again");
    expect(e.qmp.at(-1)?.reply).toEqual({ error: { class: 'GenericError', desc: "Device 'ide-5632' is locked and force was not specified, wait for tray to open and try again" } });
  });
});

describe('CD-ROM change through a Linux stub domain (seed 000, profile seed)', () => {
  it('ejects, tolerates remove-fd GenericError on the empty fdset 8002, re-attaches the PV disk and retries the change 100 ms apart', async () => {
    env = testEnv({ speed: 50 });
    const e = env;
    const d = await e.host.create({ name: 's', stubdom: true, ...HVM });
    const stub = d.stubdomid!;
    await e.until(() => e.store.as(0).tryRead(`/local/domain/${stub}/device/vbd/5632/state`) === '4');
    await e.host.cdInsert(d, 'hdc', '/var/lib/isos/a.iso');
    const calls = e.qmp.filter((c) => c.domid === d.domid);
    expect(calls.slice(0, 3).map((c) => [c.cmd, c.args])).toEqual([
      ['query-version', {}],
      ['eject', { id: 'ide-5632' }],
      ['remove-fd', { 'fdset-id': 8002 }],
    ]);
    expect(calls[2].reply).toEqual({ error: { class: 'GenericError', desc: "File descriptor named 'fdset-id:8002' not found" } });
    const changes = calls.filter((c) => c.cmd === 'blockdev-change-medium');
    expect(changes.length).toBeGreaterThan(1);
    expect(changes.length).toBeLessThanOrEqual(11);
    expect(changes.at(-1)!.args).toEqual({ id: 'ide-5632', filename: '/dev/fdset/8002', format: 'host_device' });
    expect(changes.at(-1)!.reply).toEqual({ return: {} });
    const x = e.store.as(0);
    expect(x.read(`/local/domain/0/backend/vbd/${stub}/5632/params`)).toBe('/var/lib/isos/a.iso');
    expect(x.read(`/local/domain/0/backend/vbd/${stub}/5632/type`)).toBe('phy');
    expect(x.read(`/libxl/${stub}/device/vbd/5632/params`)).toBe('/var/lib/isos/a.iso');
    // A second change finds the stub domain's set and removes it without error.
    await e.host.cdInsert(d, 'hdc', '/var/lib/isos/b.iso');
    const rm = e.qmp.filter((c) => c.cmd === 'remove-fd').at(-1)!;
    expect(rm.reply).toEqual({ return: {} });
  });

  it('rule up to 10 retries: 3 failing changes are retried, 11 give up', async () => {
    env = testEnv({ speed: 50 });
    const e = env;
    const d = await e.host.create({ name: 's', stubdom: true, ...HVM });
    await e.until(() => e.store.as(0).tryRead(`/local/domain/${d.stubdomid}/device/vbd/5632/state`) === '4');
    d.dm!.changeFailures = 11;
    await expect(e.host.cdInsert(d, 'hdc', '/var/lib/isos/a.iso')).rejects.toThrow('Could not dup FD');
    expect(e.qmp.filter((c) => c.cmd === 'blockdev-change-medium').length).toBe(11);
  });
});

describe('CD-ROM change through a Linux stub domain (reference 4.4, profile upstream)', () => {
  it('finds the set by opaque stub-devid:<devid> with query-fdsets polling', async () => {
    env = testEnv({ profile: 'upstream', speed: 50 });
    const e = env;
    const d = await e.host.create({ name: 's', stubdom: true, ...HVM });
    await e.until(() => e.store.as(0).tryRead(`/local/domain/${d.stubdomid}/device/vbd/5632/state`) === '4');
    await e.host.cdInsert(d, 'hdc', '/var/lib/isos/a.iso');
    const cmds = e.qmp.filter((c) => c.domid === d.domid).map((c) => c.cmd);
    expect(cmds.slice(0, 3)).toEqual(['query-version', 'eject', 'query-fdsets']);
    expect(cmds).not.toContain('remove-fd');
    const change = e.qmp.filter((c) => c.cmd === 'blockdev-change-medium');
    expect(change).toHaveLength(1);
    expect(change[0].args).toEqual({ id: 'ide-5632', filename: '/dev/fdset/0', format: 'host_device' });
    const sets = d.dm!.execute('query-fdsets', {});
    expect(sets).toEqual({ ok: true, value: [{ fds: [{ fd: 12, opaque: 'stub-devid:5632' }], 'fdset-id': 0 }] });
  });
});

describe('libxl CD-ROM step lines (xl -vvv)', () => {
  it('are the seed lines the cdrom machine parses: remove-fd rc=-28 tolerated, 3 retries, inserted, done', async () => {
    env = testEnv({ speed: 50 });
    const e = env;
    const d = await e.host.create({ name: 's', stubdom: true, ...HVM });
    await e.until(() => e.store.as(0).tryRead(`/local/domain/${d.stubdomid}/device/vbd/5632/state`) === '4');
    d.dm!.changeFailures = 3;
    const lines: string[] = [];
    await e.host.cdInsert(d, 'hdc', '/var/lib/isos/a.iso', { minLevel: 1, write: (l) => lines.push(l) });
    const steps = lines.map((l) => parseXlStep(l)).filter((x) => x !== undefined);
    const names = steps.map((x) => (x.rc !== undefined ? `${x.step}:${x.rc}` : x.step));
    expect(names[0]).toBe('lock-acquired:0');
    expect(names).toContain('stubdom-ejected:-28');
    // Three injected failures give three retries; the stub domain adding its fdset late (a timing
    // matter on a loaded machine) may add more, never beyond libxl's 10. Each retry follows a
    // failed change (inserted rc=-28).
    const retries = names.filter((n) => n === 'retrying').length;
    expect(retries).toBeGreaterThanOrEqual(3);
    expect(retries).toBeLessThanOrEqual(10);
    expect(names.filter((n) => n === 'inserted:-28')).toHaveLength(retries);
    expect(names.slice(-2)).toEqual(['inserted:0', 'done:0']);
  });
});
