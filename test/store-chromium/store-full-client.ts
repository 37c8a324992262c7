/**
 * The test side of store-full-page.ts: call the page's `storeFullSuite` and poll its state.
 * Shared by the quota and the full-disk tests.
 */
import type { Page } from 'playwright-core';
import type { StoreFullSuite } from './store-full-page.ts';

export type LinkState = Awaited<ReturnType<StoreFullSuite['state']>>;

export interface StoreFullClient {
  call<K extends keyof StoreFullSuite>(k: K, ...a: Parameters<StoreFullSuite[K]>): Promise<Awaited<ReturnType<StoreFullSuite[K]>>>;
  /** Poll the page's state until `ok` holds (30 s at most). */
  until(ok: (x: LinkState) => boolean, what: string): Promise<LinkState>;
}

/** A client of the page `page()` returns (the page is opened in beforeAll, after the client is made). */
export function storeFullClient(page: () => Page): StoreFullClient {
  const call = <K extends keyof StoreFullSuite>(k: K, ...a: Parameters<StoreFullSuite[K]>): Promise<Awaited<ReturnType<StoreFullSuite[K]>>> =>
    page().evaluate(([k, a]) => (window as unknown as { storeFullSuite: Record<string, (...x: unknown[]) => unknown> }).storeFullSuite[k as string](...(a as unknown[])), [k, a] as const) as never;
  async function until(ok: (x: LinkState) => boolean, what: string): Promise<LinkState> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const x = await call('state');
      if (ok(x)) return x;
      if (Date.now() > deadline) throw new Error(`not reached within 30 s: ${what}; last state ${JSON.stringify(x)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { call, until };
}
