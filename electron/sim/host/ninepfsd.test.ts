import { afterEach, describe, expect, it } from 'vitest';
import { testEnv, type TestEnv } from './testenv.ts';
import type { P9Spec } from './types.ts';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.stop();
  env = undefined;
});

const BE = '/local/domain/0/backend/xen_9pfs/1/0';
const FE = '/local/domain/1/device/9pfs/0';

/** A PV guest with one xen-9pfsd share; returns once the daemon and the frontend have settled. */
async function share(p9: Partial<P9Spec>) {
  env = testEnv({ speed: 20 });
  const e = env;
  await e.host.create({ name: 'g', type: 'pv', boot_ms: 100, p9: [{ tag: 'share', path: '/srv', ...p9 }] });
  const x = e.store.as(0);
  // Settled: connected or closed; a dropped device stays at 1, so give it 3 simulated seconds.
  await e.until(() => ['4', '6'].includes(x.tryRead(`${BE}/state`) ?? ''), 3000).catch(() => undefined);
  if (x.tryRead(`${BE}/state`) === '4') await e.until(() => x.tryRead(`${FE}/state`) === '4');
  return { be: x.tryRead(`${BE}/state`), fe: x.tryRead(`${FE}/state`), syslog: e.logs('xen-9pfsd.log'), x };
}

