import { afterEach, describe, expect, it } from 'vitest';
import { testEnv, type TestEnv } from './testenv.ts';
import { parseXlLogLine } from '../../../machines/domain/xl-log.ts';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.stop();
  env = undefined;
});

function specials(e: TestEnv): string[] {
  const seen: string[] = [];
  e.store.watch('@releaseDomain', 'r', (p) => seen.push(p));
  e.store.watch('@introduceDomain', 'i', (p) => seen.push(p));
  return seen;
}

const settle = (e: TestEnv) => e.clock.sleep(30);

describe('xl monitor and restarts (reference 3.2)', () => {
  it('restart gives a new domid with the same uuid, and logs xl decisions in order', async () => {
    env = testEnv();
    const e = env;
    const d = await e.host.create({ name: 'web', type: 'pv', boot_ms: 100 });
    await settle(e);
    const ev = specials(e);
    await settle(e);
    ev.length = 0;
    e.host.guestDo('web', 'shutdown', 'reboot');
    await e.until(() => e.host.find('web')?.domid === 2 && e.host.find('web')!.pvUp);
    const nd = e.host.find('web')!;
    expect(nd.uuid).toBe(d.uuid);
    expect(e.store.as(0).read('/local/domain/2/vm')).toBe(`/vm/${d.uuid}`);
    expect(e.store.as(0).exists('/local/domain/1')).toBe(false);
    expect(ev).toEqual(['@releaseDomain', '@releaseDomain', '@introduceDomain']);
    expect(e.logs('xl-web.log')).toEqual([
      'Waiting for domain web (domid 1) to die [pid 4001]',
      'Domain 1 has shut down, reason code 1 0x1',
      'Action for shutdown reason code 1 is restart',
      'Domain 1 needs to be cleaned up: destroying the domain',
      'Done. Rebooting now',
      'Waiting for domain web (domid 2) to die [pid 4001]',
    ]);
  });

  it('on_crash=preserve leaves the domain shut down with reason crash and the monitor exits', async () => {
    env = testEnv();
    const e = env;
    await e.host.create({ name: 'c', type: 'pvh', boot_ms: 100, on: { crash: 'preserve' } });
    e.host.guestDo('c', 'crash');
    await e.until(() => e.logs('xl-c.log').includes('Done. Exiting now'));
    const info = e.host.dominfo().find((x) => x.name === 'c')!;
    expect(info).toMatchObject({ shutdown: true, reason: 'crash', dying: false });
  });

  it('watchdog takes the default on_watchdog=destroy; coredump-destroy logs the dump file', async () => {
    env = testEnv();
    const e = env;
    await e.host.create({ name: 'w', type: 'pv', boot_ms: 100 });
    await e.host.create({ name: 'k', type: 'pv', boot_ms: 100, on: { crash: 'coredump-destroy' } });
    e.host.guestDo('w', 'watchdog');
    e.host.guestDo('k', 'crash');
    await e.until(() => !e.host.find('w') && !e.host.find('k'));
    expect(e.logs('xl-w.log')).toContain('Action for shutdown reason code 4 is destroy');
    expect(e.logs('xl-k.log')).toEqual([
      'Waiting for domain k (domid 2) to die [pid 4002]',
      'Domain 2 has shut down, reason code 3 0x3',
      'Action for shutdown reason code 3 is coredump-destroy',
      'dumping core to /var/lib/xen/dump/k',
      'Domain 2 needs to be cleaned up: destroying the domain',
      'Done. Exiting now',
    ]);
  });

  it('a domain destroyed under its monitor logs "has been destroyed."', async () => {
    env = testEnv();
    const e = env;
    await e.host.create({ name: 'x', type: 'pv', boot_ms: 100 });
    await e.host.destroy(1);
    expect(e.logs('xl-x.log').at(-1)).toBe('Domain 1 has been destroyed.');
    expect(e.store.isIntroduced(1)).toBe(false);
  });
});

