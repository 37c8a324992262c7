/**
 * Paths and permission strings as C xenstored 4.17 checks them: allowed
 * characters, no `//`, no trailing `/`, the 3072-byte absolute limit and the
 * 2048-byte limit on the part after an optional `/local/domain/<id>/`,
 * relative paths resolved against the caller's home, and `n|r|w|b<domid>`
 * permission strings parsed with strtoul(…, 0) like libxenstore. Pure.
 */
import type { XsPerm } from './store-api.ts';
import { ABS_PATH_MAX, REL_PATH_MAX, strtoulU32Strict } from './wire.ts';

const VALID_CHARS = /^[A-Za-z0-9\-/_@]*$/;
const LOCAL_PREFIX = /^\/local\/domain\/(\d{1,5})\//;

/** is_valid_nodename(): an absolute node path the store accepts (`relMax` is the path-max quota). */
export function isValidNodePath(path: string, relMax = REL_PATH_MAX): boolean {
  if (!path.startsWith('/')) return false;
  if (path.endsWith('/') && path !== '/') return false;
  if (path.includes('//')) return false;
  if (path.length > ABS_PATH_MAX) return false;
  const m = LOCAL_PREFIX.exec(path);
  const localOff = m ? m[0].length : 0;
  if (path.length > localOff + relMax) return false;
  return VALID_CHARS.test(path);
}

/** The home of a domain, also where its relative paths point. */
export function domainPath(domid: number): string {
  return `/local/domain/${domid >>> 0}`;
}

/** canonicalize(): relative paths (not `/…`, not `@…`) are joined to the caller's home. */
export function canonicalize(domid: number, path: string): string {
  if (path.startsWith('/') || path.startsWith('@')) return path;
  return `${domainPath(domid)}/${path}`;
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** is_child(): `child` is `parent` or below it (everything is below `/`). */
export function isSameOrBelow(child: string, parent: string): boolean {
  if (parent === '/') return true;
  if (!child.startsWith(parent)) return false;
  const c = child.charAt(parent.length);
  return c === '' || c === '/';
}

export type PermLetter = XsPerm['perm'];

/** Parses one permission string; undefined for anything xenstored rejects with EINVAL. */
export function parsePerm(s: string): XsPerm | undefined {
  const letter = s.charAt(0);
  if (letter !== 'n' && letter !== 'r' && letter !== 'w' && letter !== 'b') return undefined;
  const domid = strtoulU32Strict(s.slice(1));
  if (domid === undefined) return undefined;
  return { domid, perm: letter };
}

export function formatPerm(p: XsPerm): string {
  return `${p.perm}${p.domid >>> 0}`;
}

export const PERM_READ = 1;
export const PERM_WRITE = 2;
export const PERM_OWNER = 4;
export const PERM_ALL = PERM_READ | PERM_WRITE | PERM_OWNER;

export function permBits(letter: PermLetter): number {
  switch (letter) {
    case 'n':
      return 0;
    case 'r':
      return PERM_READ;
    case 'w':
      return PERM_WRITE;
    case 'b':
      return PERM_READ | PERM_WRITE;
  }
}
