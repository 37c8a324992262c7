import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimClock } from './clock.ts';
import { SimHost } from './host.ts';
import { JournalStore } from './test-store.ts';
import { createSimXenstore } from '../xenstore/store.ts';

const SPEED = 200;

function setup(profile: 'seed' | 'upstream' = 'seed') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simhost-'));
  const store = new JournalStore(createSimXenstore());
  const clock = new SimClock(SPEED);
  const host = new SimHost({ store, clock, logDir: path.join(dir, 'log'), qmpDir: path.join(dir, 'run'), lockDir: path.join(dir, 'lock'), info: { profile } });
  return { dir, store, clock, host };
}

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

function env(profile: 'seed' | 'upstream' = 'seed') {
  const e = setup(profile);
  cleanup.push(async () => {
    await e.host.stop();
    e.clock.stop();
  });
  return e;
}

async function until(clock: SimClock, cond: () => boolean, ms = 20_000): Promise<void> {
  const start = clock.elapsed();
  while (!cond()) {
    if (clock.elapsed() - start > ms) throw new Error('condition not reached');
    await clock.sleep(20);
  }
}

const perms = (store: JournalStore, p: string) =>
  store
    .as(0)
    .getPerms(p)
    .map((x) => x.perm + x.domid)
    .join(',');

describe('libxl domain layout (reference section 3)', () => {
  it('writes an HVM domain node by node with libxl permissions', async () => {
    const { host, store } = env();
    const d = await host.create({ name: 'win', type: 'hvm', memory: 2048, vcpus: 2, disks: [{ vdev: 'hda', target: '/var/lib/images/win.img' }, { vdev: 'hdc', cdrom: true }], nics: 1 });
    const x = store.as(0);
    const dom = `/local/domain/${d.domid}`;
    expect(d.domid).toBe(1);
    expect(x.read(`${dom}/name`)).toBe('win');
    expect(x.read(`${dom}/domid`)).toBe('1');
    expect(x.read(`${dom}/vm`)).toBe(`/vm/${d.uuid}`);
    expect(x.read(`/vm/${d.uuid}/uuid`)).toBe(d.uuid);
    expect(x.read(`/vm/${d.uuid}/name`)).toBe('win');
    expect(x.read(`/vm/${d.uuid}/image/ostype`)).toBe('hvm');
    expect(x.read(`/vm/${d.uuid}/start_time`)).toMatch(/^\d+\.\d\d$/);
    expect(x.read(`${dom}/memory/static-max`)).toBe('2097152');
    expect(x.read(`${dom}/cpu/1/availability`)).toBe('online');
    expect(x.read(`${dom}/control/platform-feature-xs_reset_watches`)).toBe('1');
    expect(x.read(`${dom}/platform/device-model`)).toBe('qemu_xen');
    expect(x.read(`${dom}/hvmloader/bios`)).toBe('seabios');
    expect(x.read(`/libxl/${d.domid}/type`)).toBe('hvm');
    expect(x.read(`/libxl/${d.domid}/dm-version`)).toBe('qemu_xen');
    expect(x.read(`${dom}/image/device-model-pid`)).toMatch(/^\d+$/);
    expect(x.read(`/local/domain/0/device-model/${d.domid}/state`)).toBe('running');
    expect(perms(store, dom)).toBe('n0,r1');
    expect(perms(store, `/vm/${d.uuid}`)).toBe('n0,r1');
    expect(perms(store, `/libxl/${d.domid}`)).toBe('n0');
    expect(perms(store, `${dom}/control/shutdown`)).toBe('n1');
    expect(perms(store, `${dom}/data`)).toBe('n1');
    expect(perms(store, `${dom}/device/suspend/event-channel`)).toBe('n1');
    expect(perms(store, `${dom}/device/vbd/768`)).toBe('n1,r0');
    expect(perms(store, `/local/domain/0/backend/vbd/1/768`)).toBe('n0,r1');
    expect(x.read(`/local/domain/0/backend/qdisk/1/5632/device-type`)).toBe('cdrom');
    expect(x.read(`/local/domain/0/backend/vbd/1/768/params`)).toBe('/var/lib/images/win.img');
    expect(x.read(`/libxl/1/device/vbd/768/backend`)).toBe('/local/domain/0/backend/vbd/1/768');
    expect(x.read(`/local/domain/0/backend/vif/1/0/hotplug-status`)).toBe('connected');
    expect(store.isIntroduced(1)).toBe(true);
  });

  it('writes a PV domain without the HVM-only nodes', async () => {
    const { host, store } = env();
    const d = await host.create({ name: 'pv1', type: 'pv', disks: [{ vdev: 'xvda', target: '/var/lib/images/pv.img' }] });
    const x = store.as(0);
    expect(x.read(`/vm/${d.uuid}/image/ostype`)).toBe('linux');
    expect(x.exists(`/local/domain/${d.domid}/hvmloader`)).toBe(false);
    expect(x.exists(`/local/domain/${d.domid}/control/feature-s3`)).toBe(false);
    expect(x.read(`/libxl/${d.domid}/type`)).toBe('pv');
    expect(x.read(`/local/domain/${d.domid}/device/vbd/51712/protocol`)).toBe('x86_64-abi');
  });

  it('writes a PVH domain with start_time only under /vm', async () => {
    const { host, store } = env();
    const d = await host.create({ name: 'pvh1', type: 'pvh' });
    const x = store.as(0);
    expect(x.exists(`/vm/${d.uuid}/image/ostype`)).toBe(false);
    expect(x.read(`/libxl/${d.domid}/type`)).toBe('pvh');
  });

  it('creates a Linux stub domain with target, device-model-domid and dm-argv', async () => {
    const { host, store } = env();
    const d = await host.create({ name: 'stubbed', type: 'hvm', stubdom: true, disks: [{ vdev: 'hdc', cdrom: true }] });
    const x = store.as(0);
    const stub = d.stubdomid!;
    expect(x.read(`/local/domain/${d.domid}/image/device-model-domid`)).toBe(String(stub));
    expect(x.read(`/local/domain/${stub}/target`)).toBe(String(d.domid));
    expect(x.read(`/local/domain/${stub}/name`)).toBe('stubbed-dm');
    expect(x.read(`/vm/${d.uuid}/image/dm-argv/000`)).toBe('qemu-system-i386');
    expect(x.read(`/local/domain/${stub}/device-model/${d.domid}/state`)).toBe('running');
    expect(x.read(`/local/domain/0/backend/vbd/${stub}/5632/device-type`)).toBe('cdrom');
  });
});

