import { describe, it, expect } from 'vitest';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { canonicalJson } from './canonical.ts';
import { Chain, ChainChecker } from './chain.ts';
import { recordHash, pureSha256Hex } from './hash.ts';
import { validateRecord, ValidationError } from './validate.ts';
import { parseBundleText, bundleText, manifestFor, BundleError, fingerprint } from './bundle.ts';
import { ZERO_HASH, type XRecord } from './record.ts';

const nodeSha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

function sample(n: number): XRecord[] {
  const c = new Chain();
  const out: XRecord[] = [];
  for (let i = 0; i < n; i++) out.push(c.append({ ts: 1_700_000_000_000 + i, src: 'xs', type: 'xs.write', domid: 3, data: { path: `/local/domain/3/data/k${i}`, value: `v${i} é ✓` } }));
  return out;
}
const man = (recs: XRecord[]) => manifestFor(recs, { host: { hostname: 'ws1', xen: '4.17.7' }, created: '2026-11-21T00:00:00Z', machines: { domain: '1' } });

describe('canonical JSON', () => {
  it('sorts keys at every level and drops whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,{"y":2,"z":1}]},"b":1}');
  });
  it('prints numbers as JSON does and refuses non-JSON values', () => {
    expect(canonicalJson({ n: 1e21, f: 0.1, neg: -0 })).toBe('{"f":0.1,"n":1e+21,"neg":0}');
    expect(() => canonicalJson({ x: NaN })).toThrow(/non-finite/);
    expect(() => canonicalJson(undefined)).toThrow();
  });
  it('is stable under key order (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const shuffled = JSON.parse(JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).reverse()) : x)));
        expect(canonicalJson(shuffled)).toBe(canonicalJson(v));
        expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('hash chain', () => {
  it('hash = sha256(prev + "\\n" + canonical record without hash)', () => {
    const [r] = sample(1);
    const { hash: _h, ...rest } = r;
    expect(r.prev).toBe(ZERO_HASH);
    expect(r.hash).toBe(nodeSha(ZERO_HASH + '\n' + canonicalJson(rest)));
  });
  it('the pure SHA-256 matches node:crypto on any text (property)', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => { expect(pureSha256Hex(s)).toBe(nodeSha(s)); }), { numRuns: 200 });
  });
  it('links each record to the previous hash and checks clean', () => {
    const recs = sample(20);
    const chk = new ChainChecker({ seq: 1, prev: ZERO_HASH });
    for (const r of recs) expect(chk.check(r)).toBeNull();
    for (let i = 1; i < recs.length; i++) expect(recs[i].prev).toBe(recs[i - 1].hash);
  });
  it('finds an altered record, a missing one and a reordered one', () => {
    const recs = sample(5);
    const altered = recs.map((r) => ({ ...r }));
    altered[2] = { ...altered[2], data: { ...altered[2].data, value: 'evil' } };
    const chk = new ChainChecker({ seq: 1, prev: ZERO_HASH });
    expect(chk.check(altered[0])).toBeNull();
    expect(chk.check(altered[1])).toBeNull();
    expect(chk.check(altered[2])?.kind).toBe('hash');
    const chk2 = new ChainChecker({ seq: 1, prev: ZERO_HASH });
    chk2.check(recs[0]);
    expect(chk2.check(recs[2])).toMatchObject({ kind: 'gap', expected: 2, seq: 3 });
    const chk3 = new ChainChecker({ seq: 1, prev: ZERO_HASH });
    chk3.check(recs[1]);
  });
  it('a digest passed in gives the same chain as the pure one', () => {
    const a = new Chain(undefined, nodeSha).append({ ts: 1, src: 'user', type: 'cmd.request', data: { cmd: 'c1', user: 'ana', op: 'pause', args: { domain: 'vm1' } } });
    expect(recordHash(a)).toBe(a.hash);
  });
});

describe('record validation', () => {
  it('accepts a good record', () => {
    const [r] = sample(1);
    expect(validateRecord(r)).toBe(r);
  });
  it.each([
    [{ seq: 0 }, 'seq', 'a whole number ≥ 1', '0'],
    [{ src: 'guest' }, 'src', 'one of xs, dominfo', '"guest"'],
    [{ data: { path: 'relative', value: '1' } }, 'data.path', 'an absolute xenstore path', '"relative"'],
    [{ data: { path: '/a' } }, 'data.value', 'a string (required for xs.write)', 'nothing'],
    [{ extra: 1 }, 'extra', 'no such field', '1'],
    [{ hash: 'abc' }, 'hash', '64 lowercase hex digits', '"abc"'],
  ])('names the field, the expectation and what was found (%j)', (patch, field, expected, found) => {
    const [r] = sample(1);
    try {
      validateRecord({ ...r, ...patch });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      const p = (e as ValidationError).problem;
      expect(p.field).toBe(field);
      expect(p.expected).toContain(expected);
      expect(p.found).toContain(found);
    }
  });
});

describe('bundles', () => {
  it('round-trips a bundle and gives its fingerprint', () => {
    const recs = sample(10);
    const text = bundleText(man(recs), recs);
    const { manifest, records } = parseBundleText(text);
    expect(records).toEqual(recs);
    expect(fingerprint(manifest)).toBe(`${recs[0].hash}|${recs[9].hash}|10`);
  });
  const lines = (recs: XRecord[]) => bundleText(man(recs), recs).split('\n');
  it('refuses a tampered record with its line number', () => {
    const recs = sample(6);
    const l = lines(recs);
    l[3] = l[3].replace('v2 ', 'v9 ');
    expect(() => parseBundleText(l.join('\n'))).toThrow(/line 4: seq 3: hash does not match/);
  });
  it('refuses a missing record', () => {
    const l = lines(sample(6));
    l.splice(3, 1);
    expect(() => parseBundleText(l.join('\n'))).toThrow(/line 4: found seq 4 where 3 was expected: record 3 is missing/);
  });
  it('refuses reordered records', () => {
    const l = lines(sample(6));
    [l[2], l[3]] = [l[3], l[2]];
    expect(() => parseBundleText(l.join('\n'))).toThrow(/line 3: found seq 3 where 2 was expected: record 2 is missing or out of order/);
  });
  it('refuses a manifest that does not match (count, last, first)', () => {
    const recs = sample(4);
    const m = man(recs);
    expect(() => parseBundleText(bundleText({ ...m, count: 5, to: 5 }, recs))).toThrow(/bundle ends early: 4 of 5/);
    expect(() => parseBundleText(bundleText({ ...m, last: recs[0].hash }, recs))).toThrow(/bad manifest: last/);
    expect(() => parseBundleText(bundleText({ ...m, count: 3 }, recs))).toThrow(/bad manifest: count/);
  });
  it('says "not a bundle" (unreadable) for other files', () => {
    for (const text of ['hello world', '{"format":"other"}', '[1,2]', '']) {
      try {
        parseBundleText(text);
        expect.unreachable();
      } catch (e) {
        expect((e as BundleError).kind).toBe('unreadable');
      }
    }
  });
  it('a record that is not JSON is invalid with its line', () => {
    const l = lines(sample(3));
    l[2] = '{"seq":2,';
    expect(() => parseBundleText(l.join('\n'))).toThrow(/line 3: not valid JSON/);
  });
});
