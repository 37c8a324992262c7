/**
 * Which emulated devices disappear when PV drivers write the unplug mask
 * (seed 003, reference section 7). Pure; shared with the simulator.
 *
 * Mask bits:
 * - 1: all IDE disks except CD-ROMs (upstream also removes SCSI disks);
 * - 2: all emulated NICs;
 * - 4: auxiliary IDE disks, i.e. all but the primary master (hda); bit 1 takes precedence;
 * - 8: all NVMe disks.
 * Unknown bits are ignored, as QEMU ignores them.
 */

export const UNPLUG_IDE_DISKS = 1;
export const UNPLUG_NICS = 2;
export const UNPLUG_AUX_IDE_DISKS = 4;
export const UNPLUG_NVME_DISKS = 8;

export type EmulatedBus = 'ide' | 'scsi' | 'nvme' | 'pci';

/** One device QEMU emulates for an HVM guest. */
export interface EmulatedDevice {
  /** The disk's vdev (`hda`, `hdc`, `xvda`, `sda`, `nvme0`) or `nic<devid>` for a NIC. */
  id: string;
  kind: 'disk' | 'cdrom' | 'nic';
  bus: EmulatedBus;
  /** IDE: the unit index (0 = primary master, 1 = primary slave, 2, 3 on ide.1). */
  index?: number;
  /** xenbus devid of the PV twin, when known. */
  devid?: number;
  /** QEMU device id libxl gives it (`ide-<devid>`, `nic<devid>`), matched against DEVICE_DELETED. */
  qdev?: string;
}

/**
 * The emulated device behind a disk's vdev, or undefined when libxl emulates
 * none: `sd*` is SCSI, `nvme*` NVMe, and `hd*` / `xvd*` with a drive index
 * below 4 are IDE units (bus ide.<index/2>, unit index%2). Other `xvd*` are PV only.
 */
export function emulatedDisk(vdev: string, cdrom: boolean, devid?: number): EmulatedDevice | undefined {
  let d: EmulatedDevice | undefined;
  const ide = /^(?:hd|xvd)([a-d])$/.exec(vdev);
  if (ide) d = { id: vdev, kind: cdrom ? 'cdrom' : 'disk', bus: 'ide', index: ide[1].charCodeAt(0) - 97 };
  else if (/^sd[a-z]+$/.test(vdev)) d = { id: vdev, kind: cdrom ? 'cdrom' : 'disk', bus: 'scsi' };
  else if (/^nvme\d+$/.test(vdev)) d = { id: vdev, kind: cdrom ? 'cdrom' : 'disk', bus: 'nvme' };
  if (d === undefined) return undefined;
  if (devid !== undefined) {
    d.devid = devid;
    if (d.bus === 'ide') d.qdev = `ide-${devid}`;
  }
  return d;
}

/** The emulated NIC of a domain's vif `devid`. */
export function emulatedNic(devid: number): EmulatedDevice {
  return { id: `nic${devid}`, kind: 'nic', bus: 'pci', devid, qdev: `nic${devid}` };
}

/** The primary master is unit 0 on the first IDE channel (hda, or xvda). */
export function isPrimaryMaster(d: EmulatedDevice): boolean {
  return d.bus === 'ide' && (d.index ?? (d.id === 'hda' ? 0 : -1)) === 0;
}

/** Whether one device disappears under `mask`. */
export function unplugs(mask: number, d: EmulatedDevice): boolean {
  if (d.kind === 'nic') return (mask & UNPLUG_NICS) !== 0;
  if (d.kind === 'cdrom') return false;
  switch (d.bus) {
    case 'ide':
      if (mask & UNPLUG_IDE_DISKS) return true;
      return (mask & UNPLUG_AUX_IDE_DISKS) !== 0 && !isPrimaryMaster(d);
    case 'scsi':
      return (mask & UNPLUG_IDE_DISKS) !== 0;
    case 'nvme':
      return (mask & UNPLUG_NVME_DISKS) !== 0;
    case 'pci':
      return false;
  }
}

/** The emulated devices that disappear when the guest writes `mask`, in the order given. */
export function unplugEffect(mask: number, devices: readonly EmulatedDevice[]): EmulatedDevice[] {
  return devices.filter((d) => unplugs(mask, d));
}

/** The mask bits as words, for summaries: `ide-disks,nics`. */
export function describeMask(mask: number): string {
  const words: string[] = [];
  if (mask & UNPLUG_IDE_DISKS) words.push('ide-disks');
  if (mask & UNPLUG_NICS) words.push('nics');
  if (mask & UNPLUG_AUX_IDE_DISKS) words.push('aux-ide-disks');
  if (mask & UNPLUG_NVME_DISKS) words.push('nvme-disks');
  return words.length ? words.join(',') : 'none';
}
