/**
 * The store when storage is full, in Chromium against real IndexedDB
 * (store-full.test.ts sets the origin's quota through the DevTools protocol).
 * The page's real HostLink follows a host played here: the host holds every
 * record it sealed (its outbox), pushes them in batches, re-sends what follows
 * the store's tail on connect, and logs acks and storeStatus calls — the
 * contract's typed fake (FakeApi), so arguments and results are checked by
 * the contract's schemas.
 */
import type { XRecord } from '../../machines/events/record.ts';
import { AppDb } from '../../renderer/src/lib/db/app-db.ts';
import { appendEvents } from '../../renderer/src/lib/db/append-event.ts';
import { readStats, readTail } from '../../renderer/src/lib/db/meta.ts';
import { storageFullReason } from '../../renderer/src/lib/db/storage-full.ts';
import { verifyStore } from '../../renderer/src/lib/db/verify-store.ts';
import { sealedHistory } from '../../renderer/src/lib/db/test-support.ts';
import { HostLink } from '../../renderer/src/lib/state/host-link.svelte.ts';
import { FakeApi } from '../../renderer/src/lib/testing/fake-api.ts';

interface Run {
  all: XRecord[];
  /** How many records the host has sealed (and pushed) so far. */
  sealed: number;
  fake: FakeApi;
  db: AppDb;
  link: HostLink;
  errors: string[];
}
let run: Run | null = null;

/** Chromium closes the connection after a write fails on a full disk: open it again to read (as the link does before a retry). */
async function opened(db: AppDb): Promise<AppDb> {
  if (!db.isOpen()) await db.open();
  return db;
}

async function state(r: Run) {
  const link = {
    linkTail: r.link.tail,
    pause: r.link.storePause ? { detail: r.link.storePause.detail, retries: r.link.storePause.retries, waitMs: r.link.storePause.waitMs, reported: r.link.storePause.reported } : null,
    linkState: r.link.state,
    message: r.link.message ?? null,
    storeStatus: r.fake.callsOf('storeStatus').map((c) => c[0] as { state: string; detail?: string }),
    connects: r.fake.callsOf('connect').map((c) => (c[0] as { tail: { seq: number } }).tail.seq),
    lastAck: (r.fake.callsOf('ack').at(-1)?.[0] as { seq: number } | undefined)?.seq ?? 0,
    errors: r.errors,
  };
  try {
    await opened(r.db);
    const tail = await readTail(r.db);
    const stats = await readStats(r.db);
    const rows = await r.db.events.toArray();
    let contiguous = rows.length > 0 && rows[0].seq === 1;
    for (let i = 1; i < rows.length && contiguous; i++) contiguous = rows[i].seq === rows[i - 1].seq + 1;
    return { ...link, readable: true as const, readError: null, tail: tail.seq, count: rows.length, stats, contiguous, sameAsSealed: rows.every((x, i) => x.hash === r.all[i].hash) };
  } catch (e) {
    // On a full disk the store cannot even be opened to read.
    return { ...link, readable: false as const, readError: `${(e as Error).name}: ${(e as Error).message}`, tail: -1, count: -1, stats: null, contiguous: false, sameAsSealed: false };
  }
}

export const storeFullSuite = {
  /** Start the link on an empty store and commit the first `first` of `n` records, pushed in batches. */
  async start(name: string, n: number, first: number, batch: number, retry: { firstMs: number; maxMs: number }) {
    const all = sealedHistory(n, { domains: 6 }).slice(0, n);
    const fake = new FakeApi();
    const db = new AppDb(name);
    const errors: string[] = [];
    const link = new HostLink(fake.api, db, { heartbeatMs: 0, retry, onError: (e) => errors.push(String((e as Error)?.message ?? e)) });
    const r: Run = { all, sealed: 0, fake, db, link, errors };
    // The host: on connect it re-sends every record it holds after the store's tail.
    const connect = fake.api.connect;
    fake.api.connect = async (a) => {
      if (r.sealed > a.tail.seq) fake.push('records', { records: all.slice(a.tail.seq, r.sealed) });
      return connect(a);
    };
    run = r;
    await link.start();
    await storeFullSuite.seal(first, batch);
    await link.settled();
    return state(r);
  },

  /** The host seals `k` more records and pushes them live, in batches. */
  async seal(k: number, batch: number) {
    const r = run!;
    const to = Math.min(r.all.length, r.sealed + k);
    for (let i = r.sealed; i < to; i += batch) {
      const chunk = r.all.slice(i, Math.min(to, i + batch));
      r.sealed = chunk[chunk.length - 1].seq;
      r.fake.push('records', { records: chunk });
    }
    await r.link.settled();
    return state(r);
  },

  async state() {
    return state(run!);
  },

  /** A person's "Try again now". */
  async retryNow() {
    return run!.link.retryNow();
  },

  /** A whole verify of the store (hashes and links from its first record). */
  async verify() {
    const v = await verifyStore(await opened(run!.db));
    return { ok: v.ok, count: v.count, ...(v.ok ? {} : { problem: JSON.stringify(v).slice(0, 300) }) };
  },

  /**
   * What IndexedDB (through Dexie) throws when the store appends the records after its tail
   * directly (the link being paused), and how the store names it; the store is unchanged after.
   */
  async probe(k: number) {
    const r = run!;
    const tail = (await readTail(await opened(r.db))).seq;
    try {
      const res = await appendEvents(r.db, r.all.slice(tail, tail + k));
      return { threw: false, ok: res.ok, count: await r.db.events.count() };
    } catch (e) {
      const x = e as { name?: string; message?: string; inner?: { name?: string; message?: string } | null };
      return { threw: true, name: x.name, message: x.message, inner: x.inner ? { name: x.inner.name, message: x.inner.message } : null, reason: storageFullReason(e), count: await r.db.events.count() };
    }
  },

  async usage() {
    return (await navigator.storage.estimate()).usage ?? 0;
  },

  stop() {
    run?.link.stop();
    run?.db.close();
    run = null;
  },
};

(window as unknown as { storeFullSuite: typeof storeFullSuite }).storeFullSuite = storeFullSuite;
export type StoreFullSuite = typeof storeFullSuite;
