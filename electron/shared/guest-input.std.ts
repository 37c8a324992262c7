/**
 * Guest-writable xenstore input is untrusted (issue 8, Build item 1): the
 * filter that sits between the observer (helper reports turned into
 * observations) and the recorder.
 *
 * A guest owns parts of its own xenstore home (reference section 3:
 * `data/ attr/ drivers/ control/ feature/ error`, its device frontends) and a
 * buggy or hostile guest can write there fast, large or nonsense. The filter:
 *  - passes every observation that is not a guest write untouched and at once
 *    (backends, `/vm`, `/libxl`, dom0's home, dominfo, introduce/release, QMP,
 *    xl, logs, people, the helper): nothing another domain does waits behind a
 *    flood;
 *  - budgets each domain's guest writes with two token buckets (records and
 *    bytes); what is over budget is not recorded one by one: it is counted,
 *    and the latest write or removal of each path (up to `maxHeldLatest`) is
 *    recorded when the episode ends, after its `dropped` summary;
 *  - keeps frontend `state` keys and `control/shutdown`, which the machines
 *    need, on a separate and much larger budget; over that budget only each
 *    key's latest value is kept and recorded at the next flush, so the
 *    machines always see where a device or a shutdown request ended up;
 *  - coalesces noisy keys (memory statistics guest agents rewrite every few
 *    seconds) to their latest value per interval;
 *  - records values as bytes-safe strings: oversized values are truncated and
 *    values with control characters, lone surrogates or U+FFFD are escaped,
 *    both with an unforgeable marker (see `sanitizeValue`);
 *  - never loses anything silently: every write it does not record as it came
 *    is counted in exactly one `dropped` record
 *    `{domid, path, reason, count, bytes, from, to}`.
 *
 * Pure and deterministic: no Node, no timers; time comes from the
 * observations' `ts` and from `flush(ts)`. A clock that jumps backwards counts
 * as no time elapsed (the buckets never refill from it, and never stall on it);
 * observations a little out of order (within `clockJumpMs`) add no time either.
 */
import type { Observation } from '../../machines/events/record.ts';

// Configuration -----------------------------------------------------------------

/** Why a guest write was not recorded as it came (`dropped.reason`). */
export type GuestDropReason = 'rate' | 'size' | 'noisy' | 'invalid-utf8' | 'backpressure' | 'repeat';
export const GUEST_DROP_REASONS: readonly GuestDropReason[] = ['rate', 'size', 'noisy', 'invalid-utf8', 'backpressure', 'repeat'];

export interface GuestInputConfig {
  /** Sustained guest records per second per domain. */
  recordsPerSec: number;
  /** Records a domain may write at once after a quiet spell (bucket size). */
  recordBurst: number;
  /** Sustained bytes (path + value, UTF-8) per second per domain. */
  bytesPerSec: number;
  /** Bytes a domain may write at once after a quiet spell (bucket size). */
  byteBurst: number;
  /** Sustained essential records (see `essentialKeys`) per second per domain. */
  essentialPerSec: number;
  /** Essential records a domain may write at once. */
  essentialBurst: number;
  /** Largest value recorded as is, in UTF-8 bytes; longer values are truncated with a marker. */
  maxValueBytes: number;
  /**
   * Where a guest may write, relative to its home `/local/domain/<id>/`: a
   * path is guest-writable when it equals one of these or lies below one.
   */
  guestWritable: string[];
  /** Guest keys (globs relative to the home) budgeted separately and never lost: only superseded values are dropped. */
  essentialKeys: string[];
  /** Guest keys (globs relative to the home) whose updates are coalesced to the latest value per `coalesceMs`. */
  noisyKeys: string[];
  /** Coalescing interval for noisy keys. */
  coalesceMs: number;
  /** Longest a drop episode runs before its `dropped` summary is written (a flood is summarised at least this often). */
  summaryMaxMs: number;
  /** Noisy keys remembered per domain (LRU); an evicted key's held value is counted as dropped. */
  maxCoalescedKeys: number;
  /** Essential keys held per domain while over the essential budget; beyond this, values are dropped (counted). */
  maxHeldEssential: number;
  /**
   * Paths per domain whose latest over-budget write or removal is kept (LRU)
   * and recorded when the drop episode ends, so history ends where the guest
   * left its nodes; superseded and evicted ones are counted.
   */
  maxHeldLatest: number;
  /** Domains with filter state; the least recently active one is summarised and forgotten beyond this. */
  maxDomains: number;
  /** A `ts` further back than this from the latest is the host clock jumping (not an observation arriving late). */
  clockJumpMs: number;
}

