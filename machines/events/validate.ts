/**
 * Record and manifest validation with precise errors: which field, what was
 * expected and what was found. The bundle reader adds the line number.
 * Untrusted input (imported bundles, helper reports) passes through here.
 */
import { HEX64 } from './hash.ts';
import { SOURCES, SHUTDOWN_REASONS, type XRecord } from './record.ts';

export interface Problem {
  field: string;
  expected: string;
  found: string;
}

export class ValidationError extends Error {
  constructor(
    readonly problem: Problem,
    readonly line?: number,
  ) {
    super(
      `${line !== undefined ? `line ${line}: ` : ''}${problem.field}: expected ${problem.expected}, found ${problem.found}`,
    );
    this.name = 'ValidationError';
  }
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return v.length > 40 ? `"${v.slice(0, 40)}…"` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return `a ${typeof v}`;
}

const TYPE_RE = /^[a-z][a-zA-Z0-9_-]*(\.[a-zA-Z0-9_-]+)*$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RECORD_KEYS = new Set(['seq', 'ts', 'src', 'type', 'domid', 'uuid', 'data', 'prev', 'hash']);

type Check = (v: unknown) => string | null; // null = fine, else the expectation
const str: Check = (v) => (typeof v === 'string' ? null : 'a string');
const bool: Check = (v) => (typeof v === 'boolean' ? null : 'true or false');
const uint: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 ? null : 'a whole number ≥ 0');
const domid: Check = (v) => (Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) < 0x7ff0 ? null : 'a domid (0..32751)');
const obj: Check = (v) => (v && typeof v === 'object' && !Array.isArray(v) ? null : 'an object');
const oneOf =
  (...xs: string[]): Check =>
  (v) =>
    typeof v === 'string' && xs.includes(v) ? null : `one of ${xs.join(', ')}`;
const path: Check = (v) => (typeof v === 'string' && (v.startsWith('/') || v.startsWith('@')) ? null : 'an absolute xenstore path');

/** Data shapes of the vocabulary v1: required fields, and optional ones marked with '?'. */
const DATA: Record<string, Record<string, Check>> = {
  'xs.write': { path, value: str },
  'xs.rm': { path },
  'xs.introduce': { domid },
  'xs.release': { domid },
  dominfo: {
    domid,
    uuid: str,
    'name?': str,
    running: bool,
    blocked: bool,
    paused: bool,
    shutdown: bool,
    dying: bool,
    'reason?': oneOf(...SHUTDOWN_REASONS),
  },
  'qmp.event': { domid, event: str, 'data?': obj },
  'qmp.reply': { domid, command: str, ok: bool },
  'log.line': { file: oneOf('xl', 'qemu-dm', 'hotplug'), 'domid?': domid, 'name?': str, line: str },
  'cmd.request': { cmd: str, user: str, op: str, args: obj },
  'cmd.result': { cmd: str, ok: bool, 'error?': str, 'output?': str },
  'helper.status': { state: oneOf('up', 'down', 'resynced', 'failed'), gap: bool },
  'machine.transition': { actor: str, from: str, to: str, cause: uint },
  dropped: { reason: str, count: uint, from: uint, to: uint },
  'ioreq.op': { domid, caller: domid, op: str, result: str },
  'store.prune': { before: uint, count: uint, first: str, last: str },
  'store.redact': { seq: uint, field: str },
};

/** Validate one parsed record; returns it typed or throws ValidationError (without a line number). */
export function validateRecord(v: unknown): XRecord {
  const p = recordProblem(v);
  if (p) throw new ValidationError(p);
  return v as XRecord;
}

export function recordProblem(v: unknown): Problem | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { field: 'record', expected: 'a JSON object', found: describe(v) };
  const r = v as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!RECORD_KEYS.has(k)) return { field: k, expected: 'no such field (unknown field)', found: describe(r[k]) };
  }
  if (!Number.isSafeInteger(r.seq) || (r.seq as number) < 1) return { field: 'seq', expected: 'a whole number ≥ 1', found: describe(r.seq) };
  if (!Number.isSafeInteger(r.ts) || (r.ts as number) < 0) return { field: 'ts', expected: 'ms since epoch (whole number ≥ 0)', found: describe(r.ts) };
  if (typeof r.src !== 'string' || !(SOURCES as readonly string[]).includes(r.src))
    return { field: 'src', expected: `one of ${SOURCES.join(', ')}`, found: describe(r.src) };
  if (typeof r.type !== 'string' || !TYPE_RE.test(r.type)) return { field: 'type', expected: 'a dotted lowercase type name', found: describe(r.type) };
  if (r.domid !== undefined && domid(r.domid)) return { field: 'domid', expected: 'a domid (0..32751)', found: describe(r.domid) };
  if (r.uuid !== undefined && (typeof r.uuid !== 'string' || !UUID_RE.test(r.uuid)))
    return { field: 'uuid', expected: 'a lowercase uuid', found: describe(r.uuid) };
  if (obj(r.data)) return { field: 'data', expected: 'an object', found: describe(r.data) };
  if (typeof r.prev !== 'string' || !HEX64.test(r.prev)) return { field: 'prev', expected: '64 lowercase hex digits', found: describe(r.prev) };
  if (typeof r.hash !== 'string' || !HEX64.test(r.hash)) return { field: 'hash', expected: '64 lowercase hex digits', found: describe(r.hash) };
  const shape = DATA[r.type];
  if (shape) {
    const data = r.data as Record<string, unknown>;
    for (const [key, check] of Object.entries(shape)) {
      const optional = key.endsWith('?');
      const name = optional ? key.slice(0, -1) : key;
      const val = data[name];
      if (val === undefined) {
        if (optional) continue;
        return { field: `data.${name}`, expected: `${check(undefined) ?? 'a value'} (required for ${r.type})`, found: 'nothing' };
      }
      const want = check(val);
      if (want) return { field: `data.${name}`, expected: want, found: describe(val) };
    }
  }
  return null;
}
