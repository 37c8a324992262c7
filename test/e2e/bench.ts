/**
 * The interface's benchmarks for `npm run bench` (DESIGN.md section 8), each
 * beside a same-run baseline:
 *  - ui-latency: ms from a write into the simulator's xenstore to the page's
 *    DOM showing it (the timeline's newest row), p50 and p95 over N writes,
 *    against a plain xenstore watch on the same simulator seeing the same write;
 *  - ui-scroll: frame times scrolling the timeline over a store of N records
 *    (1M by default), p50 and p95, against scrolling an empty element of the
 *    same height in the same page.
 * Register with `BENCHES.push(uiBench)` in electron/cli/bench.ts.
 */
import { join } from 'node:path';
import type { Bench, BenchResult } from '../../electron/cli/bench.ts';
import { startServeApp } from '../../electron/serve/app.ts';
import { XsWireClient } from '../../electron/sim/xenstore/wire-client.ts';
import { XS } from '../../electron/sim/xenstore/wire.ts';
import { launch, ROOT } from './harness.ts';

const WRITES = 40;
/** tsx keeps function names with a `__name` helper that in-page functions also call: give the page one. */
const KEEP_NAMES = 'globalThis.__name = (f) => f;';
const FRAMES = 240;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Write-to-DOM latency on a simulated host. */
export async function latencyBench(log: (s: string) => void): Promise<BenchResult> {
  const app = await startServeApp({ sim: { scenario: join(ROOT, 'test/e2e/scenarios/e2e-cdrom.json') } });
  const browser = await launch();
  const xs = await XsWireClient.connect(app.runtime.sim!.xenstoreSocket);
  const watcher = await XsWireClient.connect(app.runtime.sim!.xenstoreSocket);
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.addInitScript(KEEP_NAMES);
    const page = await context.newPage();
    await page.goto(app.url);
    await page.getByTestId('link-state').filter({ hasText: 'Live' }).waitFor({ timeout: 60_000 });
    await page.locator('[data-testid=domain-row][data-domain=win10][data-state=running]').waitFor({ timeout: 60_000 });
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Timeline', exact: true }).click();
    const path = '/local/domain/1/data/xendeck-bench';
    await watcher.request(XS.WATCH, `${path}\0bench\0`);
    await watcher.waitEvents(1);
    const dom: number[] = [];
    const watch: number[] = [];
    log(`ui-latency: ${WRITES} writes to ${path}`);
    for (let i = 0; i < WRITES; i++) {
      const mark = `mark-${i}-${Date.now()}`;
      const seen = page.evaluate(
        (m) =>
          new Promise<number>((resolve) => {
            const hit = () => document.querySelector('[data-testid=timeline-list]')?.textContent?.includes(m);
            if (hit()) return resolve(performance.timeOrigin + performance.now());
            const obs = new MutationObserver(() => {
              if (hit()) {
                obs.disconnect();
                resolve(performance.timeOrigin + performance.now());
              }
            });
            obs.observe(document.body, { subtree: true, childList: true, characterData: true });
          }),
        mark,
      );
      const before = watcher.events.length;
      const t0 = performance.timeOrigin + performance.now();
      await xs.request(XS.WRITE, `${path}\0${mark}`);
      await watcher.waitEvents(before + 1, 10_000);
      watch.push(performance.timeOrigin + performance.now() - t0);
      dom.push((await seen) - t0);
    }
    const p50 = pct(dom, 50);
    const p95 = pct(dom, 95);
    const w50 = pct(watch, 50);
    return {
      name: 'ui-latency',
      figure: +p50.toFixed(1),
      unit: 'ms (p50)',
      baseline: +w50.toFixed(1),
      baselineLabel: 'a xenstore watch on the same simulator seeing the same write (p50)',
      ratio: w50 / p50,
      notes: { writes: WRITES, p95: +p95.toFixed(1), watchP95: +pct(watch, 95).toFixed(1), path },
    };
  } finally {
    await browser.close();
    await app.stop();
  }
}

