/**
 * The host overview against `xendeck serve --sim demo`: once the scenario has
 * played, every domain it names is listed in the state the scenario expects,
 * live; the page runs under its strict CSP without a single violation; the
 * main views, the shortcuts list and the dark theme are saved as screenshots.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launch, openApp, ROOT, serve, shot, type AppPage, type Served } from './harness.ts';

const scenario = JSON.parse(readFileSync(join(ROOT, 'electron/sim/scenarios/demo.json'), 'utf8')) as { expect: { domains: Record<string, string> } };

describe('host overview (demo scenario)', () => {
  let served: Served;
  let browser: Browser;
  let app: AppPage;

  beforeAll(async () => {
    served = await serve('demo', ['--speed', '10']);
    browser = await launch();
    app = await openApp(browser, served.url);
  });
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  const states = () =>
    app.page.locator('[data-testid=domain-row]').evaluateAll((els) => Object.fromEntries(els.map((e) => [(e as HTMLElement).dataset.domain!, (e as HTMLElement).dataset.state!])));

  it('lists every domain of the scenario in the state the scenario ends in', async () => {
    const { page } = app;
    await page.getByTestId('link-state').filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 });
    const want = scenario.expect.domains;
    // The scenario plays in about 9 s at speed 10; the overview follows it live.
    await page.waitForFunction(
      (w) => {
        const rows = [...document.querySelectorAll<HTMLElement>('[data-testid=domain-row]')];
        const got = Object.fromEntries(rows.map((r) => [r.dataset.domain, r.dataset.state]));
        return Object.entries(w).every(([name, st]) => got[name] === st);
      },
      want,
      { timeout: 60_000, polling: 250 },
    );
    const got = await states();
    for (const [name, st] of Object.entries(want)) expect(got[name], name).toBe(st);
    // The visible state label says the same thing as the data attribute.
    const db = page.locator('[data-testid=domain-row][data-domain=db]');
    await expect(db.getByTestId('state').textContent()).resolves.toBe('gone');
    await shot(page, 'overview');
  });

  it('filters and sorts the domains', async () => {
    const { page } = app;
    await page.getByLabel('Filter domains').fill('pv');
    const names = await page.locator('[data-testid=domain-row]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.domain));
    expect(names).toContain('web');
    expect(names).not.toContain('win10');
    await page.getByLabel('Filter domains').fill('');
    await page.getByRole('button', { name: /^Name/ }).click();
    const sorted = await page.locator('[data-testid=domain-row]').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.domain!));
    expect(sorted).toEqual([...sorted].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
    await expect(page.locator('th[aria-sort=ascending]').textContent()).resolves.toContain('Name');
  });

  it('opens a domain: lifecycle statechart lit at its state, devices side by side', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Open win10', exact: true }).click();
    const chart = page.getByTestId('domain-detail').getByTestId('statechart').first();
    await expect(chart.getAttribute('data-state')).resolves.toBe('running');
    await expect(chart.locator('[data-state-id=running][aria-current=true]').count()).resolves.toBe(1);
    await expect(page.getByTestId('device-row').count()).resolves.toBeGreaterThan(0);
    await shot(page, 'domain-detail');
  });

  it('shows the timeline, incidents, shortcuts and the dark theme', async () => {
    const { page } = app;
    await page.keyboard.press('3');
    await page.getByTestId('timeline-list').locator('[role=listitem]').first().waitFor();
    await page.getByTestId('timeline-list').locator('[role=listitem] button.line').nth(3).click();
    await page.getByTestId('record-hash').waitFor();
    expect(await page.getByTestId('record-hash').textContent()).toMatch(/^[0-9a-f]{64}$/);
    await expect(page.getByTestId('hash-check').textContent()).resolves.toContain('matches');
    // The keyboard moves between records.
    const focusedSeq = () => page.evaluate(() => Number(document.activeElement?.closest<HTMLElement>('[data-seq]')?.dataset.seq));
    const here = await focusedSeq();
    await page.keyboard.press('ArrowDown');
    await expect.poll(focusedSeq).toBe(here + 1);
    await page.keyboard.press('ArrowUp');
    await expect.poll(focusedSeq).toBe(here);
    await shot(page, 'timeline');
    await page.keyboard.press('4');
    await page.getByTestId('incident-row').first().waitFor({ timeout: 20_000 });
    await shot(page, 'incidents');
    await page.keyboard.press('1');
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await shot(page, 'shortcuts');
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor({ state: 'hidden' });
    await page.keyboard.press('t');
    await expect(page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe('dark');
    await shot(page, 'overview-dark');
    await page.keyboard.press('2');
    await shot(page, 'domain-detail-dark');
  });

  it('every control has an accessible name', async () => {
    const { page } = app;
    for (const t of ['Overview', 'Domain', 'Timeline', 'Incidents', 'Audit'] as const) {
      await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: t, exact: true }).click();
      const unnamed = await page.evaluate(() => {
        const out: string[] = [];
        for (const el of document.querySelectorAll<HTMLElement>('button, input, select, textarea, [role=img]')) {
          if (el.closest('dialog:not([open])')) continue;
          const id = el.id;
          const label = (id && document.querySelector(`label[for="${id}"]`)?.textContent?.trim()) || el.closest('label')?.textContent?.trim();
          const name = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || label || (el.tagName === 'BUTTON' ? el.textContent?.trim() : '') || el.getAttribute('title');
          if (!name) out.push(el.outerHTML.slice(0, 120));
        }
        return out;
      });
      expect(unnamed, t).toEqual([]);
    }
  });

  it('runs under the strict CSP without violations or errors', () => {
    expect(app.problems).toEqual([]);
  });
});
