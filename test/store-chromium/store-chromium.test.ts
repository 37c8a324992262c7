/**
 * The event store's append/replay/export/import suite in real Chromium against
 * real IndexedDB (page.ts, bundled by vite and driven with playwright-core).
 * Needs Debian's chromium at /usr/bin/chromium (scripts/setup.sh installs it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSuite, type SuitePage } from './harness.ts';
import type { StoreSuite } from './page.ts';

let s: SuitePage;
const call = <K extends keyof StoreSuite>(k: K, ...a: Parameters<StoreSuite[K]>): Promise<Awaited<ReturnType<StoreSuite[K]>>> =>
  s.page.evaluate(([k, a]) => ((window as unknown as { storeSuite: Record<string, (...x: unknown[]) => unknown> }).storeSuite[k as string](...(a as unknown[]))), [k, a] as const) as never;

beforeAll(async () => {
  s = await openSuite();
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe('event store in Chromium (real IndexedDB)', () => {
  it('append commits batches, refuses a broken chain whole and tolerates a re-sent batch', async () => {
    const r = await call('append', 'c-append');
    expect(r.first).toMatchObject({ ok: true, ack: 400, appended: 400 });
    expect(r.gap).toMatchObject({ ok: false, ack: 400, refusal: { kind: 'chain', seq: 402 } });
    expect(r.altered).toMatchObject({ ok: false, ack: 400, refusal: { kind: 'chain', seq: 451, fault: { kind: 'hash' } } });
    expect(r.afterRefusals).toMatchObject({ events: 400, tail: { seq: 400 }, stats: { count: 400 } });
    expect(r.dup).toMatchObject({ ok: true, ack: 700, appended: 0, duplicates: 300 });
    expect(r.overlap).toMatchObject({ ok: true, ack: r.n, appended: r.n - 700, duplicates: 100 });
    expect(r.end).toMatchObject({ events: r.n, stats: { count: r.n } });
    expect(r.same).toBe(true);
  });

  it('survives a page reload in the middle of a batch: no partial batch, and the re-sent batch commits whole', async () => {
    const big = 10_000;
    await call('startBigBatch', 'c-reload', big);
    // Every write of the batch has been issued to IndexedDB; the commit takes seconds. Reload now.
    await s.page.waitForFunction((n) => (window as unknown as { __issued: number }).__issued >= n, big, { polling: 5 });
    const committedBefore = await s.page.evaluate(() => (window as unknown as { __committed: unknown }).__committed);
    await s.page.reload();
    await s.page.waitForFunction(() => 'storeSuite' in window);
    const r = await call('afterReload', 'c-reload', big);
    expect(committedBefore).toBeNull();
    expect(r.after.events).toBe(500);
    expect(r.after.tail.seq).toBe(500);
    expect(r.after.stats.count).toBe(500);
    expect(r.verify).toMatchObject({ ok: true, count: 500 });
    expect(r.resend).toMatchObject({ ok: true, appended: r.end.tail.seq - 500, duplicates: 0 });
    expect(r.end.events).toBe(r.end.tail.seq);
    expect(r.end.events).toBeGreaterThanOrEqual(500 + big);
  });

  it('replay through the worker seeks from snapshots and steps, with the same states as a full fold', async () => {
    const r = await call('replay', 'c-replay', 4000, [1, 499, 500, 1777, 3210, 4000]);
    expect(r.firstSeq).toBe(1);
    expect(r.snapshots).toBe(Math.floor(r.n / 500));
    expect(r.seeks.map((x) => x.same)).toEqual(r.seeks.map(() => true));
    expect(r.stepSeq).toBe(r.seeks[r.seeks.length - 1].seq - 1);
    expect(r.stepSame).toBe(true);
    expect(r.diffChanges).toBeGreaterThan(0);
    expect(r.incidents).toBeGreaterThan(0);
    expect(r.incidentsSame).toBe(true);
  });

  it('an exported range re-imports into its own read-only store, verifies, and replays to the live states', async () => {
    const r = await call('exportImport', 'c-export');
    expect(r.head).toEqual([0x1f, 0x8b]);
    expect(r.imported.fingerprint).toBe(r.result.fingerprint);
    expect(r.imported.records).toBe(r.result.count);
    expect(r.imported.name.startsWith('xendeck-import-')).toBe(true);
    expect(r.stores).toContain(r.imported.name);
    expect(r.verify).toMatchObject({ ok: true, fingerprint: r.result.fingerprint, replay: { checked: true } });
    expect(r.same).toEqual([true, true, true, true]);
    expect(r.readOnly).toMatchObject({ ok: false, refusal: { kind: 'read-only' } });
    expect(r.csvHeader).toEqual(['seq', 'time', 'domain', 'device', 'type', 'summary', 'hash']);
    expect(r.csvRows).toBe(52);
    expect(r.htmlStart).toBe('<!doctype html>');
    expect(r.progress.slice(0, 2)).toEqual([500, 1000]);
    expect(r.cancelled).toBe('AbortError');
  });

  it('import rejects tampered, truncated, reordered, duplicated and wrong-version bundles, naming the line; the live store is untouched', async () => {
    const r = await call('importRejects', 'c-reject');
    expect(r.tampered.message).toMatch(/^line 41: seq \d+: hash does not match/);
    expect(r.truncated.message).toMatch(/^line 301: bundle ends early/);
    expect(r.reordered.message).toMatch(/^line 101: found seq \d+ where \d+ was expected/);
    expect(r.duplicated.message).toMatch(/^line 53: found seq \d+ where \d+ was expected: record out of order or repeated/);
    expect(r.wrongVersion.message).toMatch(/^line 1: bad manifest: version/);
    for (const c of Object.values(r)) {
      expect(c.line).toBeGreaterThan(0);
      expect(c.liveUnchanged).toBe(true);
      expect(c.storesUnchanged).toBe(true);
    }
  });
});
