/**
 * Where xenbus devices live in xenstore (reference section 2.2), as pure path parsing.
 * Shared by the xenbus and ninepfs bindings.
 *
 * Frontend: /local/domain/<domid>/device/<kind>/<devid>/<key...>
 *           /local/domain/<domid>/console/<key...>            (console 0)
 *           /local/domain/<domid>/vuart/<devid>/<key...>
 * Backend:  /local/domain/<be>/backend/<bekind>/<domid>/<devid>/<key...>
 */

export type Side = 'frontend' | 'backend';

/** One xenstore path, read as a place in a device directory. */
export interface DevicePath {
  side: Side;
  /** Frontend domain. */
  domid: number;
  /** Frontend kind (vbd for qdisk, 9pfs for xen_9pfs, vusb for qusb). */
  kind: string;
  devid: number;
  /** Backend kind as written in the backend path; undefined for a frontend path. */
  backendKind?: string;
  /** Backend domain; undefined for a frontend path. */
  backendDomid?: number;
  /** Key below the device directory ('' for the directory itself; may contain '/'). */
  key: string;
}

/** Backend kinds whose frontend kind differs. */
const FRONTEND_KIND_OF: Record<string, string> = { qdisk: 'vbd', xen_9pfs: '9pfs', qusb: 'vusb' };

export function frontendKindOf(backendKind: string): string {
  return FRONTEND_KIND_OF[backendKind] ?? backendKind;
}

const LOCAL = '/local/domain/';

function uint(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 0xffffffff ? n : undefined;
}

function keyOf(parts: string[], from: number): string {
  return parts.slice(from).join('/');
}

/** Parse a path inside (or equal to) a device directory; undefined for anything else. */
export function parseDevicePath(path: string): DevicePath | undefined {
  if (!path.startsWith(LOCAL)) return undefined;
  const parts = path.slice(LOCAL.length).split('/');
  const dom = uint(parts[0]);
  if (dom === undefined) return undefined;
  const area = parts[1];
  if (area === 'device') {
    const kind = parts[2];
    const devid = uint(parts[3]);
    if (!kind || devid === undefined) return undefined;
    return { side: 'frontend', domid: dom, kind, devid, key: keyOf(parts, 4) };
  }
  if (area === 'vuart') {
    const devid = uint(parts[2]);
    if (devid === undefined) return undefined;
    return { side: 'frontend', domid: dom, kind: 'vuart', devid, key: keyOf(parts, 3) };
  }
  if (area === 'console') {
    return { side: 'frontend', domid: dom, kind: 'console', devid: 0, key: keyOf(parts, 2) };
  }
  if (area === 'backend') {
    const backendKind = parts[2];
    const fe = uint(parts[3]);
    const devid = uint(parts[4]);
    if (!backendKind || fe === undefined || devid === undefined) return undefined;
    return {
      side: 'backend',
      domid: fe,
      kind: frontendKindOf(backendKind),
      devid,
      backendKind,
      backendDomid: dom,
      key: keyOf(parts, 5),
    };
  }
  return undefined;
}

/** Directory of a device side, from a parsed path. */
export function deviceDir(p: DevicePath): string {
  if (p.side === 'frontend') {
    if (p.kind === 'console' && p.devid === 0) return `${LOCAL}${p.domid}/console`;
    if (p.kind === 'vuart') return `${LOCAL}${p.domid}/vuart/${p.devid}`;
    return `${LOCAL}${p.domid}/device/${p.kind}/${p.devid}`;
  }
  return `${LOCAL}${p.backendDomid}/backend/${p.backendKind}/${p.domid}/${p.devid}`;
}

/**
 * The device directories at or below `path` as the mirror knows them, for an `xs.rm`
 * of an ancestor (a whole domain, a device kind, a backend domain's tree).
 * Returns the directories' parsed paths (key '').
 */
export function devicesBelow(path: string, children: (p: string) => string[]): DevicePath[] {
  if (!path.startsWith(LOCAL)) return [];
  const parts = path.slice(LOCAL.length).split('/');
  const out: DevicePath[] = [];
  const dom = uint(parts[0]);
  if (dom === undefined) return out;
  const base = `${LOCAL}${dom}`;
  const visitFrontKinds = (kinds: string[]) => {
    for (const kind of kinds) {
      for (const id of children(`${base}/device/${kind}`)) {
        const p = parseDevicePath(`${base}/device/${kind}/${id}`);
        if (p) out.push(p);
      }
    }
  };
  const visitBackKinds = (bekinds: string[], fedoms?: string[]) => {
    for (const bk of bekinds) {
      for (const fe of fedoms ?? children(`${base}/backend/${bk}`)) {
        for (const id of children(`${base}/backend/${bk}/${fe}`)) {
          const p = parseDevicePath(`${base}/backend/${bk}/${fe}/${id}`);
          if (p) out.push(p);
        }
      }
    }
  };
  if (parts.length === 1) {
    visitFrontKinds(children(`${base}/device`));
    if (children(base).includes('console')) out.push(parseDevicePath(`${base}/console`)!);
    for (const id of children(`${base}/vuart`)) {
      const p = parseDevicePath(`${base}/vuart/${id}`);
      if (p) out.push(p);
    }
    visitBackKinds(children(`${base}/backend`));
  } else if (parts[1] === 'device' && parts.length === 2) {
    visitFrontKinds(children(`${base}/device`));
  } else if (parts[1] === 'device' && parts.length === 3) {
    visitFrontKinds([parts[2]!]);
  } else if (parts[1] === 'backend' && parts.length === 2) {
    visitBackKinds(children(`${base}/backend`));
  } else if (parts[1] === 'backend' && parts.length === 3) {
    visitBackKinds([parts[2]!]);
  } else if (parts[1] === 'backend' && parts.length === 4) {
    visitBackKinds([parts[2]!], [parts[3]!]);
  }
  return out;
}
