import { describe, expect, it } from 'vitest';
import { describeMask, emulatedDisk, emulatedNic, isPrimaryMaster, unplugEffect } from './unplug-effect.ts';

const ids = (ds: { id: string }[]) => ds.map((d) => d.id);

describe('unplugEffect (seed 003 mask bits)', () => {
  const devices = [
    emulatedDisk('hda', false, 768)!,
    emulatedDisk('hdb', false, 832)!,
    emulatedDisk('hdc', true, 5632)!,
    emulatedDisk('sda', false, 2048)!,
    emulatedDisk('sdb', true, 2064)!,
    emulatedDisk('nvme0', false)!,
    emulatedNic(0),
    emulatedNic(1),
  ];

  it('mask 0 removes nothing', () => {
    expect(unplugEffect(0, devices)).toEqual([]);
  });
  it('bit 1: IDE disks except CD-ROMs (and SCSI disks, as upstream does)', () => {
    expect(ids(unplugEffect(1, devices))).toEqual(['hda', 'hdb', 'sda']);
  });
  it('bit 2: every emulated NIC', () => {
    expect(ids(unplugEffect(2, devices))).toEqual(['nic0', 'nic1']);
  });
  it('bit 4: aux IDE disks, all but the primary master; SCSI stays', () => {
    expect(ids(unplugEffect(4, devices))).toEqual(['hdb']);
  });
  it('bit 1 takes precedence over bit 4', () => {
    expect(ids(unplugEffect(5, devices))).toEqual(['hda', 'hdb', 'sda']);
  });
  it('bit 8: NVMe disks', () => {
    expect(ids(unplugEffect(8, devices))).toEqual(['nvme0']);
  });
  it('all bits: everything but CD-ROMs', () => {
    expect(ids(unplugEffect(15, devices))).toEqual(['hda', 'hdb', 'sda', 'nvme0', 'nic0', 'nic1']);
  });
  it('unknown bits are ignored', () => {
    expect(unplugEffect(0xfff0, devices)).toEqual([]);
  });
});

describe('emulated twins of disks (libxl naming)', () => {
  it('hd[a-d] and xvd[a-d] are IDE units, with the qdev id libxl gives them', () => {
    expect(emulatedDisk('hdc', true, 5632)).toEqual({ id: 'hdc', kind: 'cdrom', bus: 'ide', index: 2, devid: 5632, qdev: 'ide-5632' });
    expect(emulatedDisk('xvda', false, 51712)).toMatchObject({ bus: 'ide', index: 0 });
    expect(isPrimaryMaster(emulatedDisk('xvda', false)!)).toBe(true);
    expect(isPrimaryMaster(emulatedDisk('hdb', false)!)).toBe(false);
  });
  it('xvde and beyond have no emulated twin', () => {
    expect(emulatedDisk('xvde', false)).toBeUndefined();
    expect(emulatedDisk('hde', false)).toBeUndefined();
  });
  it('describes masks in words', () => {
    expect(describeMask(3)).toBe('ide-disks,nics');
    expect(describeMask(0)).toBe('none');
  });
});
