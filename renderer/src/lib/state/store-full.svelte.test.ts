/**
 * The store when storage is full (issue 8): IndexedDB refusing writes with a
 * quota or disk-full error is injected with a Dexie hook on fake-indexeddb
 * (the same errors surface from real Chromium: test/store-chromium). Recording
 * pauses with its reason, the host is told, nothing committed is lost, and
 * when space returns the store resumes and the host's resend completes the chain.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Dexie } from 'dexie';
import { AppDb } from '../db/app-db.ts';
import { verifyStore } from '../db/verify-store.ts';
import { FakeApi } from '../testing/fake-api.ts';
import { goldenRecords } from '../testing/bundles.ts';
import { HostLink } from './host-link.svelte.ts';
import type { XRecord } from '../../../../machines/events/record.ts';

const dbs: AppDb[] = [];
const links: HostLink[] = [];
afterEach(async () => {
  for (const l of links.splice(0)) l.stop();
  for (const db of dbs.splice(0)) await db.delete();
});

const recs = goldenRecords('soft-reset');

/** Make every write of `db` fail with `error()` while `full` is true. */
function storage(db: AppDb, error: () => unknown = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError')) {
  const s = { full: false, refused: 0 };
  db.events.hook('creating', () => {
    if (!s.full) return;
    s.refused++;
    throw error();
  });
  return s;
}

async function setup(opts: { retry?: { firstMs: number; maxMs: number }; onError?: (e: unknown) => void } = {}) {
  const fake = new FakeApi();
  const db = new AppDb(`test-${crypto.randomUUID()}`);
  dbs.push(db);
  const link = new HostLink(fake.api, db, { heartbeatMs: 0, retry: opts.retry ?? { firstMs: 60_000, maxMs: 60_000 }, onError: opts.onError });
  links.push(link);
  await link.start();
  return { fake, db, link };
}

/** The host's side of a reconnect: it re-sends every record after the store's tail (its outbox holds them all). */
function resendOnConnect(fake: FakeApi, all: XRecord[], before: (tail: number) => XRecord[] = () => []): void {
  const real = fake.api.connect;
  fake.api.connect = async (a) => {
    const stale = before(a.tail.seq);
    if (stale.length) fake.push('records', { records: stale });
    fake.push('records', { records: all.slice(a.tail.seq) });
    return real(a);
  };
}

const seqs = async (db: AppDb) => (await db.events.toArray()).map((r) => r.seq);