describe('xenbus handshake (reference 2.4/2.5)', () => {
  it('takes a vbd through 1, InitWait, hotplug, Initialised, Connected and removes it with online=0', async () => {
    const { host, store, clock } = env();
    const d = await host.create({ name: 'g', type: 'pv', disks: [{ vdev: 'xvda', target: '/var/lib/images/a.img' }] });
    const be = `/local/domain/0/backend/vbd/${d.domid}/51712`;
    const fe = `/local/domain/${d.domid}/device/vbd/51712`;
    await until(clock, () => store.as(0).tryRead(`${fe}/state`) === '4');
    const j = store.journal.filter((l) => l.startsWith(`write ${be}/state=`) || l.startsWith(`write ${fe}/state=`) || l.startsWith(`write ${be}/hotplug-status=`));
    expect(j).toEqual([`write ${be}/state=1`, `write ${fe}/state=1`, `write ${be}/state=2`, `write ${be}/hotplug-status=connected`, `write ${fe}/state=3`, `write ${be}/state=4`, `write ${fe}/state=4`]);
    const mark = store.journal.length;
    await host.blockDetach(d, 'xvda', false);
    const k = store.journal.slice(mark).filter((l) => /state=|online=|^rm /.test(l));
    expect(k).toEqual([`write ${be}/online=0`, `write ${be}/state=5`, `write ${fe}/state=6`, `write ${be}/state=6`, `rm ${fe}`, `rm ${be}`, `rm /libxl/${d.domid}/device/vbd/51712`, `rm /local/domain/0/backend/vbd/${d.domid}`, 'rm /local/domain/0/backend/vbd', `rm /libxl/${d.domid}/device/vbd`]);
  });

  it('takes a vif through 1, InitWait, vif-bridge hotplug-status=connected, Initialised, Connected', async () => {
    const { host, store, clock } = env();
    const d = await host.create({ name: 'n', type: 'pv', nics: 1, boot_ms: 50 });
    const be = `/local/domain/0/backend/vif/${d.domid}/0`;
    const fe = `/local/domain/${d.domid}/device/vif/0`;
    await until(clock, () => store.as(0).tryRead(`${fe}/state`) === '4');
    const j = store.journal.filter((l) => l.startsWith(`write ${be}/state=`) || l.startsWith(`write ${fe}/state=`) || l.startsWith(`write ${be}/hotplug-status=`));
    expect(j).toEqual([`write ${be}/state=1`, `write ${be}/hotplug-status=`, `write ${fe}/state=1`, `write ${be}/state=2`, `write ${be}/hotplug-status=connected`, `write ${fe}/state=3`, `write ${be}/state=4`, `write ${fe}/state=4`]);
    expect(store.as(0).read(`${fe}/mac`)).toMatch(/^00:16:3e:/);
    expect(store.as(0).read(`${fe}/tx-ring-ref`)).toMatch(/^\d+$/);
  });

  it('reports a hotplug failure with hotplug-status=error and hotplug-error, and block-attach fails', async () => {
    const { host, store } = env();
    const d = await host.create({ name: 'g', type: 'pv' });
    host.armFault('g', { hotplugError: { device: 'xvdb', message: 'File /nope is not a block device' } });
    await expect(host.blockAttach(d, { vdev: 'xvdb', target: '/nope' })).rejects.toThrow('script: File /nope is not a block device');
    expect(store.journal).toContain(`write /local/domain/0/backend/vbd/${d.domid}/51728/hotplug-status=error`);
    expect(store.journal).toContain(`write /local/domain/0/backend/vbd/${d.domid}/51728/hotplug-error=File /nope is not a block device`);
  });

  it('leaves a stalled backend in Initialising so the device never connects', async () => {
    const { host, store, clock } = env();
    host.armFault('s', { backendStall: 'xvda' });
    const p = host.create({ name: 's', type: 'pv', disks: [{ vdev: 'xvda', target: '/var/lib/images/a.img' }] });
    const failed = p.then(() => 'created', (e: Error) => e.message);
    await clock.sleep(3000);
    expect(store.as(0).tryRead('/local/domain/0/backend/vbd/1/51712/state')).toBe('1');
    await clock.sleep(8000);
    expect(await failed).toContain('unable to add device');
  });
});

