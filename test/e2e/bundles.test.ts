/**
 * Golden bundles (test/bundles) opened in the interface: a stub-domain CD-ROM
 * change that failed after libxl's 10 retries shows every step and the
 * retries in the CD-ROM panel; a locked tray replayed from its incident shows
 * the Force eject offer, disabled because history cannot be acted on.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launch, openApp, ROOT, serve, shot, tab, type AppPage, type Served } from './harness.ts';

describe('golden bundles in the interface', () => {
  let served: Served;
  let browser: Browser;
  let app: AppPage;

  beforeAll(async () => {
    served = await serve(join(ROOT, 'test/e2e/scenarios/e2e-empty.json'));
    browser = await launch();
    app = await openApp(browser, served.url);
    await app.page.getByTestId('link-state').filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  async function open(name: string): Promise<void> {
    const { page } = app;
    await tab(page, 'Audit');
    if (await page.getByRole('button', { name: 'Close the bundle and go back to live' }).count()) {
      await page.getByRole('button', { name: 'Close the bundle and go back to live' }).click();
      await page.getByTestId('history-banner').waitFor({ state: 'detached' });
    }
    await page.getByTestId('import-file').setInputFiles(join(ROOT, 'test/bundles', `${name}.bundle.jsonl`));
    await page.getByTestId('history-banner').filter({ hasText: 'read-only' }).waitFor({ timeout: 60_000 });
  }

  it('a failed stub-domain CD-ROM change: every step, ten retries, failed', async () => {
    const { page } = app;
    await open('cdrom-failure');
    await page.getByRole('button', { name: 'Open win10', exact: true }).click();
    const panel = page.getByTestId('cdrom-panel');
    await expect(panel.getAttribute('data-state')).resolves.toBe('failed');
    await expect(panel.textContent()).resolves.toContain('10 / 10');
    await expect(panel.textContent()).resolves.toContain('via stub domain');
    const steps = await panel.getByTestId('cd-steps').locator('li').allTextContents();
    expect(steps.length).toBeGreaterThanOrEqual(10);
    expect(steps.filter((s) => s.includes('✗')).length).toBeGreaterThanOrEqual(10);
    await panel.scrollIntoViewIfNeeded();
    await shot(page, 'bundle-cdrom-failure');
  });

  it('a locked tray replayed from its incident offers Force eject, disabled in history', async () => {
    const { page } = app;
    await open('cdrom-locked');
    await tab(page, 'Incidents');
    await page.locator('[data-testid=incident-row][data-kind=cdrom-locked]').getByRole('button', { name: 'Replay' }).click();
    // The incident's first record is the request; stepping to its end shows the refusal.
    const panel = page.getByTestId('cdrom-panel');
    for (let i = 0; i < 40 && (await panel.getAttribute('data-state')) !== 'locked'; i++) {
      const before = await page.getByTestId('replay-position').textContent();
      await page.getByTestId('step-forward').click();
      await page.waitForFunction((b) => document.querySelector('[data-testid=replay-position]')?.textContent !== b, before);
    }
    await expect(panel.getAttribute('data-state')).resolves.toBe('locked');
    const force = panel.getByTestId('cd-locked').getByRole('button', { name: 'Force eject' });
    await expect(force.isDisabled()).resolves.toBe(true);
    await expect(panel.textContent()).resolves.toContain('Actions act on the live host');
    await panel.scrollIntoViewIfNeeded();
    await shot(page, 'bundle-cdrom-locked-replay');
    expect(app.problems).toEqual([]);
  });
});
