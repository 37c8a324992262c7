/**
 * Recording under pressure, seen in the interface (issue 8):
 * - the page's own store over quota: `xendeck serve --sim demo --loop` with the page
 *   in a Chromium profile on disk whose origin quota is made small through the
 *   DevTools protocol (`Storage.overrideQuotaForOrigin`, set before the page
 *   loads: Chromium reads it when the origin's IndexedDB is first opened). The
 *   store fills it; the header and a banner say recording is paused and why;
 *   the host records it; with the quota back, "Try again now" resumes, the
 *   banner goes, history holds the pause and the resume with no seq missing, and
 *   the exported history passes `xendeck verify`.
 * - the wall clock stepping back (`--sim fault-clock-back`): the timeline shows
 *   the host.clock record in words, with its badge.
 * The host's own shedding (outbox half full: 100,000 unacked records by
 * default) cannot be reached through `xendeck serve` in a test's time; its
 * banner is covered by the renderer's unit tests against the host status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { main } from '../../electron/cli/main.ts';
import { launch, openApp, serve, shot, tab, type AppPage, type Served } from './harness.ts';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** Seqs held by the page's live store, read straight from IndexedDB. */
function storedSeqs(page: Page): Promise<{ first: number; last: number; count: number; contiguous: boolean }> {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('xendeck');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const req = open.result.transaction('events').objectStore('events').getAllKeys();
          req.onerror = () => reject(req.error);
          req.onsuccess = () => {
            const keys = req.result as number[];
            open.result.close();
            resolve({ first: keys[0] ?? 0, last: keys.at(-1) ?? 0, count: keys.length, contiguous: keys.every((k, i) => i === 0 || k === keys[i - 1] + 1) });
          };
        };
      }),
  );
}

describe('the page store over quota (demo scenario)', () => {
  let served: Served;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let origin: string;
  const problems: string[] = [];

  beforeAll(async () => {
    // Played again and again, so history keeps growing until the store's quota is used up.
    served = await serve('demo', ['--speed', '20', '--loop']);
    profile = mkdtempSync(join(tmpdir(), 'xendeck-e2e-profile-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args: ARGS, viewport: { width: 1400, height: 900 }, colorScheme: 'light' });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    cdp = await context.newCDPSession(page);
    origin = new URL(served.url).origin;
    // Room for the host's first re-send (at most one pass of the demo, about 1,400 records) and then some:
    // the looping demo fills it within seconds.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 1_000_000 });
    await page.goto(served.url);
  });
  afterAll(async () => {
    await context?.close();
    await served?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('pauses with the reason in the header and a banner; what was stored stays whole', async () => {
    const banner = page.getByTestId('recording-store');
    await banner.waitFor({ timeout: 60_000 });
    await expect(banner.getAttribute('role')).resolves.toBe('alert');
    const text = (await banner.textContent()) ?? '';
    expect(text).toContain("Recording paused: storage is full — the browser's storage quota for Xendeck is used up (QuotaExceededError");
    expect(text).toContain('Nothing recorded so far is lost');
    await expect(page.getByTestId('recording-state').textContent()).resolves.toBe('Recording paused: storage full');
    await expect(page.getByRole('button', { name: 'Try again now' }).isEnabled()).resolves.toBe(true);
    await shot(page, 'store-full');
    const stored = await storedSeqs(page);
    expect(stored.count).toBeGreaterThan(0);
    expect(stored.first).toBe(1);
    expect(stored.contiguous).toBe(true);
    expect(stored.count).toBe(stored.last);
  });

  it('with the quota back, Try again resumes: the banner goes, and history holds the pause and the resume, no seq missing', async () => {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    await page.getByRole('button', { name: 'Try again now' }).click();
    await page.getByTestId('recording-store').waitFor({ state: 'detached', timeout: 30_000 });
    await page.getByTestId('link-state').filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('recording-state').count()).toBe(0);

    // The host recorded the store's pause and resume (recording.status, store-full); the resend brought them in.
    await tab(page, 'Timeline');
    await page.getByLabel('Type').selectOption('recording.status');
    await page.getByTestId('timeline-count').filter({ hasText: /^\s*2 records match/ }).waitFor({ timeout: 30_000 });
    const rows = page.locator('[data-testid=timeline-list] [data-type="recording.status"]');
    await rows.nth(1).waitFor({ timeout: 30_000 });
    const summaries = await rows.locator('.c-sum').allTextContents();
    expect(summaries[0]).toMatch(/^paused recording paused: a store's storage is full \([\d,]+ pending; the browser's storage quota for Xendeck is used up/);
    expect(summaries[1]).toMatch(/^resumed recording resumed after a pause \(a store's storage is full\)$/);
    await expect(rows.first().getByTestId('record-badge').getAttribute('class')).resolves.toContain('bad');
    await shot(page, 'store-full-timeline');

    // The store caught up with the host: every record from seq 1, none missing, past the resume.
    const stored = await storedSeqs(page);
    expect(stored).toMatchObject({ first: 1, contiguous: true });
    expect(stored.count).toBe(stored.last);
    const resumedAt = Number(await rows.nth(1).getAttribute('data-seq'));
    expect(stored.last).toBeGreaterThanOrEqual(resumedAt);

    // The history the store holds, exported from the interface, passes xendeck verify: chain, schema, replay.
    await tab(page, 'Audit');
    await page.getByRole('button', { name: 'Export' }).click();
    await page.getByTestId('export-result').waitFor({ timeout: 60_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-download').click()]);
    const file = join(profile, 'store-full.bundle.jsonl');
    await download.saveAs(file);
    let out = '';
    let err = '';
    const code = await main(['verify', file], { out: (x) => (out += x + '\n'), err: (x) => (err += x + '\n') });
    expect(err).toBe('');
    expect(out).toMatch(/^ok: \d+ records, seq 1\.\.\d+, chain intact; replay reproduced all \d+ recorded transitions/);
    expect(code).toBe(0);
    expect(problems).toEqual([]);
  });
});

describe('the wall clock stepping back (fault-clock-back)', () => {
  let served: Served;
  let app: AppPage;
  let close: () => Promise<void>;

  beforeAll(async () => {
    served = await serve('fault-clock-back', ['--speed', '4']);
    const browser = await launch();
    close = () => browser.close();
    app = await openApp(browser, served.url);
  });
  afterAll(async () => {
    await close?.();
    await served?.stop();
  });

  it('the timeline says how far the clock went back and that timestamps were adjusted, with a badge', async () => {
    const { page } = app;
    await page.getByTestId('link-state').filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 });
    await tab(page, 'Timeline');
    await page.getByLabel('Type').selectOption('host.clock');
    await page.getByTestId('timeline-count').filter({ hasText: /^\s*1 record match/ }).waitFor({ timeout: 30_000 });
    const row = page.locator('[data-testid=timeline-list] [data-type="host.clock"]').first();
    await row.waitFor({ timeout: 30_000 });
    await expect(row.locator('.c-sum').textContent()).resolves.toMatch(/^clock wall clock went back 1\.0 h; timestamps adjusted \(ts = wall clock \+ 1\.0 h\)$/);
    await expect(row.getByTestId('record-badge').getAttribute('class')).resolves.toContain('warn');
    await shot(page, 'clock-back');
    expect(app.problems).toEqual([]);
  });
});
