/**
 * CD-ROM naming rules: a virtual device name (vdev) to its device number
 * (devid), the Linux stub domain's fdset id for a CD-ROM, and the media
 * named by a vbd backend's `params`. Pure functions, no state.
 *
 * vdevToDevid follows libxl's `libxl__device_disk_dev_number` (reference 4.1);
 * stubdomFdset follows seed 000 (`STUBDOM_FDSET_CD + vdev[n] - 'a'`).
 */

/** libxl's STUBDOM_FDSET_CD (seed 000). */
export const STUBDOM_FDSET_CD = 8000;

const INT_MAX = 2 ** 31 - 1;

/** Letters a..z read as bijective base 26 (a=0, z=25, aa=26); undefined if there are none or the index passes max. */
function parseLetters(s: string, max: number): { index: number; rest: string } | undefined {
  let index = -1;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 97 || c > 122) break;
    index = (index + 1) * 26 + (c - 97);
    if (index > max) return undefined;
    i++;
  }
  // libxl would accept a name with no letter at all (index -1) and compute a nonsense devid; refuse it.
  if (index < 0) return undefined;
  return { index, rest: s.slice(i) };
}

/** `<prefix><letters>[<partition>]`: partition in decimal, no leading zero, at most maxPart. */
function matchVirtDisk(
  vdev: string,
  prefix: string,
  maxDisk: number,
  maxPart: number,
): { disk: number; part: number } | undefined {
  if (!vdev.startsWith(prefix)) return undefined;
  const letters = parseLetters(vdev.slice(prefix.length), maxDisk);
  if (!letters) return undefined;
  const { index, rest } = letters;
  if (rest === '') return { disk: index, part: 0 };
  if (!/^[1-9][0-9]*$/.test(rest)) return undefined;
  const part = Number(rest);
  if (part > maxPart) return undefined;
  return { disk: index, part };
}

/** An unsigned integer as C's `%i` / `strtoul(…, 0)` read it: 0x… hex, 0… octal, else decimal. */
function parseCUnsigned(s: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^0[0-7]*$/.test(s)) return s.length === 1 ? 0 : parseInt(s.slice(1), 8);
  if (/^[1-9][0-9]*$/.test(s)) return Number(s);
  return undefined;
}

/** `d<disk>p<part>` with disk < 2^20 and part < 256. */
function matchDiskPart(vdev: string): { disk: number; part: number } | undefined {
  const m = /^d(0[xX][0-9a-fA-F]+|[0-9]+)p(0[xX][0-9a-fA-F]+|[0-9]+)$/.exec(vdev);
  if (!m) return undefined;
  const disk = parseCUnsigned(m[1]);
  const part = parseCUnsigned(m[2]);
  if (disk === undefined || part === undefined) return undefined;
  if (disk >= 1 << 20 || part >= 256) return undefined;
  return { disk, part };
}

/** The device number of a virtual device name, or undefined when libxl would reject the name. */
export function tryVdevToDevid(vdev: string): number | undefined {
  const xvd = matchDiskPart(vdev) ?? matchVirtDisk(vdev, 'xvd', (1 << 20) - 1, 255);
  if (xvd) {
    const { disk, part } = xvd;
    if (disk <= 15 && part <= 15) return (202 << 8) | (disk << 4) | part;
    return (1 << 28) | (disk << 8) | part;
  }
  const plain = parseCUnsigned(vdev);
  if (plain !== undefined && plain <= INT_MAX) return plain;
  const hd = matchVirtDisk(vdev, 'hd', 3, 63);
  if (hd) return ((hd.disk < 2 ? 3 : 22) << 8) | ((hd.disk & 1) << 6) | hd.part;
  const sd = matchVirtDisk(vdev, 'sd', 15, 15);
  if (sd) return (8 << 8) | (sd.disk << 4) | sd.part;
  return undefined;
}

/**
 * The device number of a virtual device name (reference 4.1): `xvd<L>[P]` and
 * `d<disk>p<part>` (extended numbers past disk 15 or partition 15), `hd<L>[P]`,
 * `sd<L>[P]`, or a plain decimal/hex/octal integer. Throws on a name libxl rejects.
 */
export function vdevToDevid(vdev: string): number {
  const devid = tryVdevToDevid(vdev);
  if (devid === undefined) throw new Error(`invalid virtual device name "${vdev}"`);
  return devid;
}

/** The stub domain's fdset id for a CD-ROM, or undefined for a vdev that is not hdX or xvdY. */
export function tryStubdomFdset(vdev: string): number | undefined {
  // Seed 000 reads the single character after the prefix: hdc -> 8002, xvdd -> 8003.
  const prefix = vdev.startsWith('hd') ? 2 : vdev.startsWith('xvd') ? 3 : -1;
  if (prefix < 0) return undefined;
  const c = vdev.charCodeAt(prefix);
  if (!(c >= 97 && c <= 122)) return undefined;
  return STUBDOM_FDSET_CD + (c - 97);
}

/** The stub domain's fdset id (seed 000): 8000 + drive letter index; throws libxl's error for any other vdev form. */
export function stubdomFdset(vdev: string): number {
  const fdset = tryStubdomFdset(vdev);
  if (fdset === undefined) throw new Error(`disk->vdev "${vdev}" isn't hdX or xvdY`);
  return fdset;
}

/** The media a backend `params` names: '' is empty media; qdisk writes `<fmt>:<path>`, phy the raw path. */
export function mediaPathOf(params: string): string | undefined {
  if (params === '') return undefined;
  const m = /^(aio|raw|qcow|qcow2|vhd|qed|vpc):(.*)$/.exec(params);
  return m ? m[2] : params;
}

/** The devid in a QMP device id `ide-<devid>`, or undefined. */
export function devidOfQmpId(id: unknown): number | undefined {
  if (typeof id !== 'string') return undefined;
  const m = /^ide-([0-9]+)$/.exec(id);
  return m ? Number(m[1]) : undefined;
}