/**
 * Defaults. Sources for the noisy keys:
 *  - xe-guest-utilities (xenserver/xe-guest-utilities, xe-daemon/xe-daemon.go,
 *    guestmetric): every 60 s (`-i`), memory every second round, writes
 *    `data/meminfo_free`, `data/meminfo_total`, and `data/updated` (a time
 *    stamp) whenever anything was written;
 *  - the XenServer Windows guest agent: `data/meminfo_free`,
 *    `data/meminfo_total`, `data/updated`, `data/update_cnt` (a counter);
 *  - xen-guest-agent (xcp-ng; src/xenstore_schema_std.rs, main.rs
 *    `MEM_PERIOD_SECONDS` = 5 in current versions, 60 in early ones):
 *    `data/meminfo_free` and `data/meminfo_total`;
 *  - Qubes OS (qubes-doc developer/services/qmemman.md): `memory/meminfo`,
 *    written by qubes-meminfo-writer whenever usage changes noticeably (Qubes
 *    makes that one node guest-writable; libxl's `memory/target` is not);
 *  - xapi itself ignores `data/meminfo_free`, `data/updated`,
 *    `data/update_cnt` when comparing guest-agent state (xenopsd), for the
 *    same reason.
 * 4096 bytes is xenstore's whole-message payload limit (XENSTORE_PAYLOAD_MAX);
 * unprivileged node values are smaller still (2048-byte quota).
 */
export const DEFAULT_GUEST_INPUT_CONFIG: Readonly<GuestInputConfig> = Object.freeze({
  recordsPerSec: 200,
  recordBurst: 1000,
  bytesPerSec: 64 * 1024,
  byteBurst: 512 * 1024,
  essentialPerSec: 100,
  essentialBurst: 2000,
  maxValueBytes: 4096,
  guestWritable: ['data', 'attr', 'drivers', 'control', 'feature', 'error', 'device', 'memory/meminfo'],
  essentialKeys: ['device/*/*/state', 'control/shutdown'],
  noisyKeys: ['data/meminfo_free', 'data/meminfo_total', 'data/updated', 'data/update_cnt', 'data/ts', 'memory/meminfo'],
  coalesceMs: 10_000,
  summaryMaxMs: 10_000,
  maxCoalescedKeys: 64,
  maxHeldEssential: 16,
  maxHeldLatest: 64,
  maxDomains: 4096,
  clockJumpMs: 2000,
});

// Values: bytes-safe strings ------------------------------------------------------

/** First character of every marked value; a clean value never contains it (it would be escaped). */
export const MARK = '\uFFFD';

/** UTF-8 length of a string; a lone surrogate counts 3 bytes (as WTF-8 writes it). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

function isLow(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Code points that are escaped: C0 controls but tab and newline, DEL, C1 controls, U+FFFD, bidi controls, line/paragraph separators. */
function needsEscape(c: number): boolean {
  if (c < 0x20) return c !== 0x09 && c !== 0x0a;
  if (c < 0x7f) return false;
  if (c <= 0x9f) return true;
  if (c === 0xfffd || c === 0x2028 || c === 0x2029) return true;
  if (c >= 0x202a && c <= 0x202e) return true;
  return c >= 0x2066 && c <= 0x2069;
}

/** Is the string recorded as is (no character to escape, not too long)? */
function isClean(s: string, maxBytes: number): boolean {
  if (s.length > maxBytes) return false; // each UTF-16 unit is at least one byte
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c <= 0xdbff && i + 1 < s.length && isLow(s.charCodeAt(i + 1))) i++;
      else return false;
    } else if (needsEscape(c)) return false;
  }
  return utf8Length(s) <= maxBytes;
}

export interface Sanitized {
  /** What is recorded. */
  value: string;
  /** Why it differs from the original, if it does ('size' wins when both apply). */
  reason?: 'size' | 'invalid-utf8';
  /** UTF-8 bytes of the original value. */
  originalBytes: number;
  /** Original bytes not recorded (0 unless truncated). */
  cutBytes: number;
}

/**
 * A guest value as recorded. A value with nothing to escape and at most
 * `maxBytes` UTF-8 bytes is recorded unchanged. Any other value is recorded
 * *marked*:
 *
 *     U+FFFD "[" flags "] " body
 *
 * where flags is `escaped`, `truncated: <N> bytes` or
 * `escaped, truncated: <N> bytes` (N = the original value's UTF-8 length) and
 * body is the original in escaped form: `\` is written `\\`, and each escaped
 * UTF-16 code unit is written `\u{<hex>}` (lower case, no padding). Escaped
 * are: C0 controls except tab and newline, DEL, C1 controls (U+0080–U+009F),
 * U+FFFD, U+2028, U+2029, the bidi controls U+202A–U+202E and U+2066–U+2069,
 * and lone surrogates (a JSON string can carry one; `\u{d800}`). A truncated
 * body is the escaped form cut to at most `maxBytes` UTF-8 bytes, never inside
 * an escape or a surrogate pair. Because a clean value never contains U+FFFD,
 * a recorded value is marked exactly when it starts with U+FFFD, so a guest
 * cannot forge a marker. `\u{fffd}` in a body means the guest wrote U+FFFD or
 * the helper replaced bytes that were not UTF-8 (the helper's log tails do);
 * the bytes it replaced are not known to Xendeck. `unescapeValue` reverses
 * the escaping.
 */
