/**
 * `xendeck serve --sim` opened in Chromium: the built renderer loads under the
 * served CSP, talks to the host over the loopback WebSocket with the token
 * from its URL and commits the pushed records to its store. Without the
 * token the page gets no API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from '../../electron/host/runtime.ts';
import { startServeApp, type ServeApp } from '../../electron/serve/app.ts';
import { until } from '../../electron/host/test-support.ts';
import { ensureHelper } from './support.ts';

let app: ServeApp;
let browser: Browser;
beforeAll(async () => {
  ensureHelper();
  if (!existsSync(join(REPO_ROOT, 'renderer', 'dist', 'index.html'))) execFileSync('npx', ['vite', 'build', 'renderer', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit' });
  app = await startServeApp({ sim: { scenario: 'ninepfs-ok', speed: 2 } });
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

describe('serve in a browser', () => {
  it('the renderer goes live over the WebSocket and stores what the host pushes', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(app.url);
    await page.getByTestId('link-state').filter({ hasText: 'Live' }).waitFor({ timeout: 15_000 });
    const host = app.runtime.host;
    await until(() => app.serve.sessions() === 1, 'one session');
    // Everything the host sealed so far reaches the store.
    await page.waitForFunction((n) => /(\d[\d,]*) records/.test(document.querySelector('header')?.textContent ?? '') && Number(/(\d[\d,]*) records/.exec(document.querySelector('header')!.textContent!)![1].replace(/,/g, '')) >= n, host.status().tail.seq, { timeout: 15_000 });
    expect(errors.filter((e) => /Content Security Policy|Refused/.test(e))).toEqual([]);
    await page.close();
  });

  it('without the token the page gets no API and says how to open it', async () => {
    const page = await browser.newPage();
    const before = app.serve.sessions();
    await page.goto(app.url.replace(/\?token=.*/, ''));
    await page.waitForTimeout(500);
    expect(app.serve.sessions()).toBe(before);
    expect(await page.textContent('body')).toContain('xendeck serve');
    await page.close();
  });
});
