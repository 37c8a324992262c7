import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { pvUnplugMachine, initialPvUnplugContext } from './pvunplug.machine.ts';
import type { PvUnplugEvent } from './pvunplug.types.ts';
import { LOG_KEEP } from './pvunplug.types.ts';
import { emulatedDisk, emulatedNic } from './unplug-effect.ts';
import { pvUnplugIncident } from './pvunplug.binding.ts';

const UUID = '6f1c0d9e-0000-4000-8000-000000000001';
type Body = PvUnplugEvent extends infer E ? (E extends PvUnplugEvent ? Omit<E, 'ts' | 'seq'> : never) : never;

function start(profile: 'seed' | 'upstream' = 'seed') {
  const actor = createActor(pvUnplugMachine, { input: { uuid: UUID, domid: 7, profile } });
  actor.start();
  let seq = 0;
  let ts = 1_000_000;
  const send = (body: Body, at?: number) => {
    seq += 1;
    ts = at ?? ts + 10;
    actor.send({ ...body, ts, seq } as PvUnplugEvent);
    return actor.getSnapshot();
  };
  return { actor, send };
}

const win10Devices = [
  emulatedDisk('hda', false, 768)!,
  emulatedDisk('hdb', false, 832)!,
  emulatedDisk('hdc', true, 5632)!,
  emulatedDisk('hdd', false, 5696)!,
  emulatedNic(0),
];

function withDevices(send: ReturnType<typeof start>['send']) {
  for (const device of win10Devices) send({ type: 'pv.device', device });
}