export function sanitizeValue(value: string, maxBytes: number): Sanitized {
  const originalBytes = utf8Length(value);
  if (isClean(value, maxBytes)) return { value, originalBytes, cutBytes: 0 };
  let body = '';
  let bodyBytes = 0;
  let escaped = false;
  let truncated = false;
  let keptBytes = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    let piece: string;
    let orig: number;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length && isLow(value.charCodeAt(i + 1))) {
      piece = value.slice(i, i + 2);
      orig = 4;
    } else if ((c >= 0xd800 && c <= 0xdfff) || needsEscape(c)) {
      piece = `\\u{${c.toString(16)}}`;
      orig = c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
      escaped = true;
    } else if (c === 0x5c) {
      piece = '\\\\';
      orig = 1;
    } else {
      piece = value[i];
      orig = c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    }
    const pb = utf8Length(piece);
    if (!truncated && bodyBytes + pb > maxBytes) truncated = true;
    if (truncated) {
      // Keep scanning only to learn whether anything would have been escaped.
      if (piece.length === 2 && orig === 4) i++;
      continue;
    }
    body += piece;
    bodyBytes += pb;
    keptBytes += orig;
    if (piece.length === 2 && orig === 4) i++;
  }
  const flags = [escaped ? 'escaped' : '', truncated ? `truncated: ${originalBytes} bytes` : ''].filter(Boolean).join(', ');
  return {
    value: `${MARK}[${flags}] ${body}`,
    reason: truncated ? 'size' : 'invalid-utf8',
    originalBytes,
    cutBytes: truncated ? originalBytes - keptBytes : 0,
  };
}

export interface Unescaped {
  /** The original value, or its kept beginning when truncated. */
  value: string;
  marked: boolean;
  escaped: boolean;
  /** Original UTF-8 length when the recorded value was truncated. */
  truncatedFrom?: number;
}

const MARK_HEADER = /^\uFFFD\[(escaped|truncated: (\d+) bytes|escaped, truncated: (\d+) bytes)\] /;

/** Reverse `sanitizeValue`: the original (or its kept beginning) of a recorded guest value. */
export function unescapeValue(recorded: string): Unescaped {
  const m = MARK_HEADER.exec(recorded);
  if (!m) return { value: recorded, marked: false, escaped: false };
  const body = recorded.slice(m[0].length);
  const value = body.replace(/\\(\\|u\{([0-9a-f]{1,4})\})/g, (_all, what: string, hex: string | undefined) =>
    hex !== undefined ? String.fromCharCode(parseInt(hex, 16)) : what === '\\' ? '\\' : what,
  );
  const n = m[2] ?? m[3];
  return {
    value,
    marked: true,
    escaped: m[1].startsWith('escaped'),
    ...(n !== undefined ? { truncatedFrom: Number(n) } : {}),
  };
}

// Paths -------------------------------------------------------------------------

const HOME_RE = /^\/local\/domain\/(\d{1,5})(?:\/(.*))?$/;

