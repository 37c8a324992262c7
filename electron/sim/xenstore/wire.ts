/**
 * The xenstore wire format (xen/include/public/io/xs_wire.h): the 16-byte
 * header in host byte order, message type numbers, the error names, and the
 * payload helpers that reproduce how C xenstored 4.17 splits a payload into
 * NUL-terminated strings and parses numbers (get_strings, onearg, atoi,
 * strtoul). Pure: no I/O.
 */
import { endianness } from 'node:os';

export const XS = {
  CONTROL: 0,
  DIRECTORY: 1,
  READ: 2,
  GET_PERMS: 3,
  WATCH: 4,
  UNWATCH: 5,
  TRANSACTION_START: 6,
  TRANSACTION_END: 7,
  INTRODUCE: 8,
  RELEASE: 9,
  GET_DOMAIN_PATH: 10,
  WRITE: 11,
  MKDIR: 12,
  RM: 13,
  SET_PERMS: 14,
  WATCH_EVENT: 15,
  ERROR: 16,
  IS_DOMAIN_INTRODUCED: 17,
  RESUME: 18,
  SET_TARGET: 19,
  RESTRICT: 20,
  RESET_WATCHES: 21,
  DIRECTORY_PART: 22,
} as const;
export type XsType = (typeof XS)[keyof typeof XS];

/** XENSTORE_PAYLOAD_MAX: the largest payload either side may send. */
export const PAYLOAD_MAX = 4096;
export const HEADER_SIZE = 16;
/** XENSTORE_ABS_PATH_MAX and XENSTORE_REL_PATH_MAX. */
export const ABS_PATH_MAX = 3072;
export const REL_PATH_MAX = 2048;

/** xsd_errors[] in xs_wire.h order; anything else is sent as EINVAL. */
export const XS_ERRORS = [
  'EINVAL', 'EACCES', 'EEXIST', 'EISDIR', 'ENOENT', 'ENOMEM', 'ENOSPC', 'EIO',
  'ENOTEMPTY', 'ENOSYS', 'EROFS', 'EBUSY', 'EAGAIN', 'EISCONN', 'E2BIG', 'EPERM',
] as const;

export interface XsHeader {
  type: number;
  reqId: number;
  txId: number;
  len: number;
}

export interface XsMessage extends XsHeader {
  payload: Buffer;
}

const LE = endianness() === 'LE';

/** Reads a header (host byte order, as xenstored and libxenstore use). */
export function decodeHeader(buf: Buffer, off = 0): XsHeader {
  const rd = (o: number) => (LE ? buf.readUInt32LE(off + o) : buf.readUInt32BE(off + o));
  return { type: rd(0), reqId: rd(4), txId: rd(8), len: rd(12) };
}

/** Encodes one message: header + payload. */
export function encodeMessage(type: number, reqId: number, txId: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const out = Buffer.allocUnsafe(HEADER_SIZE + body.length);
  const wr = (v: number, o: number) => (LE ? out.writeUInt32LE(v >>> 0, o) : out.writeUInt32BE(v >>> 0, o));
  wr(type, 0);
  wr(reqId, 4);
  wr(txId, 8);
  wr(body.length, 12);
  body.copy(out, HEADER_SIZE);
  return out;
}

/** The error name xenstored would send for `code` (unknown names become EINVAL). */
export function wireErrorName(code: string): string {
  return (XS_ERRORS as readonly string[]).includes(code) ? code : 'EINVAL';
}

/**
 * Incremental framer for a byte stream. `push` returns the complete messages
 * so far, or `{ tooLong }` once a header announces more than PAYLOAD_MAX
 * (xenstored then drops the connection without reading the body).
 */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { messages: XsMessage[]; tooLong?: XsHeader } {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const messages: XsMessage[] = [];
    let off = 0;
    while (this.buf.length - off >= HEADER_SIZE) {
      const h = decodeHeader(this.buf, off);
      if (h.len > PAYLOAD_MAX) {
        this.buf = Buffer.alloc(0);
        return { messages, tooLong: h };
      }
      if (this.buf.length - off - HEADER_SIZE < h.len) break;
      const start = off + HEADER_SIZE;
      messages.push({ ...h, payload: Buffer.from(this.buf.subarray(start, start + h.len)) });
      off = start + h.len;
    }
    this.buf = off ? this.buf.subarray(off) : this.buf;
    return { messages };
  }

  /** Bytes received that do not yet form a whole message. */
  get pending(): number {
    return this.buf.length;
  }
}

/**
 * get_strings(): the NUL-terminated strings at the start of the payload.
 * Bytes after the last NUL are not a string (xenstored ignores them here).
 */
export function getStrings(p: Buffer): string[] {
  const out: string[] = [];
  let off = 0;
  for (;;) {
    const nul = p.indexOf(0, off);
    if (nul < 0) break;
    out.push(p.toString('latin1', off, nul));
    off = nul + 1;
  }
  return out;
}

/** onearg(): exactly one string whose NUL is the last byte, else undefined. */
export function oneArg(p: Buffer): string | undefined {
  if (p.length === 0) return undefined;
  const nul = p.indexOf(0);
  if (nul !== p.length - 1) return undefined;
  return p.toString('latin1', 0, nul);
}

/** C atoi() followed by a cast to unsigned int, as xenstored reads domids. */
export function atoiU32(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(s);
  if (!m || m[2] === '') return 0;
  let v = Number(BigInt.asIntN(32, BigInt(m[2])));
  if (m[1] === '-') v = -v;
  return v >>> 0;
}

/**
 * strtoul(s, &end, 0) truncated to unsigned int, requiring the whole string
 * to be consumed (libxenstore's xs_strings_to_perms). Returns undefined when
 * nothing was parsed or trailing characters remain.
 */
export function strtoulU32Strict(s: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const digits = m[2];
  let v: bigint;
  if (/^0[xX]/.test(digits)) v = BigInt(digits);
  else if (digits.length > 1 && digits[0] === '0') v = BigInt(`0o${digits.slice(1)}`);
  else v = BigInt(digits);
  // strtoul saturates at ULONG_MAX (64-bit), then the cast keeps 32 bits.
  if (v > 0xffffffffffffffffn) v = 0xffffffffffffffffn;
  if (m[1] === '-') v = BigInt.asUintN(64, -v);
  return Number(BigInt.asUintN(32, v));
}

/** Builds a payload of NUL-terminated strings. */
export function strings(...parts: string[]): Buffer {
  return Buffer.from(parts.map((s) => `${s}\0`).join(''), 'latin1');
}
