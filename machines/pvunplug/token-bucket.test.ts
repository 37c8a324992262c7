import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BUCKET_CAPACITY, BUCKET_FILL_RATE, TokenBucket, utf8Length } from './token-bucket.ts';

describe('guest log token bucket (seed 003: 128 KiB, 256 B/s, starts full)', () => {
  it('has the seed capacity and refill rate', () => {
    expect(BUCKET_CAPACITY).toBe(131072);
    expect(BUCKET_FILL_RATE).toBe(256);
  });

  it('starts full on first use', () => {
    expect(TokenBucket.available(undefined, 123)).toBe(131072);
    const t = TokenBucket.take(undefined, 131072, 123);
    expect(t.ok).toBe(true);
    expect(TokenBucket.available(t.state, 123)).toBe(0);
  });

  it('refuses a take larger than what is available and takes nothing', () => {
    const t1 = TokenBucket.take(undefined, 131000, 0);
    const t2 = TokenBucket.take(t1.state, 100, 0);
    expect(t2.ok).toBe(false);
    expect(TokenBucket.available(t2.state, 0)).toBe(72);
  });

  it('refills 256 bytes per second, exactly, in millisecond steps', () => {
    const empty = TokenBucket.take(undefined, 131072, 0).state;
    expect(TokenBucket.available(empty, 1000)).toBe(256);
    expect(TokenBucket.available(empty, 500)).toBe(128);
    expect(TokenBucket.available(empty, 1)).toBe(0); // 0.256 bytes
    expect(TokenBucket.available(empty, 4)).toBe(1); // 1.024 bytes
  });

  it('never refills above capacity and ignores time running backwards', () => {
    const s = TokenBucket.take(undefined, 10, 1000).state;
    expect(TokenBucket.available(s, 10_000_000)).toBe(131072);
    expect(TokenBucket.refill(s, 500)).toBe(s);
  });

  it('counts UTF-8 bytes as the guest wrote them', () => {
    expect(utf8Length('abc')).toBe(3);
    expect(utf8Length('é')).toBe(2);
    expect(utf8Length('€')).toBe(3);
    expect(utf8Length('😀')).toBe(4);
  });

  it('property: bytes accepted over any time span never exceed capacity + rate × span', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 5000 }), bytes: fc.integer({ min: 0, max: 20000 }) }), { maxLength: 60 }),
        (steps) => {
          let state;
          let ts = 0;
          let accepted = 0;
          for (const st of steps) {
            ts += st.dt;
            const t = TokenBucket.take(state, st.bytes, ts);
            state = t.state;
            if (t.ok) accepted += st.bytes;
          }
          expect(accepted).toBeLessThanOrEqual(BUCKET_CAPACITY + Math.floor((ts * BUCKET_FILL_RATE) / 1000));
        },
      ),
      { numRuns: 200 },
    );
  });
});
