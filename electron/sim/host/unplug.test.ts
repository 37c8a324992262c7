import { afterEach, describe, expect, it } from 'vitest';
import { BUCKET_MAX_SIZE, PLATFORM_BLACKLISTED, PLATFORM_MAGIC, PlatformDevice, runPvProbe } from './unplug.ts';
import { testEnv, type TestEnv } from './testenv.ts';

function device(profile: 'seed' | 'upstream', xs: Record<string, string> = {}) {
  const lines: string[] = [];
  const unplugs: unknown[] = [];
  let now = 0;
  const dev = new PlatformDevice({ profile, xsRead: (p) => xs[p], log: (l) => lines.push(l), now: () => now, unplug: (w) => unplugs.push(w) });
  return { dev, lines, unplugs, advance: (ms: number) => (now += ms) };
}

describe('platform device unplug protocol (seed 003)', () => {
  it('answers magic 0x49d2 and version 1, logs product and build, and unplugs by mask', () => {
    const t = device('seed');
    expect(runPvProbe(t.dev, { product: 1, build: 1234, unplug: 3 })).toEqual({ result: 'unplugged', mask: 3 });
    expect(t.lines).toEqual([
      'xen_platform: magic read 0x49d2',
      'xen_platform: protocol version read 1',
      'Citrix Windows PV drivers loaded in guest',
      'PV driver build 1234',
      'xen_platform: magic read 0x49d2',
      'xen_platform: unplug mask 0x3',
      'xen_platform: unplug disks',
      'xen_platform: unplug nics',
    ]);
    expect(t.unplugs).toEqual([{ ideDisks: 'all', nics: true }]);
  });

  it('rule blacklist (seed profile): a readable /mh/driver-blacklist/xensource-windows/<build> makes the magic 0xd249 and nothing is unplugged', () => {
    const t = device('seed', { '/mh/driver-blacklist/xensource-windows/1234': '' });
    expect(runPvProbe(t.dev, { product: 1, build: 1234, unplug: 3 })).toEqual({ result: 'blacklisted' });
    expect(t.lines).toContain('Drivers are blacklisted!');
    expect(t.lines.at(-1)).toBe(`xen_platform: magic read 0x${PLATFORM_BLACKLISTED.toString(16)}`);
    expect(t.unplugs).toEqual([]);
  });

  it('rule blacklist applies to product 1 only: other products cannot be blacklisted', () => {
    const t = device('seed', { '/mh/driver-blacklist/xensource-windows/7': '' });
    expect(runPvProbe(t.dev, { product: 3, build: 7, unplug: 1 })).toEqual({ result: 'unplugged', mask: 1 });
    expect(t.lines).toContain('Unknown PV product 3 loaded in guest');
  });

  it('rule upstream QEMU always answers 0x49d2, blacklist key or not', () => {
    const t = device('upstream', { '/mh/driver-blacklist/xensource-windows/1234': '' });
    expect(runPvProbe(t.dev, { product: 1, build: 1234, unplug: 2 })).toEqual({ result: 'unplugged', mask: 2 });
    expect(t.lines.filter((l) => l.startsWith('xen_platform: magic read'))).toEqual([`xen_platform: magic read 0x${PLATFORM_MAGIC.toString(16)}`, 'xen_platform: magic read 0x49d2']);
    expect(t.lines).toContain('xen_platform: Citrix Windows PV drivers loaded in guest');
  });

  it('rule build before product is logged and ignored', () => {
    const t = device('seed');
    t.dev.writeBuild(99);
    expect(t.lines).toEqual(['Drivers tried to set their version number (99) before setting the product number?']);
  });

  it('rule aux mask 4 keeps the primary master; bit 0 takes precedence', () => {
    const t = device('seed');
    t.dev.writeUnplug(4);
    t.dev.writeUnplug(5);
    expect(t.unplugs).toEqual([
      { ideDisks: 'aux', nics: false },
      { ideDisks: 'all', nics: false },
    ]);
  });

  it('rule log port token bucket: 128 KiB burst, 256 B/s refill, one throttling line', () => {
    const t = device('seed');
    const line = 'x'.repeat(1023);
    const send = () => {
      for (const ch of `${line}\n`) t.dev.logByte(ch.charCodeAt(0));
    };
    for (let i = 0; i < Math.floor(BUCKET_MAX_SIZE / 1023); i++) send();
    expect(t.lines.filter((l) => l === 'throttling guest access to syslog')).toEqual([]);
    send();
    send();
    expect(t.lines.filter((l) => l === 'throttling guest access to syslog')).toHaveLength(1);
    expect(t.dev.blockedMs).toBeGreaterThan(1000);
    expect(t.lines.filter((l) => l === `xen_platform_log xen platform: ${line}`).length).toBe(Math.floor(BUCKET_MAX_SIZE / 1023) + 2);
  });
});

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.stop();
  env = undefined;
});

