/**
 * The disk under the browser's IndexedDB fills up, for real (issue 8): Debian's
 * Chromium runs with its IndexedDB folder on a 4 MiB tmpfs of its own
 * (small-disk-chromium.sh: a private mount namespace), 3 MiB of it taken by a
 * ballast file. The page's HostLink follows a host played in the page
 * (store-full-page.ts) until LevelDB cannot write ("FILE_ERROR_NO_SPACE"):
 * recording in the store pauses with the reason and the host is told. While the
 * disk is full Chromium will not even open the store again ("Encountered full
 * disk while opening backing store"), so the link keeps retrying; once the
 * ballast is removed, what was committed reads back whole and verifies, and
 * the next retry resumes to the whole chain, no seq missing.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSuite, type SuitePage } from './harness.ts';
import { storeFullClient } from './store-full-client.ts';

let s: SuitePage & { profile: string | null };
let idbDir: string;
const { call, until } = storeFullClient(() => s.page);

beforeAll(async () => {
  s = await openSuite({
    persistent: true,
    executablePath: fileURLToPath(new URL('./small-disk-chromium.sh', import.meta.url)),
    env: { XENDECK_IDB_DISK: '4m', XENDECK_IDB_BALLAST: '3' },
  });
  const pid = readFileSync(`${s.profile}.pid`, 'utf8').trim();
  // The browser's own view of its IndexedDB folder: the small tmpfs in its mount namespace.
  idbDir = `/proc/${pid}/root${s.profile}/Default/IndexedDB`;
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe('the store when the disk under IndexedDB is full (real Chromium, small tmpfs)', () => {
  it('recording pauses with the reason; with space back, what was committed verifies and it resumes to the whole chain', async () => {
    expect(readdirSync(idbDir)).toContain('ballast');
    // Retries only when asked (a long first wait), so what is stored can be read between the space returning and the resume.
    const first = await call('start', 'c-disk', 2600, 400, 100, { firstMs: 600_000, maxMs: 600_000 });
    expect(first).toMatchObject({ tail: 400, count: 400, contiguous: true, pause: null, lastAck: 400 });

    // The host seals 2,000 more: the 1 MiB left fills on the way (at about 1,300 records in all).
    const full = await call('seal', 2000, 100);
    expect(full.pause).not.toBeNull();
    // Chromium names the full disk on the failing commit, or (on a loaded machine) aborts the transaction first
    // without a cause; either way nothing of that batch was written and the store pauses. The retry below names it.
    expect(full.pause!.detail).toMatch(/^(the disk holding the browser profile is full|the store could not commit) \(/);
    const kept = full.linkTail;
    expect(kept).toBeGreaterThanOrEqual(400);
    expect(kept).toBeLessThan(2400);
    expect(full).toMatchObject({ lastAck: kept, errors: [] });
    await until((x) => x.pause?.reported === true, 'the host told');
    const told = await call('state');
    expect(told.storeStatus).toEqual([{ state: 'full', detail: told.pause!.detail }]);
    // A retry with the disk still full fails and keeps the pause (Chromium will not open the store meanwhile).
    expect(await call('retryNow')).toBe(false);
    const still = await call('state');
    expect(still.pause).toMatchObject({ retries: 1 });
    expect(still.pause!.detail).toMatch(/^the disk holding the browser profile is full/);
    expect(still.errors).toEqual([]);

    // Space returns: what the store committed is there, whole.
    rmSync(`${idbDir}/ballast`);
    const back = await call('state');
    expect(back).toMatchObject({ readable: true, tail: kept, count: kept, contiguous: true, sameAsSealed: true });
    expect(await call('verify')).toEqual({ ok: true, count: kept });

    // The next retry commits; the host re-sends the rest from the store's tail.
    expect(await call('retryNow')).toBe(true);
    const resumed = await until((x) => x.tail === 2400 && x.lastAck === 2400, 'resumed with the whole chain');
    expect(resumed).toMatchObject({ pause: null, count: 2400, contiguous: true, sameAsSealed: true, linkState: 'live', message: null, errors: [] });
    expect(resumed.storeStatus.map((c) => c.state)).toEqual(['full', 'ok']);
    expect(await call('verify')).toEqual({ ok: true, count: 2400 });
    const after = await call('seal', 200, 100);
    expect(after).toMatchObject({ tail: 2600, count: 2600, contiguous: true, lastAck: 2600 });
    console.log(`disk-full in Chromium: paused at seq ${kept} (${full.pause!.detail}); a retry on the full disk: ${still.pause!.detail}`);
    await call('stop');
  });
});