/** Compile a glob relative to a domain home: `*` matches within one segment, `**` across segments. */
function glob(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else re += ch.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Where a guest path lies: its domain and the part below the home. */
interface GuestPath {
  domid: number;
  rel: string;
}

// The filter --------------------------------------------------------------------

interface Episode {
  count: number;
  bytes: number;
  from: number;
  to: number;
  /** Common segment prefix of the paths counted. */
  path: string;
  /** Filter clock when the episode began. */
  started: number;
}

interface Held {
  obs: Observation;
  bytes: number;
}

interface DomainState {
  domid: number;
  uuid?: string;
  /** Filter clock of the last refill. */
  last: number;
  /** Tokens, in thousandths (exact integer refills on the ms clock when rates are whole numbers). */
  rec: number;
  byt: number;
  ess: number;
  episodes: Partial<Record<GuestDropReason, Episode>>;
  /** Filter clock when the current coalescing interval ends; undefined when no noisy key is active. */
  noisyEnd?: number;
  /** Noisy keys active in the interval (insertion order = LRU), with the value held back, if any. */
  noisy: Map<string, Held | null>;
  /** Essential values held back while over the essential budget, by path. */
  heldEssential: Map<string, Held>;
  /** Latest over-budget write (`w:path`) or removal (`r:path`) per path, oldest first. */
  latest: Map<string, Held>;
  /** How many entries of `latest` are removals (they must be recorded before anything below them). */
  latestRms: number;
  /** Filter clock when the current rate episode began (a count or a held latest value). */
  rateStarted?: number;
}

/** Internal size, for memory bounds. */
export interface GuestInputStats {
  domains: number;
  coalescedKeys: number;
  heldEssential: number;
  heldLatest: number;
  /** Held-back observations (noisy, essential and latest over-budget values), each one xenstore node's path and value. */
  held: number;
}

const MILLI = 1000;

/**
 * The filter. The host calls `push(obs)` for each observation, in order, and
 * seals what it returns, in order; and `flush(ts)` on each `host.tick`,
 * sealing what it returns. `drain(ts)` writes everything pending (on stop).
 */
export class GuestInputFilter {
  readonly config: Readonly<GuestInputConfig>;
  private readonly essential: RegExp[];
  private readonly noisyRe: RegExp[];
  private readonly writable: string[];
  private readonly domains = new Map<number, DomainState>();
  /** Filter clock: ms elapsed, never decreasing; a backwards step of `ts` adds nothing. */
  private clock = 0;
  private lastTs: number | undefined;
  /** The outbox is backing up: every non-essential guest write is held (latest per node) and counted as `backpressure`. */
  private shedding = false;

  constructor(config: Partial<GuestInputConfig> = {}) {
    const c = { ...DEFAULT_GUEST_INPUT_CONFIG, ...config };
    for (const k of ['recordsPerSec', 'recordBurst', 'bytesPerSec', 'byteBurst', 'essentialPerSec', 'essentialBurst', 'maxValueBytes', 'coalesceMs', 'summaryMaxMs', 'maxCoalescedKeys', 'maxHeldEssential', 'maxHeldLatest', 'maxDomains', 'clockJumpMs'] as const) {
      if (!Number.isFinite(c[k]) || c[k] < 0) throw new RangeError(`guest input: ${k} must be a number ≥ 0`);
    }
    if (c.maxDomains < 1) throw new RangeError('guest input: maxDomains must be ≥ 1');
    this.config = Object.freeze({ ...c, guestWritable: [...c.guestWritable], essentialKeys: [...c.essentialKeys], noisyKeys: [...c.noisyKeys] });
    this.essential = c.essentialKeys.map(glob);
    this.noisyRe = c.noisyKeys.map(glob);
    this.writable = [...c.guestWritable];
  }

  /**
   * Shed guest input while the host's outbox is backing up (electron/host/README.md, "Backpressure"):
   * no budget is spent on non-essential guest writes; each node's latest value is held and recorded
   * when its episode ends (at most every `summaryMaxMs`), everything superseded is counted as
   * `backpressure`. Essential keys and noisy-key coalescing go on as before.
   */
  setShedding(on: boolean): void {
    this.shedding = on;
  }

  get isShedding(): boolean {
    return this.shedding;
  }

  /** Is `path` in a guest-writable part of a domain's home (dom0's own home never is)? */
  isGuestWritable(path: string): boolean {
    return this.guestPath(path) !== undefined;
  }

  /** What to record now for one observation: due summaries and held values of its domain, then the observation itself (possibly sanitised) unless it was dropped or held. */
  push(obs: Observation): Observation[] {
    this.advance(obs.ts);
    const out: Observation[] = [];
    const gp = this.guestRecordPath(obs);
    if (!gp) {
      this.nonGuest(obs, out);
      return out;
    }
    const d = this.domain(gp.domid, out, obs.ts);
    if (obs.uuid) d.uuid = obs.uuid;
    this.refill(d);
    this.due(d, obs.ts, out, false);
    const path = (obs.data as { path: string }).path;
    const value = obs.type === 'xs.write' ? stringValue(obs) : undefined;
    const bytes = utf8Length(path) + (value !== undefined ? utf8Length(value) : 0);
    if (obs.type === 'xs.rm') this.removeUnder(d, gp.rel);
    if (obs.type === 'xs.write' && this.essential.some((re) => re.test(gp.rel))) {
      this.pushEssential(d, obs, path, bytes, out);
    } else if (obs.type === 'xs.write' && this.noisyRe.some((re) => re.test(gp.rel))) {
      this.pushNoisy(d, obs, path, bytes, out);
    } else {
      const key = `${obs.type === 'xs.rm' ? 'r' : 'w'}:${path}`;
      const prev = d.latest.get(key);
      if (prev) {
        // An older over-budget value of the same node: superseded either way.
        this.dropLatest(d, key);
        this.count(d, this.overReason(), path, prev.bytes, prev.obs.ts);
      }
      if (!this.shedding && this.take(d, bytes)) this.emit(d, obs, out);
      else this.holdLatest(d, key, { obs, bytes });
    }
    return out;
  }

  /**
   * Watch events for a guest path that brought nothing to record: `n` events the helper folded
   * into one it delivered, or an event whose value was the one already recorded. Counted (reason
   * `repeat`), so history says how often a guest wrote even when the value did not change; the
   * summary goes out at most every `summaryMaxMs`. Paths that are not guest-writable are ignored.
   */
  countRepeat(path: string, n: number, ts: number): Observation[] {
    const gp = this.guestPath(path);
    if (!gp || !(n > 0)) return [];
    this.advance(ts);
    const out: Observation[] = [];
    const d = this.domain(gp.domid, out, ts);
    this.refill(d);
    this.due(d, ts, out, false);
    const e = d.episodes.repeat;
    if (!e) d.episodes.repeat = { count: n, bytes: 0, from: ts, to: ts, path, started: this.clock };
    else {
      e.count += n;
      if (ts > e.to) e.to = ts;
      e.path = commonPrefix(e.path, path);
    }
    return out;
  }

  /** Summaries and held values that are due at `ts` (call on each `host.tick`). */
  flush(ts: number): Observation[] {
    this.advance(ts);
    const out: Observation[] = [];
    for (const d of [...this.domains.values()]) {
      this.refill(d);
      this.due(d, ts, out, true);
    }
    return out;
  }

  /** Everything pending, due or not (when the host stops or exports); the buckets are kept. */
  drain(ts: number): Observation[] {
    this.advance(ts);
    const out: Observation[] = [];
    for (const d of this.domains.values()) this.finish(d, ts, out);
    return out;
  }

  stats(): GuestInputStats {
    let coalescedKeys = 0;
    let heldEssential = 0;
    let heldLatest = 0;
    let held = 0;
    for (const d of this.domains.values()) {
      coalescedKeys += d.noisy.size;
      heldEssential += d.heldEssential.size;
      heldLatest += d.latest.size;
      held += d.heldEssential.size + d.latest.size;
      for (const h of d.noisy.values()) if (h) held++;
    }
    return { domains: this.domains.size, coalescedKeys, heldEssential, heldLatest, held };
  }

  /** The most internal entries the configuration allows (domains + keys + held values). */
  get sizeBound(): number {
    const c = this.config;
    return c.maxDomains * (1 + c.maxCoalescedKeys + c.maxHeldEssential + c.maxHeldLatest);
  }

  /** Current internal entries, comparable with `sizeBound`. */
  get size(): number {
    const s = this.stats();
    return s.domains + s.coalescedKeys + s.heldEssential + s.heldLatest;
  }

  // Classification ----------------------------------------------------------------

  private guestPath(path: string): GuestPath | undefined {
    const m = HOME_RE.exec(path);
    if (!m || m[2] === undefined) return undefined;
    const domid = Number(m[1]);
    if (domid === 0 || domid >= 0x7ff0) return undefined;
    const rel = m[2];
    for (const w of this.writable) {
      if (rel === w || (rel.length > w.length && rel.startsWith(w) && rel[w.length] === '/')) return { domid, rel };
    }
    return undefined;
  }

  private guestRecordPath(obs: Observation): GuestPath | undefined {
    if (obs.type !== 'xs.write' && obs.type !== 'xs.rm') return undefined;
    const path = (obs.data as { path?: unknown }).path;
    return typeof path === 'string' ? this.guestPath(path) : undefined;
  }

  /** A record the filter never holds: its domain's due items first when it ends the domain, else it alone. */
  private nonGuest(obs: Observation, out: Observation[]): void {
    let ends: number | undefined;
    if (obs.type === 'xs.release') ends = numberOr((obs.data as { domid?: unknown }).domid, obs.domid);
    else if (obs.type === 'xs.rm') {
      const m = HOME_RE.exec(String((obs.data as { path?: unknown }).path));
      if (m && m[2] === undefined) ends = Number(m[1]);
    }
    const d = ends !== undefined ? this.domains.get(ends) : undefined;
    if (d) {
      // Held values go before the record that ends the domain (an xs.rm of its home must come last).
      this.refill(d);
      this.finish(d, obs.ts, out);
      this.domains.delete(d.domid);
    }
    out.push(obs);
  }

  // Budgets -----------------------------------------------------------------------

  /**
   * Move the filter clock to `ts`. Forward steps add their length. A step back
   * of at most `clockJumpMs` is an observation that arrived out of order: no
   * time passes, and the clock waits until `ts` passes the latest seen. A
   * longer step back is the host clock jumping: no time passes and later
   * steps count from the new `ts`, so a jump never stalls the budgets.
   */
  private advance(ts: number): void {
    if (this.lastTs === undefined || ts < this.lastTs - this.config.clockJumpMs) {
      this.lastTs = ts;
      return;
    }
    if (ts > this.lastTs) {
      this.clock += ts - this.lastTs;
      this.lastTs = ts;
    }
  }

  private domain(domid: number, out: Observation[], ts: number): DomainState {
    let d = this.domains.get(domid);
    if (d) {
      // Most recently active last (LRU order).
      this.domains.delete(domid);
      this.domains.set(domid, d);
      return d;
    }
    const c = this.config;
    d = {
      domid,
      last: this.clock,
      rec: c.recordBurst * MILLI,
      byt: c.byteBurst * MILLI,
      ess: c.essentialBurst * MILLI,
      episodes: {},
      noisy: new Map(),
      heldEssential: new Map(),
      latest: new Map(),
      latestRms: 0,
    };
    this.domains.set(domid, d);
    while (this.domains.size > c.maxDomains) {
      const oldest = this.domains.values().next().value as DomainState;
      this.refill(oldest);
      this.finish(oldest, ts, out);
      this.domains.delete(oldest.domid);
    }
    return d;
  }

  private refill(d: DomainState): void {
    const dt = this.clock - d.last;
    d.last = this.clock;
    if (dt <= 0) return;
    const c = this.config;
    d.rec = Math.min(c.recordBurst * MILLI, d.rec + dt * c.recordsPerSec);
    d.byt = Math.min(c.byteBurst * MILLI, d.byt + dt * c.bytesPerSec);
    d.ess = Math.min(c.essentialBurst * MILLI, d.ess + dt * c.essentialPerSec);
  }

  private full(d: DomainState): boolean {
    const c = this.config;
    return d.rec >= c.recordBurst * MILLI && d.byt >= c.byteBurst * MILLI && d.ess >= c.essentialBurst * MILLI;
  }

  /** Take one record and `bytes` bytes from the domain's budget, or nothing. */
  private take(d: DomainState, bytes: number): boolean {
    if (d.rec < MILLI || d.byt < bytes * MILLI) return false;
    d.rec -= MILLI;
    d.byt -= bytes * MILLI;
    return true;
  }

  // Rules -------------------------------------------------------------------------

  /** Frontend state and control/shutdown: own budget; over it, the latest value per key is held for the next flush. */
  private pushEssential(d: DomainState, obs: Observation, path: string, bytes: number, out: Observation[]): void {
    const held = d.heldEssential.get(path);
    if (d.ess >= MILLI) {
      d.ess -= MILLI;
      if (held) {
        // The held value is older than this one: superseded.
        d.heldEssential.delete(path);
        this.count(d, 'rate', path, held.bytes, held.obs.ts);
      }
      this.emit(d, obs, out);
      return;
    }
    if (held) {
      this.count(d, 'rate', path, held.bytes, held.obs.ts);
      d.heldEssential.delete(path);
    } else if (d.heldEssential.size >= this.config.maxHeldEssential) {
      this.count(d, 'rate', path, bytes, obs.ts);
      return;
    }
    d.heldEssential.set(path, { obs, bytes });
  }

  /** Noisy keys: the first write of a key in an interval is recorded, later ones keep only the latest until the interval ends. */
  private pushNoisy(d: DomainState, obs: Observation, path: string, bytes: number, out: Observation[]): void {
    if (d.noisyEnd === undefined) d.noisyEnd = this.clock + this.config.coalesceMs;
    const prev = d.noisy.get(path);
    if (prev === undefined) {
      if (this.take(d, bytes)) {
        this.emit(d, obs, out);
        this.remember(d, path, null);
      } else {
        // Over budget: hold it instead of dropping it, it is recorded when the interval ends.
        this.remember(d, path, { obs, bytes });
      }
      return;
    }
    if (prev) this.count(d, 'noisy', path, prev.bytes, prev.obs.ts);
    this.remember(d, path, { obs, bytes });
  }

  private remember(d: DomainState, path: string, held: Held | null): void {
    d.noisy.delete(path);
    d.noisy.set(path, held);
    while (d.noisy.size > this.config.maxCoalescedKeys) {
      const [k, h] = d.noisy.entries().next().value as [string, Held | null];
      d.noisy.delete(k);
      if (h) this.count(d, 'noisy', k, h.bytes, h.obs.ts);
    }
  }

  /** A guest removal: values held for the removed nodes are superseded by it. */
  private removeUnder(d: DomainState, rel: string): void {
    const prefix = `/local/domain/${d.domid}/${rel}`;
    const under = (p: string) => p === prefix || p.startsWith(prefix + '/');
    for (const [p, h] of [...d.noisy]) {
      if (!under(p)) continue;
      d.noisy.delete(p);
      if (h) this.count(d, 'noisy', p, h.bytes, h.obs.ts);
    }
    for (const [p, h] of [...d.heldEssential]) {
      if (!under(p)) continue;
      d.heldEssential.delete(p);
      this.count(d, 'rate', p, h.bytes, h.obs.ts);
    }
    for (const [k, h] of [...d.latest]) {
      const p = k.slice(2);
      if (!under(p)) continue;
      this.dropLatest(d, k);
      this.count(d, 'rate', p, h.bytes, h.obs.ts);
    }
  }

  /** Keep the latest over-budget value of a node; beyond the cap the oldest held one is counted instead. */
  private holdLatest(d: DomainState, key: string, held: Held): void {
    d.rateStarted ??= this.clock;
    d.latest.set(key, held);
    if (key.startsWith('r:')) d.latestRms++;
    while (d.latest.size > this.config.maxHeldLatest) {
      const [k, h] = d.latest.entries().next().value as [string, Held];
      this.dropLatest(d, k);
      this.count(d, this.overReason(), k.slice(2), h.bytes, h.obs.ts);
    }
  }

  private dropLatest(d: DomainState, key: string): void {
    if (d.latest.delete(key) && key.startsWith('r:')) d.latestRms--;
  }

  /**
   * Record one guest observation (sanitised), first recording any held
   * removal of it or of an ancestor: that removal happened before it, and
   * recorded after it would remove what it wrote.
   */
  private emit(d: DomainState, obs: Observation, out: Observation[], at?: number): void {
    if (d.latestRms > 0) {
      const path = (obs.data as { path: string }).path;
      for (const [k, h] of [...d.latest]) {
        if (!k.startsWith('r:')) continue;
        const p = k.slice(2);
        if (path !== p && !path.startsWith(p + '/')) continue;
        this.dropLatest(d, k);
        out.push(this.sanitise(d, h.obs, at ?? obs.ts));
      }
    }
    out.push(this.sanitise(d, obs, at));
  }

  /** Why an over-budget write is counted: its domain's budget, or the host shedding. */
  private overReason(): GuestDropReason {
    return this.shedding ? 'backpressure' : 'rate';
  }

  /** Count one observation in the domain's episode for `reason`. */
  private count(d: DomainState, reason: GuestDropReason, path: string, bytes: number, ts: number): void {
    const e = d.episodes[reason];
    if (reason === 'rate' || reason === 'backpressure') d.rateStarted ??= this.clock;
    if (!e) {
      d.episodes[reason] = { count: 1, bytes, from: ts, to: ts, path, started: this.clock };
      return;
    }
    e.count++;
    e.bytes += bytes;
    if (ts < e.from) e.from = ts;
    if (ts > e.to) e.to = ts;
    e.path = commonPrefix(e.path, path);
  }

  /** The observation as recorded: unchanged if clean, else sanitised and counted. */
  private sanitise(d: DomainState, obs: Observation, at?: number): Observation {
    const ts = at ?? obs.ts;
    if (obs.type !== 'xs.write') return at === undefined ? obs : { ...obs, ts };
    const value = stringValue(obs);
    const s = sanitizeValue(value, this.config.maxValueBytes);
    if (!s.reason) return at === undefined ? obs : { ...obs, ts };
    const path = (obs.data as { path: string }).path;
    this.count(d, s.reason, path, s.reason === 'size' ? s.cutBytes : s.originalBytes, obs.ts);
    return { ...obs, ts, data: { ...obs.data, value: s.value } };
  }

  // Episodes ----------------------------------------------------------------------

  /** Emit what is due for one domain at `ts`. Held essentials go out only on flush (at most one per key per flush). */
  private due(d: DomainState, ts: number, out: Observation[], flushing: boolean): void {
    if (d.noisyEnd !== undefined && this.clock >= d.noisyEnd) this.rollNoisy(d, ts, out);
    if (flushing && d.heldEssential.size > 0) {
      const held = [...d.heldEssential.values()];
      d.heldEssential.clear();
      for (const h of held) this.emit(d, h.obs, out, ts);
    }
    const max = this.config.summaryMaxMs;
    // While shedding, a full bucket does not end the episode: held values go out at most every summaryMaxMs.
    if (d.rateStarted !== undefined && ((!this.shedding && this.full(d)) || this.clock - d.rateStarted >= max)) this.endRate(d, ts, out);
    for (const r of ['size', 'invalid-utf8', 'repeat'] as const) {
      const e = d.episodes[r];
      if (e && this.clock - e.started >= max) this.summary(d, r, ts, out);
    }
  }

  /** End the coalescing interval: its summary, then each key's latest value. */
  private rollNoisy(d: DomainState, ts: number, out: Observation[]): void {
    const values: Observation[] = [];
    const kept = new Map<string, Held | null>();
    for (const [k, h] of d.noisy) {
      if (!h) continue;
      kept.set(k, null); // recorded now: the next write of this key waits for the next interval
      values.push(h.obs);
    }
    this.summary(d, 'noisy', ts, out);
    d.noisy = kept;
    for (const o of values) this.emit(d, o, out, ts);
    d.noisyEnd = kept.size > 0 ? this.clock + this.config.coalesceMs : undefined;
  }

  /** Everything pending for one domain. */
  private finish(d: DomainState, ts: number, out: Observation[]): void {
    if (d.noisy.size > 0 || d.episodes.noisy) {
      this.rollNoisy(d, ts, out);
      d.noisy.clear();
      d.noisyEnd = undefined;
    }
    const held = [...d.heldEssential.values()];
    d.heldEssential.clear();
    for (const h of held) this.emit(d, h.obs, out, ts);
    this.endRate(d, ts, out);
    for (const r of GUEST_DROP_REASONS) this.summary(d, r, ts, out);
  }

  /** End the rate episode: its summary, then the latest held value of each node, oldest first. */
  private endRate(d: DomainState, ts: number, out: Observation[]): void {
    d.rateStarted = undefined;
    const held = [...d.latest.values()];
    d.latest.clear();
    d.latestRms = 0;
    // The summary goes first; a held value recorded below may add to the size or escape counts, which are separate episodes.
    this.summary(d, 'rate', ts, out);
    this.summary(d, 'backpressure', ts, out);
    for (const h of held) out.push(this.sanitise(d, h.obs, ts));
  }

  private summary(d: DomainState, reason: GuestDropReason, ts: number, out: Observation[]): void {
    const e = d.episodes[reason];
    if (!e) return;
    delete d.episodes[reason];
    out.push({
      ts,
      src: 'host',
      type: 'dropped',
      domid: d.domid,
      ...(d.uuid ? { uuid: d.uuid } : {}),
      data: { domid: d.domid, path: e.path, reason, count: e.count, bytes: e.bytes, from: e.from, to: e.to },
    });
  }
}

function stringValue(obs: Observation): string {
  const v = (obs.data as { value?: unknown }).value;
  return typeof v === 'string' ? v : '';
}

function numberOr(v: unknown, fallback: number | undefined): number | undefined {
  return typeof v === 'number' ? v : fallback;
}

/** Longest common prefix of two paths on segment boundaries. */
export function commonPrefix(a: string, b: string): string {
  if (a === b) return a;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // Whole segments only: `/a/bc` and `/a/bd` share `/a`.
  if (i === n && (a.length === n ? b[n] === '/' : a[n] === '/')) return a.slice(0, n);
  const cut = a.lastIndexOf('/', i - 1);
  return cut <= 0 ? '/' : a.slice(0, cut);
}

// For people ------------------------------------------------------------------------

const REASON_TEXT: Record<GuestDropReason, string> = {
  rate: 'not recorded: over the guest’s write budget',
  noisy: 'coalesced: only the latest value of each key recorded',
  size: 'truncated: values longer than the size limit',
  'invalid-utf8': 'escaped: values that were not plain text',
  backpressure: 'summarised while the store was not keeping up: only the latest value of each key recorded',
  repeat: 'fired again with no new value to record (watch events folded together, or the value read was the one already recorded)',
};

function plural(n: number, one: string): string {
  return `${groupDigits(n)} ${one}${n === 1 ? '' : 's'}`;
}

function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function humanBytes(n: number): string {
  if (n < 1024) return plural(n, 'byte');
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

function humanSpan(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/**
 * One line for the UI about a `dropped` record, e.g.
 * "domain 7, /local/domain/7/data: 598,000 writes not recorded: over the
 * guest’s write budget (23.4 MiB over 60.0 s)".
 */
export function describeDropped(rec: { domid?: number; data: Record<string, unknown> }): string {
  const d = rec.data as { domid?: unknown; path?: unknown; reason?: unknown; count?: unknown; bytes?: unknown; from?: unknown; to?: unknown };
  const domid = typeof d.domid === 'number' ? d.domid : rec.domid;
  const count = typeof d.count === 'number' ? d.count : 0;
  const reason = typeof d.reason === 'string' ? d.reason : 'unknown';
  const text = (REASON_TEXT as Record<string, string>)[reason] ?? `dropped (${reason})`;
  const where = [domid !== undefined ? `domain ${domid}` : '', typeof d.path === 'string' ? d.path : ''].filter(Boolean).join(', ');
  const extra: string[] = [];
  if (typeof d.bytes === 'number') extra.push(reason === 'size' ? `${humanBytes(d.bytes)} cut` : humanBytes(d.bytes));
  if (typeof d.from === 'number' && typeof d.to === 'number') extra.push(d.to > d.from ? `over ${humanSpan(d.to - d.from)}` : 'at once');
  return `${where ? where + ': ' : ''}${plural(count, 'write')} ${text}${extra.length ? ` (${extra.join(' ')})` : ''}`;
}
