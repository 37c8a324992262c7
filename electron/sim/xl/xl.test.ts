import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testEnv, type TestEnv } from '../host/testenv.ts';
import { runXl } from './xl-lib.ts';
import { startSimulator, type Simulator } from '../sim.ts';

const pexec = promisify(execFile);
let env: TestEnv | undefined;
let sim: Simulator | undefined;
afterEach(async () => {
  await env?.stop();
  await sim?.stop();
  env = undefined;
  sim = undefined;
});

function setup() {
  env = testEnv();
  const e = env;
  return { e, xl: (...argv: string[]) => runXl({ host: e.host }, argv) };
}

function cfg(text: string): string {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'xlcfg-')), 'dom.cfg');
  fs.writeFileSync(f, text);
  return f;
}

describe('xl create and list', () => {
  it('creates from a config file and lists it the way xl prints the table', async () => {
    const { xl } = setup();
    const f = cfg('name = "web"\ntype = "pvh"\nmemory = 512\nvcpus = 2\ndisk = [ "/var/lib/images/web.img,xvda,w" ]\nvif = [ "bridge=xenbr0" ]\n');
    const c = await xl('create', f);
    expect(c).toEqual({ stdout: '', stderr: `Parsing config from ${f}\n`, code: 0 });
    const l = await xl('list');
    const lines = l.stdout.split('\n');
    expect(lines[0]).toBe('Name                                        ID   Mem VCPUs\tState\tTime(s)');
    expect(lines[1]).toMatch(/^Domain-0 {33} {4}0 {2}4096 {5}2 {5}r----- {2} +\d+\.\d$/);
    expect(lines[2]).toMatch(/^web {38} {4}1 {3}512 {5}2 {5}-b---- {2} +\d+\.\d$/);
    expect(l.code).toBe(0);
  });

  it('list -l prints libxl JSON with domid and config per domain', async () => {
    const { xl } = setup();
    await xl('create', cfg('name="a"\nbuilder="hvm"\ndisk=["/var/lib/images/a.img,hda,w", ",hdc:cdrom,r"]\non_crash="preserve"\n'));
    const r = await xl('list', '-l');
    const j = JSON.parse(r.stdout) as Array<{ domid: number; config: { c_info: { name: string; type: string }; disks: Array<{ vdev: string; is_cdrom: number }>; on_crash: string } }>;
    expect(j).toHaveLength(1);
    expect(j[0].domid).toBe(1);
    expect(j[0].config.c_info).toMatchObject({ name: 'a', type: 'hvm' });
    expect(j[0].config.disks.map((d) => [d.vdev, d.is_cdrom])).toEqual([
      ['hda', 0],
      ['hdc', 1],
    ]);
    expect(j[0].config.on_crash).toBe('preserve');
    expect(r.stdout.split('\n')[1]).toBe('    {');
  });

  it('shows shutdown with its reason letter in the state column', async () => {
    const { e, xl } = setup();
    await e.host.create({ name: 'c', type: 'pv', boot_ms: 50, on: { crash: 'preserve' } });
    e.host.guestDo('c', 'crash');
    const r = await xl('list', 'c');
    expect(r.stdout.split('\n')[1]).toContain('---sc-');
  });

  it('refuses a second domain with the same name: libxl ERROR_INVAL, exit 6', async () => {
    const { xl } = setup();
    const f = cfg('name="dup"\ntype="pv"\n');
    expect((await xl('create', f)).code).toBe(0);
    const r = await xl('create', f);
    expect(r.code).toBe(6);
    expect(r.stderr).toBe(
      `Parsing config from ${f}\nlibxl: error: libxl_domain.c:81:libxl__domain_rename: Domain 2:Domain with name "dup" already exists.\nlibxl: error: libxl_create.c:1294:initiate_domain_create: Domain 2:cannot make domain: -6\n`,
    );
  });

  it('refuses a bad config and a missing file with exit 1', async () => {
    const { xl } = setup();
    const bad = await xl('create', cfg('name="b"\non_crash="explode"\n'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Unknown on_crash action "explode" specified');
    const missing = await xl('create', '/nonexistent.cfg');
    expect(missing).toMatchObject({ code: 1, stderr: 'Failed to read config file: /nonexistent.cfg: No such file or directory\n' });
  });
});

describe('xl errors and exit codes', () => {
  it('an unknown domain is an invalid domain identifier (rc=-6), exit 1', async () => {
    const { xl } = setup();
    for (const cmd of ['pause', 'unpause', 'destroy', 'shutdown']) {
      expect(await xl(cmd, 'nope')).toEqual({ stdout: '', stderr: `${cmd === 'shutdown' ? '' : ''}nope is an invalid domain identifier (rc=-6)\n`, code: 1 });
    }
  });

  it('refuses to destroy domain 0', async () => {
    const { xl } = setup();
    const r = await xl('destroy', '0');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Not destroying domain 0; use -f to force.\nThis can only be done when using a disaggregated hardware domain and toolstack.\n\n');
  });

  it('shutdown of an HVM guest without PV drivers fails with rc=-10 unless -F falls back to ACPI', async () => {
    const { e, xl } = setup();
    await e.host.create({ name: 'h', type: 'hvm', boot_ms: 50 });
    const r = await xl('shutdown', 'h');
    expect(r).toEqual({
      stdout: '',
      stderr: 'Shutting down domain 1\nPV control interface not available: external graceful shutdown not possible.\nUse "-F" to fallback to ACPI power event.\nshutdown failed (rc=-10)\n',
      code: 1,
    });
    const f = await xl('shutdown', '-F', 'h');
    expect(f.code).toBe(0);
    expect(f.stderr).toContain('PV control interface not available: sending ACPI power button event.');
    await e.until(() => !e.host.find('h'));
  });

  it('shutdown of a PV guest writes control/shutdown=poweroff, the guest acks with "" and goes', async () => {
    const { e, xl } = setup();
    await e.host.create({ name: 'p', type: 'pv', boot_ms: 50 });
    await e.until(() => e.host.find('p')!.pvUp);
    const r = await xl('shutdown', '-w', 'p');
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Shutting down domain 1\nWaiting for 1 domains\n');
    expect(e.store.journal).toContain('write /local/domain/1/control/shutdown=poweroff');
    expect(e.store.journal).toContain('write /local/domain/1/control/shutdown=');
  });

  it('pause and unpause change the dominfo flags', async () => {
    const { e, xl } = setup();
    await e.host.create({ name: 'p', type: 'pv', boot_ms: 50 });
    expect((await xl('pause', 'p')).code).toBe(0);
    expect(e.host.dominfo()[1]).toMatchObject({ paused: true, blocked: false });
    expect((await xl('unpause', '1')).code).toBe(0);
    expect(e.host.dominfo()[1]).toMatchObject({ paused: false, blocked: true });
  });

  it('cd-insert: a missing file cannot be stat-ed; a locked tray shows libxl QMP error and exits 1', async () => {
    const { e, xl } = setup();
    await e.host.create({ name: 'w', type: 'hvm', boot_ms: 50, disks: [{ vdev: 'hdc', cdrom: true }] });
    expect(await xl('cd-insert', 'w', 'hdc', '/nope.iso')).toEqual({ stdout: '', stderr: 'Cannot stat file: /nope.iso\n', code: 1 });
    e.host.guestDo('w', 'lock-tray');
    const r = await xl('cd-insert', 'w', 'hdc', '/var/lib/isos/a.iso');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("libxl: error: libxl_qmp.c:1837:qmp_ev_parse_error_messages: Domain 1:Device 'ide-5632' is locked and force was not specified, wait for tray to open and try again\n");
    e.host.guestDo('w', 'unlock-tray');
    const ok = await xl('-vvv', 'cd-insert', 'w', 'hdc', '/var/lib/isos/a.iso');
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('libxl: debug: libxl_qmp.c:1699:qmp_ev_handle_message: Domain 1:QEMU version: 7.2.22\n');
    expect((await xl('cd-eject', 'w', 'hdc')).code).toBe(0);
    expect(e.store.as(0).read('/local/domain/0/backend/qdisk/1/5632/params')).toBe('');
  });

  it('block-attach and block-detach, with the hotplug error on -v and xl messages', async () => {
    const { e, xl } = setup();
    await e.host.create({ name: 'p', type: 'pv', boot_ms: 50 });
    expect((await xl('block-attach', 'p', '/var/lib/images/d.img,xvdb,w')).code).toBe(0);
    expect(e.store.as(0).read('/local/domain/0/backend/vbd/1/51728/params')).toBe('/var/lib/images/d.img');
    expect((await xl('block-detach', 'p', 'xvdb')).code).toBe(0);
    expect(e.store.as(0).exists('/local/domain/0/backend/vbd/1/51728')).toBe(false);
    expect(await xl('block-detach', 'p', 'xvdz')).toEqual({ stdout: '', stderr: 'Error: Device xvdz not connected.\n', code: 1 });
    e.host.armFault('p', { hotplugError: { device: 'xvdc', message: 'losetup failed' } });
    const r = await xl('-v', 'block-attach', 'p', 'format=raw, vdev=xvdc, access=rw, target=/var/lib/images/e.img');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('libxl: error: libxl_device.c:1337:device_hotplug_child_death_cb: script: losetup failed\nlibxl_device_disk_add failed.\n');
  });

  it('block-list and network-list print libxl device info in xl columns', async () => {
    const { e, xl } = setup();
    await e.host.create({ name: 'p', type: 'pv', boot_ms: 50, nics: 1, disks: [{ vdev: 'xvda', target: '/var/lib/images/p.img' }] });
    await e.until(() => e.store.as(0).tryRead('/local/domain/1/device/vif/0/state') === '4' && e.store.as(0).tryRead('/local/domain/1/device/vbd/51712/state') === '4');
    const b = (await xl('block-list', 'p')).stdout.split('\n');
    expect(b[0]).toBe('Vdev  BE  handle state evt-ch ring-ref BE-path                       ');
    expect(b[1]).toMatch(/^51712 0 {3}1 {6}4 {5}\d+ +\d+ +\/local\/domain\/0\/backend\/vbd\/1\/51712 *$/);
    const n = (await xl('network-list', 'p')).stdout.split('\n');
    expect(n[0]).toBe('Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path                       ');
    expect(n[1]).toMatch(/^0 {3}0 {2}00:16:3e:[0-9a-f:]{8} {5}0 {5}4 +\d+ +\d+\/\d+ +\/local\/domain\/0\/backend\/vif\/1\/0 *$/);
  });

  it('an unknown subcommand is not implemented', async () => {
    const { xl } = setup();
    expect(await xl('frobnicate')).toEqual({ stdout: '', stderr: 'command not implemented\n', code: 1 });
  });
});

describe('the xl executable', () => {
  it('runs against a started simulator over its control socket with the same output and exit status', async () => {
    sim = await startSimulator({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'xlexe-')), speed: 100 });
    await sim.host.create({ name: 'v', type: 'pv', boot_ms: 50 });
    const r = await pexec(sim.xlPath, ['list', 'v'], { encoding: 'utf8' });
    expect(r.stdout.split('\n')[1]).toMatch(/^v {40} {4}1 /);
    const bad = await pexec(sim.xlPath, ['pause', 'nope'], { encoding: 'utf8' }).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 1, stderr: 'nope is an invalid domain identifier (rc=-6)\n' });
    expect(fs.statSync(sim.xlPath).mode & 0o111).not.toBe(0);
  });
});
