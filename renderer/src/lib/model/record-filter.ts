/**
 * The timeline's filters as one predicate over records. Pure: the timeline
 * state runs it over pages of the store; tests run it over arrays.
 */
import type { XRecord } from '../../../../machines/events/record.ts';
import { provenance, summary } from './provenance.ts';

export interface RecordFilter {
  /** Domain uuid. */
  uuid?: string;
  /** Device, as `vbd/5632` or a path fragment such as `device/vif/0`. */
  device?: string;
  /** Record types (any of). */
  types?: string[];
  /** Sources (any of). */
  srcs?: string[];
  /** Time range, ms since epoch, inclusive. */
  tsFrom?: number;
  tsTo?: number;
  /** Free text, matched case-insensitively against summary, provenance and raw data. */
  text?: string;
}

export function isEmptyFilter(f: RecordFilter): boolean {
  return !f.uuid && !f.device && !f.types?.length && !f.srcs?.length && f.tsFrom === undefined && f.tsTo === undefined && !f.text?.trim();
}

/** `vbd/5632` → the path fragments that name that device (frontend `device/vbd/5632`, backend `vbd/<domid>/5632`). */
function deviceMatcher(device: string): (r: XRecord) => boolean {
  const d = device.trim().replace(/^\/+|\/+$/g, '');
  const m = /^([a-z0-9_]+)\/(\d+)$/.exec(d);
  if (!m) return (r) => JSON.stringify(r.data).includes(d);
  const [, kind, devid] = m;
  const fe = new RegExp(`/device/${kind}/${devid}(/|$)`);
  const be = new RegExp(`/backend/[a-z0-9_]+/\\d+/${devid}(/|$)`);
  return (r) => {
    const path = (r.data as { path?: unknown }).path;
    if (typeof path === 'string') return fe.test(path) || be.test(path);
    const actor = (r.data as { actor?: unknown }).actor;
    if (typeof actor === 'string') return actor.endsWith(`:${kind}/${devid}`);
    return false;
  };
}

export function compileFilter(f: RecordFilter): (r: XRecord) => boolean {
  const tests: ((r: XRecord) => boolean)[] = [];
  if (f.uuid) {
    const u = f.uuid;
    tests.push((r) => r.uuid === u || (r.type === 'machine.transition' && String((r.data as { actor?: unknown }).actor ?? '').includes(u)));
  }
  if (f.device?.trim()) tests.push(deviceMatcher(f.device));
  if (f.types?.length) {
    const s = new Set(f.types);
    tests.push((r) => s.has(r.type));
  }
  if (f.srcs?.length) {
    const s = new Set(f.srcs);
    tests.push((r) => s.has(r.src));
  }
  if (f.tsFrom !== undefined) {
    const a = f.tsFrom;
    tests.push((r) => r.ts >= a);
  }
  if (f.tsTo !== undefined) {
    const b = f.tsTo;
    tests.push((r) => r.ts <= b);
  }
  const text = f.text?.trim().toLowerCase();
  if (text) {
    tests.push((r) => {
      const p = provenance(r);
      return `${r.seq} ${r.type} ${r.src} ${summary(r)} ${p.where} ${JSON.stringify(r.data)} ${r.hash}`.toLowerCase().includes(text);
    });
  }
  if (!tests.length) return () => true;
  return (r) => tests.every((t) => t(r));
}