describe('HostLink when storage is full', () => {
  it('pauses recording: nothing appended or acked, the host told why, later batches dropped, committed records intact', async () => {
    const { fake, db, link } = await setup();
    const disk = storage(db);
    fake.push('records', { records: recs.slice(0, 30) });
    await link.settled();
    expect(fake.callsOf('ack')).toEqual([[{ seq: 30 }]]);

    disk.full = true;
    fake.push('records', { records: recs.slice(30, 40) });
    fake.push('records', { records: recs.slice(40, 50) });
    fake.push('records', { records: recs.slice(50, 60) });
    await link.settled();
    await vi.waitFor(() => expect(link.storePause?.reported).toBe(true));

    expect(link.storePause).toMatchObject({ retries: 0, waitMs: 60_000 });
    expect(link.storePause!.detail).toBe("the browser's storage quota for Xendeck is used up (QuotaExceededError: The quota has been exceeded.)");
    expect(fake.callsOf('storeStatus')).toEqual([[{ state: 'full', detail: link.storePause!.detail }]]);
    // Only the first batch reached IndexedDB; the ones queued behind it were dropped without a write.
    expect(disk.refused).toBe(1);
    expect(fake.callsOf('ack')).toEqual([[{ seq: 30 }]]);
    expect(link.tail).toBe(30);
    expect(link.state).toBe('live');
    expect(await seqs(db)).toEqual(recs.slice(0, 30).map((r) => r.seq));
    expect(await verifyStore(db)).toMatchObject({ ok: true, count: 30 });
  });

  it('a full disk (UnknownError about space, inside an abort) pauses too, with its own reason', async () => {
    const { fake, db, link } = await setup();
    const disk = storage(db, () => new Dexie.AbortError(new DOMException('Internal error: no space left on device', 'UnknownError')));
    disk.full = true;
    fake.push('records', { records: recs.slice(0, 10) });
    await link.settled();
    expect(link.storePause?.detail).toBe('the disk holding the browser profile is full (UnknownError: Internal error: no space left on device)');
    expect(await db.events.count()).toBe(0);
  });

  it('retries back off from the first wait, doubling up to the last, and the host is told once', async () => {
    const { fake, db, link } = await setup({ retry: { firstMs: 50_000, maxMs: 180_000 } });
    const disk = storage(db);
    disk.full = true;
    fake.push('records', { records: recs.slice(0, 10) });
    await link.settled();
    expect(link.storePause).toMatchObject({ retries: 0, waitMs: 50_000 });
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      expect(await link.retryNow()).toBe(false);
      waits.push(link.storePause!.waitMs);
    }
    expect(waits).toEqual([100_000, 180_000, 180_000]);
    expect(link.storePause!.retries).toBe(3);
    expect(disk.refused).toBe(4);
    expect(fake.callsOf('storeStatus')).toHaveLength(1);
    expect(await db.events.count()).toBe(0);
  });

  it('when space returns: the held batch commits, the host is told ok, the store reconnects with its tail, and the resend completes the chain', async () => {
    const { fake, db, link } = await setup();
    const disk = storage(db);
    fake.push('records', { records: recs.slice(0, 20) });
    await link.settled();
    disk.full = true;
    fake.push('records', { records: recs.slice(20, 35) });
    fake.push('records', { records: recs.slice(35, 50) });
    await link.settled();
    expect(link.storePause).not.toBeNull();
    // A live batch pushed before the host handles the reconnect does not chain onto the store: it is dropped, not refused.
    resendOnConnect(fake, recs, (tail) => recs.slice(tail + 10, tail + 20));

    disk.full = false;
    expect(await link.retryNow()).toBe(true);
    await vi.waitFor(() => expect(link.tail).toBe(recs.length));
    await link.settled();

    expect(link.storePause).toBeNull();
    expect(link.state).toBe('live');
    expect(link.message).toBeUndefined();
    expect(fake.callsOf('storeStatus').map((c) => (c[0] as { state: string }).state)).toEqual(['full', 'ok']);
    expect(fake.callsOf('connect').at(-1)).toEqual([{ tail: { seq: 35, hash: recs[34].hash } }]);
    expect(fake.callsOf('ack').at(-1)).toEqual([{ seq: recs.length }]);
    expect(await seqs(db)).toEqual(recs.map((r) => r.seq));
    expect(await verifyStore(db)).toMatchObject({ ok: true, count: recs.length });
    // After the resend, a batch that does not chain is refused again, as always.
    fake.push('records', { records: [{ ...recs[5], seq: recs.length + 3 }] });
    await link.settled();
    expect(link.state).toBe('refused');
  });

  it('the backoff timer retries by itself until the store takes the batch', async () => {
    const { fake, db, link } = await setup({ retry: { firstMs: 5, maxMs: 20 } });
    const disk = storage(db);
    resendOnConnect(fake, recs);
    disk.full = true;
    fake.push('records', { records: recs.slice(0, 25) });
    await link.settled();
    expect(link.storePause).not.toBeNull();
    await vi.waitFor(() => expect(disk.refused).toBeGreaterThanOrEqual(3));
    disk.full = false;
    await vi.waitFor(() => expect(link.tail).toBe(recs.length));
    expect(link.storePause).toBeNull();
    expect(await verifyStore(db)).toMatchObject({ ok: true, count: recs.length });
  });

  it('a host out of reach when the store fills is told on a later retry', async () => {
    const { fake, db, link } = await setup();
    const disk = storage(db);
    const real = fake.api.storeStatus;
    let reachable = false;
    fake.api.storeStatus = (a) => (reachable ? real(a) : Promise.reject(new Error('connection lost')));
    disk.full = true;
    fake.push('records', { records: recs.slice(0, 10) });
    await link.settled();
    await Promise.resolve();
    expect(link.storePause?.reported).toBe(false);
    reachable = true;
    await link.retryNow();
    expect(link.storePause?.reported).toBe(true);
    expect(fake.callsOf('storeStatus')).toEqual([[{ state: 'full', detail: link.storePause!.detail }]]);
  });

  it('while paused, a retry failing otherwise is reported once and the store stays paused, retrying; a closed connection is opened again', async () => {
    const errors: unknown[] = [];
    const { fake, db, link } = await setup({ onError: (e) => errors.push(e) });
    let failure: () => unknown = () => new DOMException('Connection is closing because of: IO error: 000022.ldb: FILE_ERROR_NO_SPACE', 'UnknownError');
    const disk = storage(db, () => failure());
    resendOnConnect(fake, recs);
    disk.full = true;
    fake.push('records', { records: recs.slice(0, 20) });
    await link.settled();
    expect(link.storePause?.detail).toMatch(/^the disk holding the browser profile is full \(UnknownError: .*FILE_ERROR_NO_SPACE\)$/);
    const detail = link.storePause!.detail;
    // Chromium closes the connection after a write fails for lack of space.
    db.close();
    failure = () => new Dexie.ConstraintError('something else');
    expect(await link.retryNow()).toBe(false);
    expect(await link.retryNow()).toBe(false);
    expect(link.storePause).toMatchObject({ detail, retries: 2 });
    expect(errors.map((e) => (e as Error).name)).toEqual(['ConstraintError']);
    expect(db.isOpen()).toBe(true);
    disk.full = false;
    expect(await link.retryNow()).toBe(true);
    await vi.waitFor(() => expect(link.tail).toBe(recs.length));
    expect(await verifyStore(db)).toMatchObject({ ok: true, count: recs.length });
  });

  it('any other failure of a write is reported as an error, and recording is not paused', async () => {
    const errors: unknown[] = [];
    const { fake, db, link } = await setup({ onError: (e) => errors.push(e) });
    const disk = storage(db, () => new Dexie.ConstraintError('Key already exists in the object store.'));
    disk.full = true;
    fake.push('records', { records: recs.slice(0, 10) });
    await link.settled();
    expect(link.storePause).toBeNull();
    expect(errors.map((e) => (e as Error).name)).toEqual(['ConstraintError']);
    expect(fake.callsOf('storeStatus')).toEqual([]);
  });
});