describe('PV drivers in an HVM guest', () => {
  it('unplug removes the emulated IDE disk from QEMU and the PV frontends connect', async () => {
    env = testEnv();
    const e = env;
    const d = await e.host.create({ name: 'w', type: 'hvm', boot_ms: 200, pv: { product: 1, build: 5, unplug: 3 }, disks: [{ vdev: 'hda', target: '/var/lib/images/w.img' }, { vdev: 'hdc', cdrom: true }] });
    await e.until(() => e.store.as(0).tryRead('/local/domain/1/device/vbd/768/state') === '4');
    expect([...d.dm!.blocks.keys()]).toEqual(['ide-5632']);
    expect(e.logs('qemu-dm-w.log')).toContain('xen_platform: unplug disks');
  });

  it('blacklisted drivers stay off: the emulated disk stays and no frontend connects', async () => {
    env = testEnv();
    const e = env;
    e.store.as(0).write('/mh/driver-blacklist/xensource-windows/5', '1');
    const d = await e.host.create({ name: 'w', type: 'hvm', boot_ms: 200, pv: { product: 1, build: 5, unplug: 3 }, disks: [{ vdev: 'hda', target: '/var/lib/images/w.img' }] });
    await e.clock.sleep(1000);
    expect(d.probe).toEqual({ result: 'blacklisted' });
    expect([...d.dm!.blocks.keys()]).toEqual(['ide0-hd0']);
    expect(e.store.as(0).read('/local/domain/1/device/vbd/768/state')).toBe('1');
  });
});

describe('QEMU and its ioreq server (reference 5.5, 6)', () => {
  it('creates and enables one server at start, disables it on QMP stop, enables it on cont, destroys it at exit', async () => {
    env = testEnv();
    const e = env;
    const d = await e.host.create({ name: 'q', type: 'hvm', boot_ms: 100 });
    expect(d.ioreq!.list().map((s) => [s.id, s.emulator, s.enabled])).toEqual([[0, 0, true]]);
    d.dm!.execute('stop', {});
    expect(d.ioreq!.list()[0].enabled).toBe(false);
    d.dm!.execute('cont', {});
    expect(d.ioreq!.list()[0].enabled).toBe(true);
    e.host.qemuKill(d);
    expect(d.ioreq!.count()).toBe(0);
    expect(e.logs('qemu-dm-q.log')).toContain('xen_ioreq: destroy dom=1 id=0 rc=0');
  });

  it('a stub domain owns the server of its guest', async () => {
    env = testEnv();
    const d = await env.host.create({ name: 's', type: 'hvm', stubdom: true, boot_ms: 100 });
    expect(d.ioreq!.list()[0].emulator).toBe(d.stubdomid);
  });

  it('rule deprecated HVM params answer EINVAL on Xen 4.17 and EPERM/ENODATA on 4.13', async () => {
    env = testEnv();
    await env.host.create({ name: 'q', type: 'hvm', boot_ms: 100 });
    env.host.guestDo('q', 'hvm-param', 'set 13');
    expect(env.logs('qemu-dm-q.log')).toContain('xen_hvm_param: set dom=1 index=13 rc=-EINVAL');
    await env.stop();
    env = testEnv({ xen: '4.13.4' });
    await env.host.create({ name: 'q', type: 'hvm', boot_ms: 100 });
    env.host.guestDo('q', 'hvm-param', 'set 26');
    env.host.guestDo('q', 'hvm-param', 'get 26');
    expect(env.logs('qemu-dm-q.log')).toEqual(expect.arrayContaining(['xen_hvm_param: set dom=1 index=26 rc=-EPERM', 'xen_hvm_param: get dom=1 index=26 rc=-ENODATA']));
  });
});
