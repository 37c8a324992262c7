/**
 * IndexedDB quota exceeded, for real (issue 8): the suite page runs in Debian's
 * Chromium with a profile on disk, and the DevTools protocol's
 * `Storage.overrideQuotaForOrigin` gives the origin a small quota, so IndexedDB
 * commits fail with QuotaExceededError in Chromium's own storage code once the
 * store has filled it. The page's HostLink follows a host played in the page
 * (store-full-page.ts): recording in the store pauses with the reason, the host
 * is told, nothing committed is lost (verify passes on what is stored); with
 * the quota back, it resumes by itself and ends with the whole chain, no seq
 * missing.
 *
 * Chromium reads an origin's quota when its IndexedDB storage is first opened
 * and counts each commit's size against it while commits fit (a smaller quota
 * set later is not seen; a larger one is seen at the next commit after a
 * failure): so the small quota is set before the page is loaded, and the store
 * fills it. Commits are counted at about 400 bytes per record of this history
 * (the bytes on disk, as navigator.storage.estimate reports them, are about twice that).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CDPSession } from 'playwright-core';
import { openSuite, type SuitePage } from './harness.ts';
import { storeFullClient } from './store-full-client.ts';

/** The origin's quota while full: room for 500 to 700 records of this history (with the snapshots and incidents the store writes beside them). */
const QUOTA = 280_000;

let s: SuitePage;
let cdp: CDPSession;
let origin: string;
const { call, until } = storeFullClient(() => s.page);

beforeAll(async () => {
  s = await openSuite({
    persistent: true,
    beforeLoad: async (context, page, url) => {
      cdp = await context.newCDPSession(page);
      origin = new URL(url).origin;
      await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: QUOTA });
    },
  });
  expect(await call('usage')).toBe(0);
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe('the store when IndexedDB is over quota (real Chromium)', () => {
  it('recording pauses with the reason and nothing committed is lost; with the quota back it resumes and the chain is whole', async () => {
    const N = 1600;
    const first = await call('start', 'c-quota', N, 400, 100, { firstMs: 150, maxMs: 600 });
    expect(first).toMatchObject({ tail: 400, count: 400, contiguous: true, pause: null, lastAck: 400, storeStatus: [], errors: [] });

    // The host seals 600 more: the store fills the quota on the way.
    const full = await call('seal', 600, 100);
    expect(full.pause).not.toBeNull();
    expect(full.pause!.detail).toMatch(/^the browser's storage quota for Xendeck is used up \(QuotaExceededError/);
    const kept = full.tail;
    // Whole batches only: what was committed before the quota ran out, and nothing of the batch that hit it.
    expect(kept % 100).toBe(0);
    expect(kept).toBeGreaterThanOrEqual(400);
    expect(kept).toBeLessThan(1000);
    expect(full).toMatchObject({ count: kept, lastAck: kept, linkTail: kept, contiguous: true, sameAsSealed: true, linkState: 'live', errors: [] });
    // The host was told why.
    await until((x) => x.pause?.reported === true, 'the host told');
    // It keeps retrying against the real quota, backing off, and keeps failing while the quota is small.
    const paused = await until((x) => (x.pause?.retries ?? 0) >= 2, 'two retries');
    expect(paused.pause!.waitMs).toBeGreaterThan(150);
    expect(paused.storeStatus).toEqual([{ state: 'full', detail: paused.pause!.detail }]);
    expect(paused).toMatchObject({ count: kept, tail: kept, lastAck: kept });
    // Nothing committed is lost: the stored records verify and are the host's first ones.
    expect(await call('verify')).toEqual({ ok: true, count: kept });
    // What Dexie throws on a commit over quota, as the store reads it; nothing of the batch is written.
    const probe = await call('probe', 100);
    expect(probe).toMatchObject({ threw: true, count: kept });
    expect(probe.name === 'QuotaExceededError' || probe.inner?.name === 'QuotaExceededError').toBe(true);
    expect(probe.reason).toMatch(/^the browser's storage quota for Xendeck is used up/);

    // The host seals more meanwhile (all kept in its outbox); the store drops them.
    await call('seal', 300, 100);
    expect((await call('state')).count).toBe(kept);
    // Space returns: the next retry commits, tells the host, reconnects with its tail, and the host re-sends the rest.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    const resumed = await until((x) => x.tail === 1300 && x.lastAck === 1300, 'resumed with the whole chain');
    expect(resumed.pause).toBeNull();
    expect(resumed.storeStatus.map((c) => c.state)).toEqual(['full', 'ok']);
    expect(resumed.connects).toEqual([0, kept + 100]);
    expect(resumed).toMatchObject({ count: 1300, contiguous: true, sameAsSealed: true, linkState: 'live', message: null, errors: [] });
    expect(await call('verify')).toEqual({ ok: true, count: 1300 });

    // And recording goes on as before.
    const after = await call('seal', 300, 100);
    expect(after).toMatchObject({ tail: N, count: N, contiguous: true, lastAck: N });
    expect(await call('verify')).toEqual({ ok: true, count: N });
    console.log(`store-full in Chromium: paused at seq ${kept}; Dexie threw ${probe.name}${probe.inner ? ` (inner ${probe.inner.name})` : ''}; ${paused.pause!.retries} retries before the quota came back`);
    await call('stop');
  });
});
