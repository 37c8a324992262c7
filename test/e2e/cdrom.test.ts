/**
 * CD-ROM changes driven from the interface against a simulated host
 * (test/e2e/scenarios/e2e-cdrom.json): inserting media shows the change step
 * by step and ends inserted; an eject the guest's locked tray refuses turns
 * into an offer to Force eject, which empties the drive.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator } from 'playwright-core';
import { launch, openApp, ROOT, serve, shot, tab, type AppPage, type Served } from './harness.ts';

describe('CD-ROM panel', () => {
  let served: Served;
  let browser: Browser;
  let app: AppPage;

  beforeAll(async () => {
    served = await serve(join(ROOT, 'test/e2e/scenarios/e2e-cdrom.json'));
    browser = await launch();
    app = await openApp(browser, served.url);
    await app.page.getByTestId('link-state').filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  async function openDomain(name: string): Promise<Locator> {
    const { page } = app;
    await tab(page, 'Overview');
    await page.locator(`[data-testid=domain-row][data-domain=${name}][data-state=running]`).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: `Open ${name}`, exact: true }).click();
    const panel = page.getByTestId('cdrom-panel');
    await panel.waitFor({ timeout: 30_000 });
    return panel;
  }

  it('inserts media from the panel: the steps of the change are listed and it ends inserted', async () => {
    const { page } = app;
    const panel = await openDomain('win10');
    await expect(panel.getAttribute('data-state')).resolves.toBe('empty');
    await panel.getByLabel('Image on the host').fill('/var/lib/isos/tools.iso');
    await panel.getByRole('button', { name: 'Insert' }).click();
    await page.locator('[data-testid=cdrom-panel][data-state=inserted]').waitFor({ timeout: 30_000 });
    await expect(panel.getByTestId('cd-media').textContent()).resolves.toBe('/var/lib/isos/tools.iso');
    const steps = await panel.getByTestId('cd-steps').locator('li').allTextContents();
    // The request, the new media in the stub domain's backend and libxl's copy, then the command's own result.
    expect(steps[0]).toContain('cd-insert hdc /var/lib/isos/tools.iso');
    expect(steps.some((s) => s.includes('params (backend)'))).toBe(true);
    expect(steps[steps.length - 1]).toMatch(/cmd\s*✓ result/);
    expect(steps.every((s) => s.includes('✓'))).toBe(true);
    await panel.getByTestId('cd-result').filter({ hasText: 'Insert: done' }).waitFor({ timeout: 30_000 });
    await shot(page, 'cdrom-inserted');
  });

  it('a locked tray offers Force eject, and forcing it empties the drive', async () => {
    const { page } = app;
    const panel = await openDomain('winlock');
    // The scenario put media in, then the guest locked the tray: ejecting it is refused by QEMU.
    await page.locator('[data-testid=cdrom-panel][data-state=inserted]').waitFor({ timeout: 30_000 });
    await panel.getByRole('button', { name: 'Eject' }).click();
    await page.locator('[data-testid=cdrom-panel][data-state=locked]').waitFor({ timeout: 30_000 });
    await expect(panel.getByTestId('cd-result').textContent()).resolves.toContain('locked');
    const offer = panel.getByTestId('cd-locked');
    await expect(offer.textContent()).resolves.toContain('locked the tray');
    await shot(page, 'cdrom-locked');
    await offer.getByRole('button', { name: 'Force eject' }).click();
    const dialog = page.getByRole('dialog', { name: /Force eject hdc/ });
    await dialog.waitFor();
    await shot(page, 'cdrom-force-eject-confirm');
    await dialog.getByRole('button', { name: 'Force eject' }).click();
    await page.locator('[data-testid=cdrom-panel][data-state=empty]').waitFor({ timeout: 30_000 });
    await expect(panel.getByTestId('cd-media').textContent()).resolves.toBe('(empty)');
    await expect(panel.getByTestId('cd-locked').count()).resolves.toBe(0);
    const steps = await panel.getByTestId('cd-steps').locator('li').allTextContents();
    expect(steps.length).toBeGreaterThan(0);
    await shot(page, 'cdrom-force-ejected');
    expect(app.problems).toEqual([]);
  });

  it('when the host goes away the page says so and keeps showing the history it holds', async () => {
    const { page } = app;
    await served.stop();
    await page.getByTestId('link-state').filter({ hasText: 'Connection lost' }).waitFor({ timeout: 30_000 });
    await expect(page.getByRole('alert').filter({ hasText: 'connection to the host was lost' }).count()).resolves.toBe(1);
    await tab(page, 'Overview');
    await expect(page.locator('[data-testid=domain-row][data-domain=win10]').count()).resolves.toBe(1);
    await shot(page, 'connection-lost');
  });
});