describe('PV domain layout, node by node (reference section 3)', () => {
  it('has exactly the nodes, values and permissions libxl 4.17 writes for a PV guest with only its console', async () => {
    const { host, store } = env();
    const d = await host.create({ name: 'g', type: 'pv', memory: 512, vcpus: 1, boot_ms: 100_000 });
    const x = store.as(0);
    const walk = (p: string, out: string[]): string[] => {
      out.push(`${p} = ${JSON.stringify(x.read(p))} (${x.getPerms(p).map((q) => q.perm + q.domid).join(',')})`);
      for (const c of x.directory(p)) walk(`${p}/${c}`, out);
      return out;
    };
    const got = [...walk('/local/domain/1', []), ...walk(`/vm/${d.uuid}`, []), ...walk('/libxl/1', [])]
      .map((l) => l.split(d.uuid).join('UUID').replace(/start_time = "[0-9.]+"/, 'start_time = "T"'))
      // xenconsoled fills in the tty shortly after creation
      .map((l) => l.replace(/console\/tty = "[^"]*"/, 'console/tty = ""'));
    expect(got).toEqual([
      `/local/domain/1 = "" (n0,r1)`,
      `/local/domain/1/vm = "/vm/UUID" (n0,r1)`,
      `/local/domain/1/name = "g" (n0,r1)`,
      `/local/domain/1/cpu = "" (n0,r1)`,
      `/local/domain/1/cpu/0 = "" (n0,r1)`,
      `/local/domain/1/cpu/0/availability = "online" (n0,r1)`,
      `/local/domain/1/memory = "" (n0,r1)`,
      `/local/domain/1/memory/static-max = "524288" (n0,r1)`,
      `/local/domain/1/memory/target = "524288" (n0,r1)`,
      `/local/domain/1/memory/videoram = "0" (n0,r1)`,
      `/local/domain/1/device = "" (n0,r1)`,
      `/local/domain/1/device/suspend = "" (n0,r1)`,
      `/local/domain/1/device/suspend/event-channel = "" (n1)`,
      `/local/domain/1/control = "" (n0,r1)`,
      `/local/domain/1/control/shutdown = "" (n1)`,
      `/local/domain/1/control/feature-poweroff = "" (n1)`,
      `/local/domain/1/control/feature-reboot = "" (n1)`,
      `/local/domain/1/control/feature-suspend = "" (n1)`,
      `/local/domain/1/control/sysrq = "" (n1)`,
      `/local/domain/1/control/platform-feature-multiprocessor-suspend = "1" (n0,r1)`,
      `/local/domain/1/control/platform-feature-xs_reset_watches = "1" (n0,r1)`,
      `/local/domain/1/data = "" (n1)`,
      `/local/domain/1/drivers = "" (n1)`,
      `/local/domain/1/feature = "" (n1)`,
      `/local/domain/1/attr = "" (n1)`,
      `/local/domain/1/error = "" (n1)`,
      `/local/domain/1/domid = "1" (n0,r1)`,
      `/local/domain/1/store = "" (n0,r1)`,
      `/local/domain/1/store/port = "1" (n0,r1)`,
      `/local/domain/1/store/ring-ref = "2093052" (n0,r1)`,
      `/local/domain/1/console = "" (n1,r0)`,
      `/local/domain/1/console/backend = "/local/domain/0/backend/console/1/0" (n1,r0)`,
      `/local/domain/1/console/backend-id = "0" (n1,r0)`,
      `/local/domain/1/console/state = "1" (n1,r0)`,
      `/local/domain/1/console/limit = "1048576" (n1,r0)`,
      `/local/domain/1/console/type = "xenconsoled" (n1,r0)`,
      `/local/domain/1/console/output = "pty" (n1,r0)`,
      `/local/domain/1/console/tty = "" (n1,r0)`,
      `/local/domain/1/console/port = "2" (n1,r0)`,
      `/local/domain/1/console/ring-ref = "1044480" (n1,r0)`,
      `/vm/UUID = "" (n0,r1)`,
      `/vm/UUID/name = "g" (n0,r1)`,
      `/vm/UUID/uuid = "UUID" (n0,r1)`,
      `/vm/UUID/image = "" (n0,r1)`,
      `/vm/UUID/image/ostype = "linux" (n0,r1)`,
      `/vm/UUID/image/kernel = "/boot/vmlinuz" (n0,r1)`,
      `/vm/UUID/start_time = "T" (n0,r1)`,
      `/libxl/1 = "" (n0)`,
      `/libxl/1/device = "" (n0)`,
      `/libxl/1/device/console = "" (n0)`,
      `/libxl/1/device/console/0 = "" (n0)`,
      `/libxl/1/device/console/0/frontend = "/local/domain/1/console" (n0)`,
      `/libxl/1/device/console/0/backend = "/local/domain/0/backend/console/1/0" (n0)`,
      `/libxl/1/device/console/0/protocol = "vt100" (n0)`,
      `/libxl/1/type = "pv" (n0)`,
    ]);
  });
});

describe('HVM domain layout, node by node (reference section 3)', () => {
  it('has exactly the nodes, values and permissions libxl 4.17 and QEMU write for an HVM guest with an empty CD-ROM', async () => {
    const { host, store } = env();
    const d = await host.create({ name: 'w', type: 'hvm', memory: 1024, vcpus: 1, boot_ms: 100_000, disks: [{ vdev: 'hdc', cdrom: true }] });
    const x = store.as(0);
    const walk = (p: string, out: string[]): string[] => {
      out.push(`${p} = ${JSON.stringify(x.read(p))} (${x.getPerms(p).map((q) => q.perm + q.domid).join(',')})`);
      for (const c of x.directory(p)) walk(`${p}/${c}`, out);
      return out;
    };
    const got = [...walk('/local/domain/1', []), ...walk(`/vm/${d.uuid}`, []), ...walk('/libxl/1', []), ...walk('/local/domain/0/backend', []), ...walk('/local/domain/0/device-model', [])].map((l) =>
      l.split(d.uuid).join('UUID').replace(/start_time = "[0-9.]+"/, 'start_time = "T"'),
    );
    expect(got).toEqual([
      `/local/domain/1 = "" (n0,r1)`,
      `/local/domain/1/vm = "/vm/UUID" (n0,r1)`,
      `/local/domain/1/name = "w" (n0,r1)`,
      `/local/domain/1/cpu = "" (n0,r1)`,
      `/local/domain/1/cpu/0 = "" (n0,r1)`,
      `/local/domain/1/cpu/0/availability = "online" (n0,r1)`,
      `/local/domain/1/memory = "" (n0,r1)`,
      `/local/domain/1/memory/static-max = "1048576" (n0,r1)`,
      `/local/domain/1/memory/target = "1040384" (n0,r1)`,
      `/local/domain/1/memory/videoram = "8192" (n0,r1)`,
      `/local/domain/1/device = "" (n0,r1)`,
      `/local/domain/1/device/suspend = "" (n0,r1)`,
      `/local/domain/1/device/suspend/event-channel = "" (n1)`,
      `/local/domain/1/device/vbd = "" (n0,r1)`,
      `/local/domain/1/device/vbd/5632 = "" (n1,r0)`,
      `/local/domain/1/device/vbd/5632/backend = "/local/domain/0/backend/qdisk/1/5632" (n1,r0)`,
      `/local/domain/1/device/vbd/5632/backend-id = "0" (n1,r0)`,
      `/local/domain/1/device/vbd/5632/state = "1" (n1,r0)`,
      `/local/domain/1/device/vbd/5632/virtual-device = "5632" (n1,r0)`,
      `/local/domain/1/device/vbd/5632/device-type = "cdrom" (n1,r0)`,
      `/local/domain/1/device/vbd/5632/trusted = "1" (n1,r0)`,
      `/local/domain/1/control = "" (n0,r1)`,
      `/local/domain/1/control/shutdown = "" (n1)`,
      `/local/domain/1/control/feature-poweroff = "" (n1)`,
      `/local/domain/1/control/feature-reboot = "" (n1)`,
      `/local/domain/1/control/feature-suspend = "" (n1)`,
      `/local/domain/1/control/feature-s3 = "" (n1)`,
      `/local/domain/1/control/feature-s4 = "" (n1)`,
      `/local/domain/1/control/sysrq = "" (n1)`,
      `/local/domain/1/control/platform-feature-multiprocessor-suspend = "1" (n0,r1)`,
      `/local/domain/1/control/platform-feature-xs_reset_watches = "1" (n0,r1)`,
      `/local/domain/1/hvmloader = "" (n0,r1)`,
      `/local/domain/1/hvmloader/bios = "seabios" (n0,r1)`,
      `/local/domain/1/hvmloader/allow-memory-relocate = "0" (n0,r1)`,
      `/local/domain/1/data = "" (n1)`,
      `/local/domain/1/drivers = "" (n1)`,
      `/local/domain/1/feature = "" (n1)`,
      `/local/domain/1/attr = "" (n1)`,
      `/local/domain/1/error = "" (n1)`,
      `/local/domain/1/platform = "" (n0,r1)`,
      `/local/domain/1/platform/acpi = "1" (n0,r1)`,
      `/local/domain/1/platform/acpi_s3 = "1" (n0,r1)`,
      `/local/domain/1/platform/acpi_s4 = "1" (n0,r1)`,
      `/local/domain/1/platform/acpi_laptop_slate = "0" (n0,r1)`,
      `/local/domain/1/platform/device-model = "qemu_xen" (n0,r1)`,
      `/local/domain/1/domid = "1" (n0,r1)`,
      `/local/domain/1/store = "" (n0,r1)`,
      `/local/domain/1/store/port = "1" (n0,r1)`,
      `/local/domain/1/store/ring-ref = "2093052" (n0,r1)`,
      `/local/domain/1/console = "" (n1,r0)`,
      `/local/domain/1/console/backend = "/local/domain/0/backend/console/1/0" (n1,r0)`,
      `/local/domain/1/console/backend-id = "0" (n1,r0)`,
      `/local/domain/1/console/state = "1" (n1,r0)`,
      `/local/domain/1/console/limit = "1048576" (n1,r0)`,
      `/local/domain/1/console/type = "ioemu" (n1,r0)`,
      `/local/domain/1/console/output = "pty" (n1,r0)`,
      `/local/domain/1/console/tty = "/dev/pts/3" (n1,r0)`,
      `/local/domain/1/console/port = "2" (n1,r0)`,
      `/local/domain/1/console/ring-ref = "1044480" (n1,r0)`,
      `/local/domain/1/image = "" (n0,r1)`,
      `/local/domain/1/image/device-model-pid = "4001" (n0,r1)`,
      `/vm/UUID = "" (n0,r1)`,
      `/vm/UUID/name = "w" (n0,r1)`,
      `/vm/UUID/uuid = "UUID" (n0,r1)`,
      `/vm/UUID/rtc = "" (n0,r1)`,
      `/vm/UUID/rtc/timeoffset = "" (n0,r1)`,
      `/vm/UUID/image = "" (n0,r1)`,
      `/vm/UUID/image/ostype = "hvm" (n0,r1)`,
      `/vm/UUID/start_time = "T" (n0,r1)`,
      `/libxl/1 = "" (n0)`,
      `/libxl/1/device = "" (n0)`,
      `/libxl/1/device/console = "" (n0)`,
      `/libxl/1/device/console/0 = "" (n0)`,
      `/libxl/1/device/console/0/frontend = "/local/domain/1/console" (n0)`,
      `/libxl/1/device/console/0/backend = "/local/domain/0/backend/console/1/0" (n0)`,
      `/libxl/1/device/console/0/protocol = "vt100" (n0)`,
      `/libxl/1/device/vbd = "" (n0)`,
      `/libxl/1/device/vbd/5632 = "" (n0)`,
      `/libxl/1/device/vbd/5632/frontend = "/local/domain/1/device/vbd/5632" (n0)`,
      `/libxl/1/device/vbd/5632/backend = "/local/domain/0/backend/qdisk/1/5632" (n0)`,
      `/libxl/1/device/vbd/5632/params = "" (n0)`,
      `/libxl/1/device/vbd/5632/removable = "1" (n0)`,
      `/libxl/1/device/vbd/5632/bootable = "1" (n0)`,
      `/libxl/1/device/vbd/5632/dev = "hdc" (n0)`,
      `/libxl/1/device/vbd/5632/type = "qdisk" (n0)`,
      `/libxl/1/device/vbd/5632/mode = "r" (n0)`,
      `/libxl/1/device/vbd/5632/device-type = "cdrom" (n0)`,
      `/libxl/1/device/vbd/5632/discard-enable = "0" (n0)`,
      `/libxl/1/device/vbd/5632/specification = "xen" (n0)`,
      `/libxl/1/type = "hvm" (n0)`,
      `/libxl/1/dm-version = "qemu_xen" (n0)`,
      `/local/domain/0/backend = "" (n0)`,
      `/local/domain/0/backend/console = "" (n0)`,
      `/local/domain/0/backend/console/1 = "" (n0)`,
      `/local/domain/0/backend/console/1/0 = "" (n0,r1)`,
      `/local/domain/0/backend/console/1/0/frontend = "/local/domain/1/console" (n0,r1)`,
      `/local/domain/0/backend/console/1/0/frontend-id = "1" (n0,r1)`,
      `/local/domain/0/backend/console/1/0/online = "1" (n0,r1)`,
      `/local/domain/0/backend/console/1/0/state = "2" (n0,r1)`,
      `/local/domain/0/backend/console/1/0/protocol = "vt100" (n0,r1)`,
      `/local/domain/0/backend/qdisk = "" (n0)`,
      `/local/domain/0/backend/qdisk/1 = "" (n0)`,
      `/local/domain/0/backend/qdisk/1/5632 = "" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/frontend = "/local/domain/1/device/vbd/5632" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/frontend-id = "1" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/online = "1" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/state = "2" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/params = "" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/removable = "1" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/bootable = "1" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/dev = "hdc" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/type = "qdisk" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/mode = "r" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/device-type = "cdrom" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/discard-enable = "0" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/specification = "xen" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/feature-flush-cache = "1" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/feature-discard = "0" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/feature-persistent = "1" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/max-ring-page-order = "4" (n0,r1)`,
      `/local/domain/0/backend/qdisk/1/5632/multi-queue-max-queues = "4" (n0,r1)`,
      `/local/domain/0/device-model = "" (n0)`,
      `/local/domain/0/device-model/1 = "" (n0)`,
      `/local/domain/0/device-model/1/state = "running" (n0)`,
    ]);
  });
});
