// Schema, queries and incidents of the store (fake-indexeddb).
import { afterEach, describe, expect, it } from 'vitest';
import { Dexie } from 'dexie';
import { ALL_BINDINGS } from '../../../../machines/host/bindings.ts';
import { replay } from '../../../../machines/host/replay.ts';
import { AppDb, LIVE_DB_NAME } from './app-db.ts';
import { appendEvents } from './append-event.ts';
import { getMeta } from './meta.ts';
import { addBookmark, setIncidentNote } from './projections/incidents.ts';
import { updateProjections } from './projections/update.ts';
import { domainTimeline, eventsBetween, incidentList, latestEvents, storeSummary } from './queries.ts';
import { storeSource } from './store-source.ts';
import { batches, sealedHistory } from './test-support.ts';
import { db as liveDb } from './db.ts';

const HISTORY = sealedHistory(3000, { domains: 6 });
const dbs: AppDb[] = [];
afterEach(async () => {
  for (const d of dbs.splice(0)) await d.delete();
});
async function filled(): Promise<AppDb> {
  const db = new AppDb(`test-${crypto.randomUUID()}`);
  dbs.push(db);
  for (const b of batches(HISTORY, 1000)) expect((await appendEvents(db, b)).ok).toBe(true);
  return db;
}

describe('schema v1', () => {
  it('keys events by the host seq (not auto-increment) with time, type, uuid and [uuid+seq] indexes', async () => {
    const db = new AppDb(`test-${crypto.randomUUID()}`);
    dbs.push(db);
    await db.open();
    const ev = db.events.schema;
    expect(ev.primKey.keyPath).toBe('seq');
    expect(ev.primKey.auto).toBe(false);
    expect(ev.indexes.map((i) => i.name).sort()).toEqual(['[uuid+seq]', 'ts', 'type', 'uuid']);
    expect(db.snapshots.schema.primKey.keyPath).toBe('seq');
    expect(db.incidents.schema.indexes.map((i) => i.name).sort()).toEqual(['from', 'source', 'uuid']);
    expect(db.meta.schema.primKey.keyPath).toBe('key');
    expect(db.verno).toBe(1);
    // The same schema as seen by IndexedDB itself.
    const raw = await new Promise<IDBDatabase>((res, rej) => {
      const r = indexedDB.open(db.name);
      r.onsuccess = () => res(r.result);
      r.onerror = () => rej(r.error);
    });
    const idx = [...raw.transaction('events').objectStore('events').indexNames].sort();
    raw.close();
    expect(idx).toEqual(['[uuid+seq]', 'ts', 'type', 'uuid']);
  });

  it('the app store is named xendeck', () => {
    expect(liveDb.name).toBe(LIVE_DB_NAME);
    expect(LIVE_DB_NAME).toBe('xendeck');
  });
});

describe('queries for views', () => {
  it('reads a domain timeline through [uuid+seq], the latest records, a time window and a summary from meta', async () => {
    const db = await filled();
    const uuid = HISTORY.find((r) => r.uuid)!.uuid!;
    const mine = HISTORY.filter((r) => r.uuid === uuid);
    expect(await domainTimeline(db, uuid, { limit: 10_000 })).toEqual(mine);
    expect(await domainTimeline(db, uuid, { afterSeq: mine[5].seq, limit: 3 })).toEqual(mine.slice(6, 9));
    expect((await latestEvents(db, 3)).map((r) => r.seq)).toEqual([HISTORY.length, HISTORY.length - 1, HISTORY.length - 2]);
    const [t0, t1] = [HISTORY[100].ts, HISTORY[200].ts];
    expect(await eventsBetween(db, t0, t1, 100_000)).toEqual(HISTORY.filter((r) => r.ts >= t0 && r.ts <= t1).sort((a, b) => a.ts - b.ts || a.seq - b.seq));
    expect(await storeSummary(db)).toEqual({ count: HISTORY.length, firstSeq: 1, tail: HISTORY.length, tailHash: HISTORY[HISTORY.length - 1].hash });
  });
});

describe('incidents', () => {
  it('projections bring automatic incidents to the tail; bookmarks with notes sit beside them and survive a rebuild', async () => {
    const db = await filled();
    const bm = await addBookmark(db, { from: 10, to: 20, ts: 5, summary: 'odd boot', note: 'look again' });
    const res = await updateProjections(db, 1000);
    const expected = replay(HISTORY, ALL_BINDINGS).view.incidents;
    expect(res).toEqual({ projected: HISTORY.length, incidents: expected.length });
    expect(await getMeta(db, 'projected')).toBe(HISTORY.length);
    expect(await db.snapshots.count()).toBe(Math.floor(HISTORY.length / 1000));
    const list = await incidentList(db);
    expect(list.filter((i) => i.source === 'auto')).toHaveLength(expected.length);
    expect(list.find((i) => i.id === bm.id)).toMatchObject({ source: 'person', note: 'look again' });
    const auto = list.find((i) => i.source === 'auto')!;
    await setIncidentNote(db, auto.id, 'the guest crashed on purpose');
    // The report lists incidents with their notes.
    const inReport = await storeSource(db).incidents!(1, HISTORY.length);
    expect(inReport.find((i) => i.from === auto.from && i.kind === auto.kind)!.summary).toContain('note: the guest crashed on purpose');
    await updateProjections(db, 1000);
    expect((await incidentList(db)).find((i) => i.id === bm.id)).toBeDefined();
    expect((await incidentList(db)).find((i) => i.id === auto.id)!.note).toBe('the guest crashed on purpose');
    await expect(setIncidentNote(db, 'auto:none', 'x')).rejects.toThrow(/no incident/);
    expect(await Dexie.exists(db.name)).toBe(true);
  });
});