describe('xen-9pfsd (seed 001)', () => {
  it('connects a well-behaved frontend: backend InitWait with versions/max-rings/max-ring-page-order, then Connected', async () => {
    const r = await share({});
    expect(r.be).toBe('4');
    expect(r.fe).toBe('4');
    expect(r.x.read(`${BE}/versions`)).toBe('1');
    expect(r.x.read(`${BE}/max-rings`)).toBe('4');
    expect(r.x.read(`${BE}/max-ring-page-order`)).toBe('9');
    expect(r.x.getPerms(`${BE}/versions`)).toEqual([
      { domid: 0, perm: 'n' },
      { domid: 1, perm: 'r' },
    ]);
    expect(r.x.read('/local/domain/0/libxl/xen-9pfs/state')).toBe('running');
    expect(r.syslog).toContain('xen-9pfsd: New device 1/0 added');
    const states = env!.store.journal.filter((l) => l.startsWith(`write ${BE}/state=`) || l.startsWith(`write ${FE}/state=`)).map((l) => l.slice(6));
    expect(states).toEqual([`${BE}/state=1`, `${FE}/state=1`, `${BE}/state=2`, `${FE}/state=3`, `${BE}/state=4`, `${FE}/state=4`]);
  });

  it('rule security_model: anything but "none" drops the device without a state change', async () => {
    const r = await share({ security_model: 'mapped-xattr' });
    expect(r.be).toBe('1');
    expect(r.syslog).toContain('xen-9pfsd: Security model "mapped-xattr" for device 1/0 invalid.');
  });

  it('rule host path absolute: a relative path is refused', async () => {
    const r = await share({ path: 'srv/share' });
    expect(r.be).toBe('1');
    expect(r.syslog).toContain('xen-9pfsd: Host path "srv/share" for device 1/0 invalid.');
  });

  it('rule host path components are directories: a file on the way is refused', async () => {
    const r = await share({ path: '/srv/file.img/x' });
    expect(r.be).toBe('1');
    expect(r.syslog).toContain('xen-9pfsd: Host path "/srv/file.img/x" for device 1/0 invalid.');
  });

  it('rule missing directories are created 0777: the scan that creates them refuses the device, the next watch event accepts it', async () => {
    const r = await share({ path: '/srv/new/dir' });
    expect(env!.fs.stat('/srv/new')).toBe('dir');
    expect(env!.fs.stat('/srv/new/dir')).toBe('dir');
    expect(r.syslog.slice(0, 2)).toEqual(['xen-9pfsd: Host path "/srv/new/dir" for device 1/0 invalid.', 'xen-9pfsd: New device 1/0 added']);
    expect(r.be).toBe('4');
  });

  it('rule mkdir failure: a path under a read-only directory is refused for good', async () => {
    env = testEnv();
    env.fs.readOnly.add('/srv');
    await env.host.create({ name: 'g', type: 'pv', boot_ms: 100, p9: [{ tag: 'share', path: '/srv/ro' }] });
    await env.clock.sleep(2000);
    expect(env.store.as(0).read(`${BE}/state`)).toBe('1');
    expect(env.logs('xen-9pfsd.log').filter((l) => l.includes('invalid.')).length).toBeGreaterThan(0);
  });

  it('rule host path "/" passes the component check', async () => {
    const r = await share({ path: '/' });
    expect(r.be).toBe('4');
  });

  it('rule version must be 1: otherwise the backend closes (6)', async () => {
    const r = await share({ frontend: { version: '2' } });
    expect(r.be).toBe('6');
    expect(r.syslog).toContain('xen-9pfsd: frontend specifies illegal version');
  });

  it('rule num-rings 1..4: 0 and 5 close the backend', async () => {
    for (const n of [0, 5]) {
      const r = await share({ frontend: { num_rings: n } });
      expect(r.be).toBe('6');
      expect(r.syslog).toContain('xen-9pfsd: frontend specifies illegal ring number');
      await env!.stop();
    }
  });

  it('rule event channel non-zero and bindable', async () => {
    let r = await share({ frontend: { event_channel: 0 } });
    expect(r.be).toBe('6');
    expect(r.syslog).toContain('xen-9pfsd: frontend specifies illegal evtchn');
    await env!.stop();
    r = await share({ frontend: { bad_evtchn: true } });
    expect(r.be).toBe('6');
    expect(r.syslog).toContain('xen-9pfsd: could not bind to event channel');
  });

  it('rule ring-ref non-zero and mappable', async () => {
    let r = await share({ frontend: { ring_ref: 0 } });
    expect(r.be).toBe('6');
    expect(r.syslog).toContain('xen-9pfsd: frontend specifies illegal grant for ring');
    await env!.stop();
    r = await share({ frontend: { bad_grant: true } });
    expect(r.be).toBe('6');
    expect(r.syslog).toContain('xen-9pfsd: could not map interface page');
  });

  it('rule ring order 1..9: 0 and 10 close the backend, 1 and 9 connect', async () => {
    for (const [order, state] of [
      [0, '6'],
      [10, '6'],
      [1, '4'],
      [9, '4'],
    ] as const) {
      const r = await share({ frontend: { ring_order: order } });
      expect(r.be, `ring order ${order}`).toBe(state);
      await env!.stop();
    }
  });

  it('rule frontend state: an unparsable value is logged as unknown, a removed state key closes the device', async () => {
    const r = await share({});
    expect(r.be).toBe('4');
    const g = env!.store.as(1);
    g.write(`${FE}/state`, 'banana');
    await env!.until(() => env!.logs('xen-9pfsd.log').some((l) => l.includes('banana')));
    expect(env!.logs('xen-9pfsd.log')).toContain('xen-9pfsd: unknown state "banana" seen for device 1/0');
    expect(r.x.read(`${BE}/state`)).toBe('4');
    g.rm(`${FE}/state`);
    await env!.until(() => r.x.read(`${BE}/state`) === '6');
    expect(r.x.read(`${BE}/state`)).toBe('6');
  });

  it('rule frontend Closing/Closed: the backend follows to 5, and to 6 when the frontend closes', async () => {
    const r = await share({});
    const mark = env!.store.journal.length;
    env!.store.as(1).write(`${FE}/state`, '5');
    await env!.until(() => r.x.read(`${BE}/state`) === '6');
    const seq = env!.store.journal.slice(mark).filter((l) => l.startsWith(`write ${BE}/state=`) || l.startsWith(`write ${FE}/state=`));
    expect(seq).toEqual([`write ${FE}/state=5`, `write ${BE}/state=5`, `write ${FE}/state=6`, `write ${BE}/state=6`]);
  });
});
