import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Chain } from '../../../../machines/events/chain.ts';
import { recordHash } from '../../../../machines/events/hash.ts';
import type { XRecord } from '../../../../machines/events/record.ts';
import { ALL_BINDINGS } from '../../../../machines/host/bindings.ts';
import { replay } from '../../../../machines/host/replay.ts';
import { AppDb } from './app-db.ts';
import { appendEvents } from './append-event.ts';
import { readStats, readTail } from './meta.ts';
import { batches, sealedHistory } from './test-support.ts';
import { ReplayEngine } from '../replay/replay-engine.ts';

const dbs: AppDb[] = [];
function freshDb(): AppDb {
  const db = new AppDb(`test-${crypto.randomUUID()}`);
  dbs.push(db);
  return db;
}
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.delete();
});

const HISTORY = sealedHistory(300);

async function fill(db: AppDb, recs: readonly XRecord[], size = 100): Promise<void> {
  for (const b of batches(recs, size)) {
    const r = await appendEvents(db, b);
    if (!r.ok) throw new Error(r.refusal.message);
  }
}

async function snapshotOf(db: AppDb) {
  return { events: await db.events.toArray(), meta: await db.meta.toArray() };
}

describe('appendEvents', () => {
  it('commits batches in order, acks the highest seq and keeps counters in meta', async () => {
    const db = freshDb();
    const [a, b] = [HISTORY.slice(0, 120), HISTORY.slice(120, 200)];
    const r1 = await appendEvents(db, a);
    expect(r1).toEqual({ ok: true, ack: 120, appended: 120, duplicates: 0, notes: [] });
    const r2 = await appendEvents(db, b);
    expect(r2).toMatchObject({ ok: true, ack: 200, appended: 80 });
    expect(await readTail(db)).toEqual({ seq: 200, hash: HISTORY[199].hash });
    expect(await readStats(db)).toEqual({ count: 200, firstSeq: 1, firstPrev: HISTORY[0].prev });
    expect(await db.events.count()).toBe(200);
    expect(await db.events.get(77)).toEqual(HISTORY[76]);
  });

  it('refuses a batch that does not chain onto the stored tail, and writes none of it', async () => {
    const db = freshDb();
    await fill(db, HISTORY.slice(0, 100));
    const before = await snapshotOf(db);

    const gap = await appendEvents(db, HISTORY.slice(101, 150));
    expect(gap).toMatchObject({ ok: false, ack: 100, refusal: { kind: 'chain', seq: 102 } });
    expect(gap.ok || gap.refusal.message).toMatch(/found seq 102 where 101 was expected/);

    const wrongPrev = HISTORY.slice(100, 150).map((r) => ({ ...r }));
    wrongPrev[0].prev = 'f'.repeat(64);
    expect(await appendEvents(db, wrongPrev)).toMatchObject({ ok: false, refusal: { kind: 'chain', seq: 101, fault: { kind: 'prev' } } });

    // An altered record in the middle: the first 20 records chain, the batch is still refused whole.
    const altered = HISTORY.slice(100, 150).map((r) => ({ ...r }));
    altered[20] = { ...altered[20], ts: altered[20].ts + 1 };
    const r = await appendEvents(db, altered);
    expect(r).toMatchObject({ ok: false, ack: 100, refusal: { kind: 'chain', seq: 121, fault: { kind: 'hash' } } });

    const schema = HISTORY.slice(100, 110).map((x) => ({ ...x })) as XRecord[];
    (schema[3] as unknown as Record<string, unknown>).src = 'guest';
    expect(await appendEvents(db, schema)).toMatchObject({ ok: false, refusal: { kind: 'schema', seq: 104 } });

    const unordered = [HISTORY[101], HISTORY[100]];
    expect(await appendEvents(db, unordered)).toMatchObject({ ok: false, refusal: { kind: 'order' } });

    expect(await snapshotOf(db)).toEqual(before);
  });

  it('is idempotent when a batch is re-sent, whole or overlapping the tail', async () => {
    const db = freshDb();
    await fill(db, HISTORY.slice(0, 150));
    const again = await appendEvents(db, HISTORY.slice(100, 150));
    expect(again).toEqual({ ok: true, ack: 150, appended: 0, duplicates: 50, notes: [] });
    const overlap = await appendEvents(db, HISTORY.slice(120, 180));
    expect(overlap).toEqual({ ok: true, ack: 180, appended: 30, duplicates: 30, notes: [] });
    expect(await db.events.count()).toBe(180);
    expect((await readStats(db)).count).toBe(180);
    expect((await db.events.toArray()).map((r) => r.seq)).toEqual(HISTORY.slice(0, 180).map((r) => r.seq));
  });

  it('refuses a re-sent seq whose hash differs from the stored one (history cannot be rewritten)', async () => {
    const db = freshDb();
    await fill(db, HISTORY.slice(0, 50));
    // A different history with the same seqs: chain from zero with other content.
    const other = new Chain();
    const forged = HISTORY.slice(0, 60).map((r) => other.append({ ts: r.ts + 1, src: r.src, type: r.type, data: r.data, ...(r.domid !== undefined ? { domid: r.domid } : {}), ...(r.uuid ? { uuid: r.uuid } : {}) }));
    const r = await appendEvents(db, forged.slice(40, 60));
    expect(r).toMatchObject({ ok: false, ack: 50, refusal: { kind: 'conflict', seq: 41 } });
    expect(await db.events.count()).toBe(50);
  });

  it('never leaves half a batch when the commit fails part-way', async () => {
    const db = freshDb();
    await fill(db, HISTORY.slice(0, 100));
    const before = await snapshotOf(db);
    let n = 0;
    const failOnce = () => {
      if (++n === 37) throw new Error('disk full');
    };
    db.events.hook('creating', failOnce);
    await expect(appendEvents(db, HISTORY.slice(100, 200))).rejects.toThrow(/disk full/);
    expect(await snapshotOf(db)).toEqual(before);
    // The host re-sends the unacked batch and it commits whole.
    db.events.hook('creating').unsubscribe(failOnce);
    expect(await appendEvents(db, HISTORY.slice(100, 200))).toMatchObject({ ok: true, ack: 200, appended: 100 });
  });

  it('refuses live records in a store opened from a bundle', async () => {
    const db = freshDb();
    await fill(db, HISTORY.slice(0, 10));
    await db.meta.put({ key: 'readOnly', value: { manifest: {}, importedAt: 'x', source: 'test' } });
    expect(await appendEvents(db, HISTORY.slice(10, 20))).toMatchObject({ ok: false, ack: 10, refusal: { kind: 'read-only' } });
  });

  it('starts an empty store at an anchor (an imported range) and checks the link', async () => {
    const db = freshDb();
    const anchor = { seq: 51, prev: HISTORY[49].hash };
    expect(await appendEvents(db, HISTORY.slice(50, 80), { anchor, importing: true })).toMatchObject({ ok: true, ack: 80 });
    expect(await readStats(db)).toEqual({ count: 30, firstSeq: 51, firstPrev: HISTORY[49].hash });
    const db2 = freshDb();
    expect(await appendEvents(db2, HISTORY.slice(50, 80), { anchor: { seq: 51, prev: HISTORY[10].hash } })).toMatchObject({ ok: false, refusal: { kind: 'chain', seq: 51 } });
  });

  it('property: any split into batches, with any re-sends, stores exactly the history, and replay of the store equals the live fold', async () => {
    const recs = HISTORY.slice(0, 200);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 12 }), fc.array(fc.boolean(), { maxLength: 12 }), fc.integer({ min: 1, max: 200 }), async (sizes, resend, at) => {
        const db = freshDb();
        let i = 0;
        let k = 0;
        while (i < recs.length) {
          const size = sizes[k % sizes.length];
          const b = recs.slice(i, i + size);
          const r = await appendEvents(db, b);
          expect(r.ok).toBe(true);
          if (resend[k]) expect(await appendEvents(db, b)).toMatchObject({ ok: true, appended: 0, duplicates: b.length });
          i += size;
          k++;
        }
        const stored = await db.events.toArray();
        expect(stored).toEqual(recs);
        for (const r of stored) expect(recordHash(r)).toBe(r.hash);
        const engine = new ReplayEngine(db, { snapshotEvery: 50 });
        const view = await engine.seek(at);
        expect(view).toEqual(replay(recs, ALL_BINDINGS, at).view);
        await db.delete();
      }),
      { numRuns: 15 },
    );
  });
});
