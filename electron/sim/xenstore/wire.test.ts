import { describe, expect, it } from 'vitest';
import { FrameReader, XS, atoiU32, decodeHeader, encodeMessage, getStrings, oneArg, strtoulU32Strict, wireErrorName } from './wire.ts';
import { canonicalize, isValidNodePath, parsePerm } from './paths.ts';

describe('wire codec', () => {
  it('encodes the 16-byte header little-endian with the payload after it', () => {
    const m = encodeMessage(XS.WRITE, 7, 3, Buffer.from('/a\0v'));
    expect(m.length).toBe(20);
    expect([...m.subarray(0, 16)]).toEqual([11, 0, 0, 0, 7, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0]);
    expect(decodeHeader(m)).toEqual({ type: 11, reqId: 7, txId: 3, len: 4 });
  });

  it('frames messages split across chunks and keeps partial ones', () => {
    const r = new FrameReader();
    const a = encodeMessage(XS.READ, 1, 0, '/x\0');
    const b = encodeMessage(XS.READ, 2, 0, '/y\0');
    const all = Buffer.concat([a, b]);
    expect(r.push(all.subarray(0, 10)).messages).toEqual([]);
    const got = r.push(all.subarray(10, 25)).messages;
    expect(got.map((m) => m.reqId)).toEqual([1]);
    expect(r.pending).toBe(25 - a.length);
    expect(r.push(all.subarray(25)).messages.map((m) => m.payload.toString())).toEqual(['/y\0']);
  });

  it('reports a header announcing more than 4096 bytes', () => {
    const r = new FrameReader();
    const h = Buffer.alloc(16);
    h.writeUInt32LE(2, 0);
    h.writeUInt32LE(4097, 12);
    expect(r.push(h).tooLong?.len).toBe(4097);
    h.writeUInt32LE(4096, 12);
    expect(new FrameReader().push(h).tooLong).toBeUndefined();
  });

  it('splits payloads like get_strings and onearg', () => {
    expect(getStrings(Buffer.from('a\0b\0tail'))).toEqual(['a', 'b']);
    expect(oneArg(Buffer.from('/a\0'))).toBe('/a');
    expect(oneArg(Buffer.from('/a'))).toBeUndefined();
    expect(oneArg(Buffer.from('/a\0b\0'))).toBeUndefined();
    expect(oneArg(Buffer.alloc(0))).toBeUndefined();
  });

  it('parses domids like atoi and perm ids like strtoul(…, 0)', () => {
    expect(atoiU32('abc')).toBe(0);
    expect(atoiU32('-1')).toBe(4294967295);
    expect(atoiU32(' 12x')).toBe(12);
    expect(strtoulU32Strict('0x10')).toBe(16);
    expect(strtoulU32Strict('010')).toBe(8);
    expect(strtoulU32Strict('5 ')).toBeUndefined();
    expect(strtoulU32Strict('')).toBeUndefined();
    expect(strtoulU32Strict('4294967296')).toBe(0);
    expect(strtoulU32Strict('-1')).toBe(4294967295);
  });

  it('maps unknown error names to EINVAL', () => {
    expect(wireErrorName('EAGAIN')).toBe('EAGAIN');
    expect(wireErrorName('ETIMEDOUT')).toBe('EINVAL');
  });
});

describe('paths and permission strings', () => {
  it('accepts and rejects node paths as xenstored 4.17 does', () => {
    expect(isValidNodePath('/')).toBe(true);
    expect(isValidNodePath('/a/b-c_d@e')).toBe(true);
    expect(isValidNodePath('/a/')).toBe(false);
    expect(isValidNodePath('//a')).toBe(false);
    expect(isValidNodePath('/a b')).toBe(false);
    expect(isValidNodePath('a')).toBe(false);
    expect(isValidNodePath(`/${'a'.repeat(2047)}`)).toBe(true);
    expect(isValidNodePath(`/${'a'.repeat(2048)}`)).toBe(false);
    expect(isValidNodePath(`/local/domain/1/${'a'.repeat(2048)}`)).toBe(true);
    expect(isValidNodePath(`/local/domain/1/${'a'.repeat(2049)}`)).toBe(false);
  });

  it('resolves relative paths against the caller home', () => {
    expect(canonicalize(5, 'data/x')).toBe('/local/domain/5/data/x');
    expect(canonicalize(0, 'x')).toBe('/local/domain/0/x');
    expect(canonicalize(5, '@releaseDomain')).toBe('@releaseDomain');
  });

  it('parses n/r/w/b permission strings', () => {
    expect(parsePerm('b12')).toEqual({ domid: 12, perm: 'b' });
    expect(parsePerm('x0')).toBeUndefined();
    expect(parsePerm('r')).toBeUndefined();
    expect(parsePerm('R5')).toBeUndefined();
  });
});
