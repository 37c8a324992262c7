import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parseBundleText } from '../../machines/events/bundle.ts';
import { canonicalJson } from '../../machines/events/canonical.ts';
import { ALL_BINDINGS } from '../../machines/host/bindings.ts';
import { HostRouter } from '../../machines/host/router.ts';
import { replay } from '../../machines/host/replay.ts';
import { goldens } from './golden.ts';

/** Every golden bundle, through all machines at once. */
const bundles = goldens().map((g) => ({ name: g.name, records: parseBundleText(readFileSync(g.bundleFile, 'utf8')).records }));

describe('replay through every machine', () => {
  it.each(bundles.map((b) => [b.name, b] as const))('%s: replaying any prefix twice gives identical state (property)', (_n, b) => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: b.records.length }), (n) => {
        const one = replay(b.records.slice(0, n), ALL_BINDINGS);
        const two = replay(b.records.slice(0, n), ALL_BINDINGS);
        expect(two.view).toEqual(one.view);
        expect(two.transitions).toEqual(one.transitions);
      }),
      { numRuns: 15 },
    );
  });

  it.each(bundles.map((b) => [b.name, b] as const))('%s: a snapshot taken at any seq and restored continues exactly like an uninterrupted replay (property)', (_n, b) => {
    const whole = new HostRouter(ALL_BINDINGS);
    for (const r of b.records) whole.apply(r);
    const end = canonicalJson(whole.view());
    fc.assert(
      fc.property(fc.integer({ min: 0, max: b.records.length }), (cut) => {
        const first = new HostRouter(ALL_BINDINGS);
        for (const r of b.records.slice(0, cut)) first.apply(r);
        const resumed = HostRouter.restore(ALL_BINDINGS, first.snapshot());
        for (const r of b.records.slice(cut)) resumed.apply(r);
        expect(canonicalJson(resumed.view())).toBe(end);
      }),
      { numRuns: 10 },
    );
  });
});
