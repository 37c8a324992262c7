/**
 * History against `xendeck serve --sim soft-reset-hvm`: the soft reset shows
 * on the timeline and as an incident; replaying that incident step by step
 * shows the domain's states in order (running, soft resetting, running again
 * with the same domid) with the whole interface marked as history;
 * two points can be compared; and an exported bundle re-imports into a
 * read-only view that verifies, while an altered copy is refused naming its line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { ARTEFACTS, launch, openApp, serve, shot, tab, type AppPage, type Served } from './harness.ts';

describe('history: soft reset incident, replay, audit', () => {
  let served: Served;
  let browser: Browser;
  let app: AppPage;
  let incident: { from: number; to: number };

  beforeAll(async () => {
    served = await serve('soft-reset-hvm', ['--speed', '2']);
    browser = await launch();
    app = await openApp(browser, served.url);
    await app.page.getByTestId('link-state').filter({ hasText: 'Live' }).waitFor({ timeout: 30_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await served?.stop();
  });

  it('shows the soft reset as an incident and on the timeline', async () => {
    const { page } = app;
    await tab(page, 'Incidents');
    const row = page.locator('[data-testid=incident-row][data-kind=soft-reset]');
    await row.waitFor({ timeout: 60_000 });
    incident = { from: Number(await row.getAttribute('data-from')), to: Number(await row.getAttribute('data-to')) };
    expect(incident.to).toBeGreaterThan(incident.from);
    await expect(row.textContent()).resolves.toContain('win10');
    await shot(page, 'incidents-soft-reset');

    await tab(page, 'Timeline');
    await page.getByPlaceholder(/path, event/).fill('soft-reset');
    await page.getByTestId('timeline-count').filter({ hasText: /match/ }).waitFor();
    await page.waitForFunction(() => !document.querySelector('[data-testid=timeline-count]')?.textContent?.includes('searching'));
    const rows = page.getByTestId('timeline-list').locator('[role=listitem]');
    await rows.first().waitFor();
    const texts = await rows.allTextContents();
    // xl's decision for shutdown reason code 5 is in the record of history, inside the incident's range.
    expect(texts.some((t) => /Action for shutdown reason code 5 is soft-reset/.test(t))).toBe(true);
    const seqs = (await rows.evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.seq))));
    expect(seqs.some((s) => s >= incident.from && s <= incident.to)).toBe(true);
    await shot(page, 'timeline-soft-reset');
    await page.getByRole('button', { name: 'Clear' }).click();
  });

  it('replays the incident step by step: the domain goes through its states in order', async () => {
    const { page } = app;
    await tab(page, 'Incidents');
    await page.locator('[data-testid=incident-row][data-kind=soft-reset]').getByRole('button', { name: 'Replay' }).click();
    await page.getByTestId('history-banner').waitFor();
    const position = page.getByTestId('replay-position');
    await position.filter({ hasText: `#${incident.from - 1} /` }).waitFor();
    const chart = () => page.getByTestId('domain-detail').getByTestId('statechart').first().getAttribute('data-state');
    const seen: string[] = [(await chart())!];
    for (let seq = incident.from; seq <= incident.to; seq++) {
      await page.getByTestId('step-forward').click();
      await position.filter({ hasText: `#${seq} /` }).waitFor();
      const st = (await chart())!;
      if (st !== seen[seen.length - 1]) seen.push(st);
      if (st === 'softResetting' && !(await page.locator('.shell.history').count())) throw new Error('history is not marked');
      if (st === 'softResetting') await shot(page, 'replay-soft-resetting');
    }
    // An HVM guest's accepted soft reset never rests in shutdown.soft_reset (machines/domain/README.md: that is the refused case).
    expect(seen).toEqual(['running', 'softResetting', 'running']);
    // The overview at the cursor says the same as the statechart.
    await tab(page, 'Overview');
    await expect(page.locator('[data-testid=domain-row][data-domain=win10]').getAttribute('data-state')).resolves.toBe('running');
    // Stepping back returns to the states before.
    await page.getByTestId('step-back').click();
    await position.filter({ hasText: `#${incident.to - 1} /` }).waitFor();
    await expect(page.locator('[data-testid=domain-row][data-domain=win10]').getAttribute('data-state')).resolves.toBe('softResetting');
    await shot(page, 'replay-overview');
  });

  it('compares two points of history', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Mark this point as A' }).click();
    await page.getByTestId('step-forward').click();
    await page.getByTestId('replay-position').filter({ hasText: `#${incident.to} /` }).waitFor();
    await page.getByRole('button', { name: 'Mark this point as B' }).click();
    await page.getByRole('button', { name: 'Diff' }).click();
    const diff = page.getByTestId('diff');
    await diff.waitFor();
    await expect(diff.textContent()).resolves.toMatch(/soft resetting[\s\S]*running/);
    await shot(page, 'replay-diff');
    await diff.getByRole('button', { name: 'Close the comparison' }).click();
  });

  it('bookmarks the moment at the cursor with a note, and the note can be changed', async () => {
    const { page } = app;
    await tab(page, 'Incidents');
    await page.getByLabel('Note', { exact: true }).fill('guest came back after kexec');
    await page.getByRole('button', { name: `Bookmark record #${incident.to}` }).click();
    const row = page.locator(`[data-testid=incident-row][data-kind=bookmark][data-from="${incident.to}"]`);
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain('guest came back after kexec');
    await row.getByRole('button', { name: /Edit the note/ }).click();
    await row.getByRole('textbox').fill('kexec: soft reset #1 done');
    await row.getByRole('button', { name: 'Save' }).click();
    await row.filter({ hasText: 'kexec: soft reset #1 done' }).waitFor();
    await shot(page, 'incidents-bookmark');
    await page.getByRole('button', { name: 'Back to live' }).first().click();
    await page.getByTestId('history-banner').waitFor({ state: 'detached' });
  });

  it('exports a bundle that re-imports into a read-only view and verifies; an altered copy is refused', async () => {
    const { page } = app;
    await tab(page, 'Audit');
    await page.getByRole('button', { name: 'Export' }).click();
    const result = page.getByTestId('export-result');
    await result.waitFor({ timeout: 60_000 });
    const fingerprint = (await page.getByTestId('export-fingerprint').textContent())!;
    expect(fingerprint).toMatch(/^[0-9a-f]{64}\|[0-9a-f]{64}\|\d+$/);
    await shot(page, 'audit-export');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-download').click()]);
    const file = join(ARTEFACTS, 'soft-reset.bundle.jsonl');
    await download.saveAs(file);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0]).format).toBe('xendeck-bundle');

    // An altered copy: one value changed in the middle of the chain.
    const bad = [...lines];
    const k = Math.floor(lines.length / 2);
    const rec = JSON.parse(bad[k]);
    rec.ts += 1;
    bad[k] = JSON.stringify(rec);
    const badFile = join(ARTEFACTS, 'soft-reset.altered.jsonl');
    writeFileSync(badFile, bad.join('\n') + '\n');
    await page.getByTestId('import-file').setInputFiles(badFile);
    await expect(page.getByTestId('import-error').textContent()).resolves.toMatch(/line \d+/);
    await shot(page, 'audit-import-refused');

    await page.getByTestId('import-file').setInputFiles(file);
    await page.getByTestId('history-banner').filter({ hasText: 'read-only' }).waitFor({ timeout: 60_000 });
    // The opened bundle shows the host as it was at its last record.
    await page.locator('[data-testid=domain-row][data-domain=win10][data-state=running]').waitFor();
    await shot(page, 'imported-overview');
    await tab(page, 'Audit');
    await expect(page.getByTestId('imported-fingerprint').textContent()).resolves.toBe(fingerprint);
    await page.getByRole('button', { name: 'Verify' }).click();
    const verdict = page.getByTestId('verify-result');
    await verdict.waitFor({ timeout: 60_000 });
    await expect(verdict.getAttribute('data-ok')).resolves.toBe('true');
    await expect(verdict.textContent()).resolves.toContain('PASS');
    await expect(verdict.textContent()).resolves.toContain(fingerprint);
    await shot(page, 'audit-verify-pass');
    await page.getByRole('button', { name: 'Close the bundle and go back to live' }).click();
    await page.getByTestId('history-banner').waitFor({ state: 'detached' });
    expect(app.problems).toEqual([]);
  });

  it('verify of a damaged store fails and shows where the chain breaks', async () => {
    const { page } = app;
    // Damage one stored record behind the app's back, as a disk fault or a hand edit would.
    await page.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const r = indexedDB.open('xendeck');
          r.onerror = () => reject(r.error);
          r.onsuccess = () => {
            const tx = r.result.transaction('events', 'readwrite');
            const store = tx.objectStore('events');
            const get = store.get(30);
            get.onsuccess = () => store.put({ ...get.result, ts: get.result.ts + 1 });
            tx.oncomplete = () => {
              r.result.close();
              resolve();
            };
            tx.onerror = () => reject(tx.error);
          };
        }),
    );
    await tab(page, 'Audit');
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    const verdict = page.getByTestId('verify-result');
    await verdict.waitFor({ timeout: 60_000 });
    await expect(verdict.getAttribute('data-ok')).resolves.toBe('false');
    await expect(verdict.textContent()).resolves.toMatch(/FAIL[\s\S]*record #30/);
    await shot(page, 'audit-verify-fail');
    await verdict.getByRole('button', { name: 'Show it in the timeline' }).click();
    await page.locator('[data-testid=timeline-list] [data-seq="30"]').waitFor();
    await expect(page.getByTestId('hash-check').textContent()).resolves.toContain('does not match');
    await shot(page, 'timeline-broken-record');
  });
});