describe('soft reset (reference 9, seed 004)', () => {
  it('keeps the domid: @releaseDomain twice, subtree removed and rewritten, @introduceDomain, devices re-created', async () => {
    env = testEnv();
    const e = env;
    const d = await e.host.create({ name: 'k', type: 'hvm', boot_ms: 200, pv: { product: 3, build: 1, unplug: 3 }, disks: [{ vdev: 'xvda', target: '/var/lib/images/k.img' }], nics: 1 });
    await e.until(() => e.store.as(0).tryRead('/local/domain/1/device/vbd/51712/state') === '4');
    const ev = specials(e);
    await settle(e);
    ev.length = 0;
    const mark = e.store.journal.length;
    e.host.guestDo('k', 'kexec');
    await e.until(() => e.logs('xl-k.log').filter((l) => l.startsWith('Waiting for domain')).length === 2);
    await e.until(() => e.store.as(0).tryRead('/local/domain/1/device/vbd/51712/state') === '4');
    expect(e.host.find('k')!.domid).toBe(d.domid);
    expect(ev).toEqual(['@releaseDomain', '@releaseDomain', '@introduceDomain']);
    const j = e.store.journal.slice(mark);
    const rmDom = j.indexOf('rm /local/domain/1');
    expect(rmDom).toBeGreaterThan(-1);
    expect(j.indexOf('rm /local/domain/0/backend/vbd/1/51712')).toBeLessThan(rmDom);
    expect(j.indexOf('write /local/domain/0/backend/vbd/1/51712/state=5')).toBeGreaterThan(-1);
    expect(j.lastIndexOf('write /local/domain/1/name=k')).toBeGreaterThan(rmDom);
    expect(j.lastIndexOf('write /local/domain/0/device-model/1/state=running')).toBeGreaterThan(rmDom);
    expect(e.qmp.filter((c) => c.domid === 1).map((c) => c.cmd)).toEqual(['stop', 'add-fd', 'xen-save-devices-state']);
    expect(e.logs('xl-k.log')).toEqual([
      'Waiting for domain k (domid 1) to die [pid 4002]',
      'Domain 1 has shut down, reason code 5 0x5',
      'Action for shutdown reason code 5 is soft-reset',
      'Done. Rebooting now',
      'Waiting for domain k (domid 1) to die [pid 4002]',
    ]);
  });

  it('refuses a PV domain (ERROR_INVAL): xl destroys it and its monitor exits', async () => {
    env = testEnv();
    const e = env;
    await e.host.create({ name: 'p', type: 'pv', boot_ms: 100 });
    e.host.guestDo('p', 'kexec');
    await e.until(() => !e.host.find('p'));
    expect(e.logs('xl-p.log')).toEqual([
      'Waiting for domain p (domid 1) to die [pid 4001]',
      'Domain 1 has shut down, reason code 5 0x5',
      'Action for shutdown reason code 5 is soft-reset',
      'Done. Rebooting now',
    ]);
    expect(e.store.as(0).exists('/local/domain/1')).toBe(false);
  });
});

describe('xl log lines and the domain machine parser', () => {
  it('every line the simulated monitor writes is one the domain machine recognises', async () => {
    env = testEnv();
    const e = env;
    await e.host.create({ name: 'a', type: 'pv', boot_ms: 50, on: { crash: 'coredump-restart' } });
    await e.host.create({ name: 'b', type: 'hvm', boot_ms: 50, pv: { product: 3, build: 1, unplug: 3 } });
    await e.host.create({ name: 'c', type: 'pv', boot_ms: 50, on: { poweroff: 'rename-restart' } });
    e.host.guestDo('a', 'crash');
    e.host.guestDo('b', 'kexec');
    e.host.guestDo('c', 'shutdown', 'poweroff');
    await e.until(() => ['a', 'b', 'c'].every((n) => e.logs(`xl-${n}.log`).filter((l) => l.startsWith('Waiting')).length === 2));
    for (const n of ['a', 'b', 'c']) {
      const lines = e.logs(`xl-${n}.log`);
      expect(lines.length).toBeGreaterThan(4);
      for (const l of lines) expect(parseXlLogLine(l), l).not.toBeNull();
    }
    expect(e.logs('xl-c.log').some((l) => /^Preserving domain \d+ c with suffix-\d{8}T\d{4}Z$/.test(l))).toBe(true);
  });
});
