/** The virtual device name a xenbus devid stands for (the inverse of libxl's vdev → devid for the usual names). Pure. */
import { tryVdevToDevid } from '../../../../machines/cdrom/cdrom.vdev.ts';

const CANDIDATES: string[] = [];
for (const prefix of ['hd', 'xvd', 'sd']) for (let i = 0; i < 26; i++) CANDIDATES.push(prefix + String.fromCharCode(97 + i));

let table: Map<number, string> | null = null;

export function vdevOfDevid(devid: number | undefined): string | undefined {
  if (devid === undefined) return undefined;
  if (!table) {
    table = new Map();
    for (const v of CANDIDATES) {
      const d = tryVdevToDevid(v);
      if (d !== undefined && !table.has(d)) table.set(d, v);
    }
  }
  return table.get(devid);
}