/** Timeline scroll frame times over a store of `records` records. */
export async function scrollBench(records: number, log: (s: string) => void): Promise<BenchResult> {
  // A host with no scenario: the page opens the store, the host only serves the files and the API.
  const app = await startServeApp({ sim: { scenario: join(ROOT, 'test/e2e/scenarios/e2e-empty.json') } });
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.addInitScript(KEEP_NAMES);
    const page = await context.newPage();
    const origin = new URL(app.url).origin;
    // Open the page without its token: the app opens its store but takes nothing from the host.
    await page.goto(`${origin}/`);
    await page.getByTestId('link-state').filter({ hasText: 'No host' }).waitFor({ timeout: 60_000 });
    log(`ui-scroll: filling a ${records.toLocaleString('en')}-record store`);
    const fillMs = await page.evaluate(async (n) => {
      const t = performance.now();
      const db: IDBDatabase = await new Promise((res, rej) => {
        const r = indexedDB.open('xendeck');
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      const hex = (i: number) => i.toString(16).padStart(64, '0');
      const BATCH = 20_000;
      for (let a = 1; a <= n; a += BATCH) {
        await new Promise<void>((res, rej) => {
          const tx = db.transaction(['events', 'meta'], 'readwrite');
          const ev = tx.objectStore('events');
          for (let s = a; s < Math.min(n + 1, a + BATCH); s++)
            ev.put({ seq: s, ts: 1763740000000 + s, src: 'sim', type: 'bench.filler', data: { path: `/local/domain/${s % 7}/data/k${s % 97}`, value: `v${s}` }, prev: hex(s - 1), hash: hex(s) });
          if (a + BATCH > n) {
            const meta = tx.objectStore('meta');
            meta.put({ key: 'tail', value: { seq: n, hash: hex(n) } });
            meta.put({ key: 'stats', value: { count: n, firstSeq: 1, firstPrev: hex(0) } });
          }
          tx.oncomplete = () => res();
          tx.onerror = () => rej(tx.error);
        });
      }
      db.close();
      return performance.now() - t;
    }, records);
    await page.reload();
    await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: 'Timeline', exact: true }).click();
    await page.getByTestId('timeline-count').filter({ hasText: records.toLocaleString('en') }).waitFor({ timeout: 120_000 });
    const measure = (selector: string) =>
      page.evaluate(
        ({ selector, frames }) =>
          new Promise<number[]>((resolve) => {
            const el = document.querySelector(selector) as HTMLElement;
            el.scrollTop = 0;
            const times: number[] = [];
            let last = 0;
            let i = 0;
            const step = (t: number) => {
              if (last) times.push(t - last);
              last = t;
              // A page and a half per frame, from the top towards the far end.
              el.scrollTop = Math.floor(((el.scrollHeight - el.clientHeight) * i) / frames);
              if (++i <= frames) requestAnimationFrame(step);
              else resolve(times);
            };
            requestAnimationFrame(step);
          }),
        { selector, frames: FRAMES },
      );
    log('ui-scroll: scrolling the timeline');
    const tl = await measure('[data-testid=timeline-list]');
    // Baseline: an empty element of the same height, in the same page.
    await page.evaluate((h) => {
      const d = document.createElement('div');
      d.id = 'bench-empty';
      d.style.cssText = 'position:fixed;top:0;left:0;width:600px;height:600px;overflow:auto;z-index:99';
      const inner = document.createElement('div');
      inner.style.cssText = `height:${h}px`;
      d.appendChild(inner);
      document.body.appendChild(d);
    }, records * 24);
    const base = await measure('#bench-empty');
    const p50 = pct(tl, 50);
    return {
      name: 'ui-scroll',
      figure: +p50.toFixed(1),
      unit: 'ms/frame (p50)',
      baseline: +pct(base, 50).toFixed(1),
      baselineLabel: 'scrolling an empty element of the same height in the same page (p50)',
      ratio: pct(base, 50) / p50,
      notes: { records, frames: FRAMES, p95: +pct(tl, 95).toFixed(1), baselineP95: +pct(base, 95).toFixed(1), fillSecs: +(fillMs / 1000).toFixed(1) },
    };
  } finally {
    await browser.close();
    await app.stop();
  }
}

export const uiBench: Bench = {
  name: 'ui',
  async run(ctx) {
    return [await latencyBench(ctx.log), await scrollBench(ctx.records, ctx.log)];
  },
};
