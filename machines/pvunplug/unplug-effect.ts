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
  /** The disk's vdev (`hda`, `hdc`, `sda`, `nvme0`) or `nic<devid>` for a NIC. */
  id: string;
  kind: 'disk' | 'cdrom' | 'nic';
  bus: EmulatedBus;
  /** xenbus devid of the PV twin, when known. */
  devid?: number;
}

/**
 * The emulated device behind a disk's vdev, or undefined when the vdev has no
 * emulated twin (`xvd*` disks are PV only; IDE has four units, hda..hdd).
 */
export function emulatedDisk(vdev: string, cdrom: boolean, devid?: number): EmulatedDevice | undefined {
  let bus: EmulatedBus | undefined;
  if (/^hd[a-d]$/.test(vdev)) bus = 'ide';
  else if (/^sd[a-z]+$/.test(vdev)) bus = 'scsi';
  else if (/^nvme\d+$/.test(vdev)) bus = 'nvme';
  if (bus === undefined) return undefined;
  const d: EmulatedDevice = { id: vdev, kind: cdrom ? 'cdrom' : 'disk', bus };
  if (devid !== undefined) d.devid = devid;
  return d;
}

/** The emulated NIC of a domain's vif `devid`. */
export function emulatedNic(devid: number): EmulatedDevice {
  return { id: `nic${devid}`, kind: 'nic', bus: 'pci', devid };
}

/** The primary master is the first unit on the first IDE channel: hda. */
export function isPrimaryMaster(d: EmulatedDevice): boolean {
  return d.bus === 'ide' && d.id === 'hda';
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
