/**
 * libxl's virtual-device name to devid mapping (libxl__device_disk_dev_number),
 * reference section 4.1.
 */

function letters(s: string): number | undefined {
  if (!/^[a-z]+$/.test(s)) return undefined;
  let n = 0;
  for (const ch of s) n = n * 26 + (ch.charCodeAt(0) - 97 + 1);
  return n - 1;
}

function part(s: string): number | undefined {
  if (s === '') return 0;
  if (!/^[1-9][0-9]*$/.test(s)) return undefined;
  return Number(s);
}

export interface DiskNumber {
  devid: number;
  disk: number;
  partition: number;
}

/** Returns the devid of a vdev such as `hdc` (5632) or `xvda` (51712), or undefined if libxl would refuse it. */
export function vdevToDevid(vdev: string): DiskNumber | undefined {
  if (/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(vdev)) {
    const n = Number(vdev);
    return { devid: n, disk: 0, partition: 0 };
  }
  let m = /^xvd([a-z]+)([0-9]*)$/.exec(vdev);
  if (m) {
    const disk = letters(m[1]);
    const p = part(m[2]);
    if (disk === undefined || p === undefined) return undefined;
    if (disk <= 15 && p <= 15) return { devid: (202 << 8) | (disk << 4) | p, disk, partition: p };
    if (disk >= 1 << 20 || p > 255) return undefined;
    return { devid: (1 << 28) | (disk << 8) | p, disk, partition: p };
  }
  m = /^d([0-9]+)p([0-9]+)$/.exec(vdev);
  if (m) {
    const disk = Number(m[1]);
    const p = Number(m[2]);
    if (disk <= 15 && p <= 15) return { devid: (202 << 8) | (disk << 4) | p, disk, partition: p };
    if (disk >= 1 << 20 || p > 255) return undefined;
    return { devid: (1 << 28) | (disk << 8) | p, disk, partition: p };
  }
  m = /^hd([a-z]+)([0-9]*)$/.exec(vdev);
  if (m) {
    const disk = letters(m[1]);
    const p = part(m[2]);
    if (disk === undefined || p === undefined || disk > 3 || p > 63) return undefined;
    return { devid: ((disk < 2 ? 3 : 22) << 8) | ((disk & 1) << 6) | p, disk, partition: p };
  }
  m = /^sd([a-z]+)([0-9]*)$/.exec(vdev);
  if (m) {
    const disk = letters(m[1]);
    const p = part(m[2]);
    if (disk === undefined || p === undefined || disk > 15 || p > 15) return undefined;
    return { devid: (8 << 8) | (disk << 4) | p, disk, partition: p };
  }
  return undefined;
}