describe('pvUnplug machine (seed 003)', () => {
  it('starts emulated: no driver has spoken to the platform device', () => {
    const { actor } = start();
    expect(actor.getSnapshot().value).toBe('emulated');
    expect(actor.getSnapshot().context.blacklisted).toBe(false);
  });

  it('magic 0x49d2 read at port 0x10 means the platform device answered: probed (seed 003)', () => {
    const { send } = start();
    const s = send({ type: 'pv.magic', value: 0x49d2 });
    expect(s.value).toBe('probed');
    expect(s.context.magic).toBe(0x49d2);
    expect(s.context.since).toBe(1);
  });

  it('magic 0xd249 means the drivers are blacklisted: they must not load (seed 003)', () => {
    const { send } = start();
    send({ type: 'pv.version', value: 1 });
    send({ type: 'pv.product', value: 1 });
    send({ type: 'pv.build', value: 1234 });
    const s = send({ type: 'pv.magic', value: 0xd249 });
    expect(s.value).toBe('blacklisted');
    expect(s.context.blacklisted).toBe(true);
    expect(s.context.build).toBe(1234);
  });

  it('a magic that is neither value is not the platform device: the drivers stop and nothing is probed', () => {
    const { send } = start();
    const s = send({ type: 'pv.magic', value: 0xffff });
    expect(s.value).toBe('emulated');
    expect(s.context.notes.join()).toMatch(/0xffff is not the platform device/);
  });

  it("QEMU's `Drivers are blacklisted!` line blacklists, and the state stays blacklisted until a reset (seed 003)", () => {
    const { send } = start();
    send({ type: 'pv.product', value: 1 });
    send({ type: 'pv.build', value: 99 });
    expect(send({ type: 'pv.blacklisted' }).value).toBe('blacklisted');
    const s = send({ type: 'pv.magic', value: 0x49d2 });
    expect(s.value).toBe('blacklisted');
    expect(s.context.notes.join()).toMatch(/after the drivers were blacklisted/);
    expect(send({ type: 'pv.reset', domid: 7 }).value).toBe('emulated');
  });

  it('seed: only product 1 (xensource-windows) has a blacklist, so a blacklisted product 3 is noted', () => {
    const { send } = start('seed');
    send({ type: 'pv.product', value: 3 });
    const s = send({ type: 'pv.blacklisted' });
    expect(s.value).toBe('blacklisted');
    expect(s.context.notes).toEqual(['product 3 blacklisted, though only product 1 has a blacklist']);
  });

  it('protocol version 0 skips product and build: the mask write alone unplugs (seed 003 step 2)', () => {
    const { send } = start();
    withDevices(send);
    send({ type: 'pv.magic', value: 0x49d2 });
    expect(send({ type: 'pv.version', value: 0 }).context.protocolVersion).toBe(0);
    const s = send({ type: 'pv.mask', value: 3 });
    expect(s.value).toBe('unplugged');
    expect(s.context.product).toBeUndefined();
    expect(s.context.build).toBeUndefined();
    expect(s.context.notes).toEqual([]);
    expect(s.context.disappeared.map((d) => d.id)).toEqual(['hda', 'hdb', 'hdd', 'nic0']);
  });

  it('product then build: both are kept in that order (seed 003 steps 3 and 4)', () => {
    const { send } = start();
    send({ type: 'pv.magic', value: 0x49d2 });
    send({ type: 'pv.version', value: 1 });
    send({ type: 'pv.product', value: 3 });
    const s = send({ type: 'pv.build', value: 1 });
    expect(s.value).toBe('probed');
    expect(s.context.product).toBe(3);
    expect(s.context.build).toBe(1);
  });

  it('a build written before a product is ignored and logged (seed 003)', () => {
    const { send } = start();
    send({ type: 'pv.magic', value: 0x49d2 });
    const s = send({ type: 'pv.build', value: 4321 });
    expect(s.value).toBe('probed');
    expect(s.context.build).toBeUndefined();
    expect(s.context.notes).toEqual(['build 4321 written before the product number: ignored']);
  });

  it("QEMU's `Drivers tried to set their version number (N) before setting the product number?` is the same rule", () => {
    const { send } = start();
    const s = send({ type: 'pv.build.ignored', value: 77 });
    expect(s.value).toBe('probed');
    expect(s.context.build).toBeUndefined();
    expect(s.context.notes).toEqual(['build 77 written before the product number: ignored']);
  });

  it('product 0 does not count as a product: a build after it is still ignored (seed 003 tests product == 0)', () => {
    const { send } = start();
    send({ type: 'pv.product', value: 0 });
    const s = send({ type: 'pv.build', value: 5 });
    expect(s.context.product).toBe(0);
    expect(s.context.build).toBeUndefined();
    expect(s.context.notes[0]).toMatch(/build 5 written before the product/);
  });

  it('unplug mask bit 1 removes IDE disks except CD-ROMs (seed 003)', () => {
    const { send } = start();
    withDevices(send);
    send({ type: 'pv.product', value: 1 });
    const s = send({ type: 'pv.mask', value: 1 });
    expect(s.value).toBe('unplugged');
    expect(s.context.mask).toBe(1);
    expect(s.context.disappeared.map((d) => d.id)).toEqual(['hda', 'hdb', 'hdd']);
  });

  it('unplug mask bit 2 removes the emulated NICs (seed 003)', () => {
    const { send } = start();
    withDevices(send);
    const s = send({ type: 'pv.mask', value: 2 });
    expect(s.context.disappeared.map((d) => d.id)).toEqual(['nic0']);
  });

  it('unplug mask bit 4 removes aux IDE disks, all but the primary master (seed 003)', () => {
    const { send } = start();
    withDevices(send);
    const s = send({ type: 'pv.mask', value: 4 });
    expect(s.context.disappeared.map((d) => d.id)).toEqual(['hdb', 'hdd']);
  });

  it('unplug mask bit 1 takes precedence over bit 4: the primary master goes too', () => {
    const { send } = start();
    withDevices(send);
    const s = send({ type: 'pv.mask', value: 5 });
    expect(s.context.disappeared.map((d) => d.id)).toEqual(['hda', 'hdb', 'hdd']);
  });

  it('unplug mask bit 8 removes NVMe disks only', () => {
    const { send } = start();
    send({ type: 'pv.device', device: emulatedDisk('nvme0', false)! });
    send({ type: 'pv.device', device: emulatedDisk('hda', false, 768)! });
    const s = send({ type: 'pv.mask', value: 8 });
    expect(s.context.disappeared.map((d) => d.id)).toEqual(['nvme0']);
  });

  it('later mask writes add bits: the mask only grows and devices already gone stay gone', () => {
    const { send } = start();
    withDevices(send);
    send({ type: 'pv.mask', value: 2 });
    const s = send({ type: 'pv.mask', value: 4 });
    expect(s.context.mask).toBe(6);
    expect(s.context.disappeared.map((d) => d.id)).toEqual(['nic0', 'hdb', 'hdd']);
  });

  it('a mask written by blacklisted drivers is honoured by QEMU and noted', () => {
    const { send } = start();
    withDevices(send);
    send({ type: 'pv.magic', value: 0xd249 });
    const s = send({ type: 'pv.mask', value: 2 });
    expect(s.value).toBe('unplugged');
    expect(s.context.blacklisted).toBe(true);
    expect(s.context.notes.join()).toMatch(/written by blacklisted drivers/);
  });

  it('a DEBUG_PLATFORM `unplug nics` line without a mask line implies bit 2', () => {
    const { send } = start();
    withDevices(send);
    const s = send({ type: 'pv.unplug', what: 'nics' });
    expect(s.value).toBe('unplugged');
    expect(s.context.mask).toBe(2);
    expect(s.context.disappeared.map((d) => d.id)).toEqual(['nic0']);
  });

  it('the guest log bucket starts full: 128 KiB pass at once, the next line is dropped and counted (seed 003 token bucket)', () => {
    const { send } = start();
    const line = 'x'.repeat(1024);
    let s = send({ type: 'pv.log', text: line }, 0);
    for (let i = 1; i < 128; i++) s = send({ type: 'pv.log', text: line }, 0);
    expect(s.context.logLines).toBe(128);
    expect(s.context.logDropped).toBe(0);
    s = send({ type: 'pv.log', text: 'one more' }, 0);
    expect(s.context.logLines).toBe(128);
    expect(s.context.logDropped).toBe(1);
    expect(s.context.logBytesDropped).toBe(8);
    expect(s.context.log).toHaveLength(LOG_KEEP);
    expect(s.context.log.at(-1)!.text).toBe(line);
  });

  it('the guest log bucket refills at 256 bytes per second (seed 003 token bucket)', () => {
    const { send } = start();
    let s = send({ type: 'pv.log', text: 'a'.repeat(128 * 1024) }, 0);
    expect(s.context.logLines).toBe(1);
    s = send({ type: 'pv.log', text: 'b'.repeat(256) }, 999);
    expect(s.context.logDropped).toBe(1);
    s = send({ type: 'pv.log', text: 'c'.repeat(256) }, 1000);
    expect(s.context.logLines).toBe(2);
    expect(s.context.logDropped).toBe(1);
  });

  it('lines the host dropped before recording are added to the counts', () => {
    const { send } = start();
    const s = send({ type: 'pv.log.dropped', count: 40, bytes: 5120 });
    expect(s.context.logDropped).toBe(40);
    expect(s.context.logBytesDropped).toBe(5120);
  });

  it('a new domain instance with a new domid resets the handshake and forgets the old devices', () => {
    const { send } = start();
    withDevices(send);
    send({ type: 'pv.magic', value: 0x49d2 });
    send({ type: 'pv.mask', value: 3 });
    const s = send({ type: 'pv.reset', domid: 9 });
    expect(s.value).toBe('emulated');
    expect(s.context.domid).toBe(9);
    expect(s.context.mask).toBeUndefined();
    expect(s.context.disappeared).toEqual([]);
    expect(s.context.devices).toEqual([]);
  });

  it('a soft reset (same domid) keeps the devices the backends still describe', () => {
    const { send } = start();
    withDevices(send);
    send({ type: 'pv.mask', value: 1 });
    const s = send({ type: 'pv.reset', domid: 7 });
    expect(s.value).toBe('emulated');
    expect(s.context.devices).toHaveLength(win10Devices.length);
  });

  it('a removed backend takes its emulated twin out of the devices', () => {
    const { send } = start();
    withDevices(send);
    let s = send({ type: 'pv.device.removed', kind: 'disk', devid: 832 });
    expect(s.context.devices.map((d) => d.id)).toEqual(['hda', 'hdc', 'hdd', 'nic0']);
    s = send({ type: 'pv.device.removed', kind: 'nic' });
    expect(s.context.devices.map((d) => d.id)).toEqual(['hda', 'hdc', 'hdd']);
  });

  it('upstream profile: 0xd249 is still judged blacklisted, with a note that upstream never answers it', () => {
    const { send } = start('upstream');
    const s = send({ type: 'pv.magic', value: 0xd249 });
    expect(s.value).toBe('blacklisted');
    expect(s.context.notes.join()).toMatch(/expected to be upstream QEMU/);
  });

  it('resolveState: from probed with product 1 build 1234, a 0xd249 magic raises the pv-blacklisted incident', () => {
    const context = { ...initialPvUnplugContext({ uuid: UUID, domid: 7 }), product: 1, build: 1234, magic: 0x49d2, since: 40 };
    const resolved = pvUnplugMachine.resolveState({ value: 'probed', context });
    const actor = createActor(pvUnplugMachine, { snapshot: resolved, input: { uuid: UUID } });
    actor.start();
    actor.send({ type: 'pv.magic', value: 0xd249, ts: 5, seq: 44 });
    const s = actor.getSnapshot();
    expect(s.value).toBe('blacklisted');
    const hit = pvUnplugIncident({ actor: `pvUnplug:${UUID}`, from: 'probed', to: 'blacklisted', seq: 44, ts: 5, context: s.context });
    expect(hit).toEqual({
      kind: 'pv-blacklisted',
      summary: 'PV drivers (xensource-windows build 1234) are blacklisted: they will not load and the emulated devices stay',
      start: 40,
    });
    expect(pvUnplugIncident({ actor: 'x', from: 'probed', to: 'unplugged', seq: 45, ts: 6, context: s.context })).toBeNull();
  });

  it('driver keys and DEVICE_DELETED are kept as evidence', () => {
    const { send } = start();
    send({ type: 'pv.driver.key', key: 'drivers/0', value: 'XenServer XENBUS 9.1.0' });
    const s = send({ type: 'pv.device.deleted', device: 'nic0' });
    expect(s.context.driverKeys).toEqual({ 'drivers/0': 'XenServer XENBUS 9.1.0' });
    expect(s.context.deleted).toEqual(['nic0']);
  });
});
