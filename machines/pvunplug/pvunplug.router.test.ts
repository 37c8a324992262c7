import { describe, expect, it } from 'vitest';
import { HostRouter } from '../host/router.ts';
import { pvUnplugBinding } from './pvunplug.binding.ts';
import { formatPlatformLine } from './platform-lines.ts';

const UUID = '6f1c0d9e-0000-4000-8000-0000000000bb';

/** A Windows HVM guest whose XenServer drivers are blacklisted, as the host records it (seed profile). */
function records() {
  const obs: Array<{ src: string; type: string; data: Record<string, unknown>; domid?: number; uuid?: string }> = [
    { src: 'xs', type: 'xs.write', data: { path: '/local/domain/7/vm', value: `/vm/${UUID}` }, domid: 7, uuid: UUID },
    { src: 'xs', type: 'xs.write', data: { path: '/libxl/7/type', value: 'hvm' } },
    { src: 'xs', type: 'xs.introduce', data: { domid: 7 } },
    { src: 'xs', type: 'xs.write', data: { path: '/libxl/7/dm-version', value: 'qemu_xen_traditional' } },
    { src: 'xs', type: 'xs.write', data: { path: '/local/domain/0/backend/vbd/7/768/device-type', value: 'disk' } },
    { src: 'xs', type: 'xs.write', data: { path: '/local/domain/0/backend/vbd/7/768/dev', value: 'hda' } },
    { src: 'xs', type: 'xs.write', data: { path: '/local/domain/0/backend/vbd/7/5632/device-type', value: 'cdrom' } },
    { src: 'xs', type: 'xs.write', data: { path: '/local/domain/0/backend/vbd/7/5632/dev', value: 'hdc' } },
    { src: 'xs', type: 'xs.write', data: { path: '/local/domain/0/backend/vif/7/0/handle', value: '0' } },
    { src: 'log', type: 'log.line', data: { file: 'qemu-dm', domid: 7, line: formatPlatformLine({ kind: 'magic', value: 0x49d2 }) } },
    { src: 'log', type: 'log.line', data: { file: 'qemu-dm', domid: 7, line: formatPlatformLine({ kind: 'version', value: 1 }) } },
    { src: 'log', type: 'log.line', data: { file: 'qemu-dm', domid: 7, line: 'Citrix Windows PV drivers loaded in guest' } },
    { src: 'log', type: 'log.line', data: { file: 'qemu-dm', domid: 7, line: 'PV driver build 1234' } },
    { src: 'log', type: 'log.line', data: { file: 'qemu-dm', domid: 7, line: 'Drivers are blacklisted!' } },
    { src: 'log', type: 'log.line', data: { file: 'qemu-dm', domid: 7, line: formatPlatformLine({ kind: 'log', text: 'XENBUS|PlatformBlacklisted' }) } },
  ];
  return obs.map((o, i) => ({ seq: i + 1, ts: 1_763_740_000_000 + i * 100, prev: '', hash: '', ...o }) as any);
}

describe('pvUnplug through the host router', () => {
  it('walks emulated → probed → blacklisted and reports the pv-blacklisted incident', () => {
    const router = new HostRouter([pvUnplugBinding]);
    const transitions = records().flatMap((r) => router.apply(r));
    expect(transitions.map((t) => `${t.from}→${t.to}@${t.cause}`)).toEqual(['-→emulated@4', 'emulated→probed@10', 'probed→blacklisted@14']);
    const view = router.view();
    const actor = view.actors.find((a) => a.id === `pvUnplug:${UUID}`)!;
    expect(actor.state).toBe('blacklisted');
    const c = actor.context as any;
    expect(c.devices.map((d: any) => d.id)).toEqual(['hda', 'hdc', 'nic0']);
    expect(c.product).toBe(1);
    expect(c.build).toBe(1234);
    expect(c.log.map((l: any) => l.text)).toEqual(['XENBUS|PlatformBlacklisted']);
    expect(view.incidents).toHaveLength(1);
    expect(view.incidents[0]).toMatchObject({ kind: 'pv-blacklisted', actor: `pvUnplug:${UUID}`, uuid: UUID, from: 10 });
  });
});
