/**
 * Runs the store suite (page.ts) in real Chromium: bundles it with vite into
 * a temporary folder, serves it from 127.0.0.1, and opens it with
 * playwright-core in Debian's chromium. Used by the suite's test and by the
 * store benchmark.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { build } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const CHROMIUM = process.env.XENDECK_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.map': 'application/json' };

export interface SuitePage {
  page: Page;
  url: string;
  /** The browser context (for a DevTools session on the page: `context.newCDPSession(page)`). */
  context: BrowserContext;
  close(): Promise<void>;
}

/** Bundle page.ts (and the replay worker it starts) into a temporary folder. */
export async function buildSuite(): Promise<string> {
  const out = mkdtempSync(join(tmpdir(), 'xendeck-store-suite-'));
  await build({
    configFile: false,
    root: HERE,
    logLevel: 'warn',
    // The page's HostLink is a Svelte runes module (.svelte.ts).
    plugins: [svelte({ compilerOptions: { runes: true } })],
    resolve: { conditions: ['browser'] },
    build: { outDir: out, emptyOutDir: true, minify: false, target: 'es2022', sourcemap: false, reportCompressedSize: false },
    worker: { format: 'es' },
  });
  return out;
}

function serve(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * Build, serve and open the suite; `close()` undoes all of it. `persistent` opens it in a
 * profile on disk (a temporary user-data dir) rather than an in-memory one: Chromium applies
 * a quota set with `Storage.overrideQuotaForOrigin` only to such a profile.
 */
export async function openSuite(
  opts: {
    persistent?: boolean;
    beforeLoad?: (context: BrowserContext, page: Page, url: string) => Promise<void>;
    /** Another way to start chromium (a wrapper script), with its environment (persistent only). */
    executablePath?: string;
    env?: Record<string, string>;
  } = {},
): Promise<SuitePage & { profile: string | null }> {
  const dir = await buildSuite();
  const server = await serve(dir);
  const profile = opts.persistent ? mkdtempSync(join(tmpdir(), 'xendeck-store-profile-')) : null;
  let browser: Browser | null = null;
  let context: BrowserContext | null = null;
  const cleanup = () => {
    rmSync(dir, { recursive: true, force: true });
    if (profile) {
      rmSync(profile, { recursive: true, force: true });
      rmSync(`${profile}.pid`, { force: true });
    }
  };
  try {
    if (profile) {
      context = await chromium.launchPersistentContext(profile, { executablePath: opts.executablePath ?? CHROMIUM, args: ARGS, ...(opts.env ? { env: { ...process.env, ...opts.env } as Record<string, string> } : {}) });
    } else {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      context = await browser.newContext();
    }
    const page = context.pages()[0] ?? (await context.newPage());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    await opts.beforeLoad?.(context, page, url);
    await page.goto(url);
    await page.waitForFunction(() => 'storeSuite' in window);
    const b = browser;
    const c = context;
    return {
      page,
      url,
      context: c,
      profile,
      async close() {
        await (b ?? c).close();
        await new Promise((r) => server.close(r));
        cleanup();
      },
    };
  } catch (e) {
    await (browser ?? context)?.close();
    server.close();
    cleanup();
    throw e;
  }
}
