/**
 * xen-9pfsd's rules (seed 001, reference section 8) as pure functions, one per check,
 * returning the close reason or undefined when the check passes.
 */
import { MAX_RING_ORDER, MAX_RINGS } from './ninepfs.types.ts';

/**
 * `uint_from_string()`: strtoul base 10 with the whole string consumed and the value
 * at most UINT_MAX, else `def`; an absent node gives `def`; an empty string reads as 0.
 */
export function uintFromString(s: string | undefined, def: number): number {
  if (s === undefined) return def;
  if (s === '') return 0;
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(s);
  if (!m) return def;
  const digits = m[2]!.replace(/^0+(?=\d)/, '');
  if (m[1] === '-') return /^0+$/.test(digits) ? 0 : def;
  if (digits.length > 10) return def;
  const v = Number(digits);
  return v > 0xffffffff ? def : v;
}

/** `frontend_changed()`: a state that is not a whole number 0..8 is Unknown (0). */
export function daemonFrontendState(raw: string): number {
  const n = uintFromString(raw, 9);
  return n > 8 ? 0 : n;
}

/** security_model must be `none`. */
export function checkSecurityModel(v: string | undefined): string | undefined {
  if (v === undefined) return 'security_model missing';
  return v === 'none' ? undefined : `security_model "${v}" is not none`;
}

/** The host path must be absolute, without `//` and without a trailing `/` (so `/` is refused). */
export function checkHostPath(p: string | undefined): string | undefined {
  if (p === undefined) return 'host path missing';
  if (!p.startsWith('/')) return `host path "${p}" is not absolute`;
  if (p.includes('//')) return `host path "${p}" contains //`;
  if (p.endsWith('/')) return `host path "${p}" ends with /`;
  return undefined;
}

/** `new_device()`: the checks made when the backend directory appears, in xen-9pfsd's order. */
export function probeBackend(be: Record<string, string>): string | undefined {
  return checkSecurityModel(be['security_model']) ?? checkHostPath(be['path']);
}

function shown(raw: string | undefined): string {
  return raw === undefined ? 'missing' : `"${raw}"`;
}

/**
 * `connect_device()` on frontend Initialised, in xen-9pfsd's order: version 1, 1 ≤ num-rings ≤ 4,
 * then per ring event-channel-N (with a dash) and ring-refN (without) non-zero and the ring order
 * in 1..9. The ring order lives in the shared interface page, which Xendeck cannot read: it is
 * checked only when the frontend also publishes `ring-page-order`.
 */
export function checkFrontend(fe: Record<string, string>): string | undefined {
  const version = uintFromString(fe['version'], 0);
  if (version !== 1) return `version ${shown(fe['version'])} is not 1`;
  const rings = uintFromString(fe['num-rings'], 0);
  if (rings < 1 || rings > MAX_RINGS) return `num-rings ${fe['num-rings'] ?? 'missing'} out of 1..${MAX_RINGS}`;
  for (let i = 0; i < rings; i++) {
    const ec = `event-channel-${i}`;
    if (uintFromString(fe[ec], 0) === 0) return `${ec} ${shown(fe[ec])} is not a non-zero port`;
    const ref = `ring-ref${i}`;
    if (uintFromString(fe[ref], 0) === 0) return `${ref} ${shown(fe[ref])} is not a non-zero grant`;
    const order = fe['ring-page-order'];
    if (order !== undefined) {
      const o = uintFromString(order, 0);
      if (o < 1 || o > MAX_RING_ORDER) return `ring order ${order} out of 1..${MAX_RING_ORDER}`;
    }
  }
  return undefined;
}

/** What xen-9pfsd writes before InitWait. */
export const PUBLISHED_KEYS: Readonly<Record<string, string>> = {
  versions: '1',
  'max-rings': String(MAX_RINGS),
  'max-ring-page-order': String(MAX_RING_ORDER),
};

export const UNOBSERVED_CLOSE =
  'closed after Initialised for a reason Xendeck cannot observe (ring order in the shared page, grant or event-channel mapping)';
