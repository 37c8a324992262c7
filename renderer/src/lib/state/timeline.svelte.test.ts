import { afterEach, describe, expect, it } from 'vitest';
import { AppDb } from '../db/app-db.ts';
import { appendEvents } from '../db/append-event.ts';
import { goldenRecords } from '../testing/bundles.ts';
import { TimelineState } from './timeline.svelte.ts';

const dbs: AppDb[] = [];
async function storeWith(n?: number): Promise<AppDb> {
  const db = new AppDb(`test-${crypto.randomUUID()}`);
  dbs.push(db);
  const recs = goldenRecords('soft-reset');
  await appendEvents(db, n === undefined ? recs : recs.slice(0, n));
  return db;
}
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.delete();
});

describe('TimelineState: rows by index over the store', () => {
  it('without a filter, row i is seq first + i, and rows are read on demand', async () => {
    const tl = new TimelineState(await storeWith());
    await tl.load();
    expect(tl.count).toBe(74);
    expect(tl.seqAt(0)).toBe(1);
    expect(tl.seqAt(73)).toBe(74);
    expect(tl.seqAt(74)).toBeUndefined();
    expect(tl.row(10)).toBeUndefined();
    await tl.ensure(5, 15);
    expect(tl.row(10)?.seq).toBe(11);
    expect(tl.indexOf(50)).toBe(49);
  });

  it('a filter scans the store and keeps only matching seqs; clearing it restores every row', async () => {
    const tl = new TimelineState(await storeWith());
    await tl.load();
    await tl.setFilter({ types: ['dominfo'] });
    expect(tl.filtered).toBe(true);
    expect(tl.scanning).toBe(false);
    expect(tl.count).toBeGreaterThan(0);
    expect(tl.count).toBeLessThan(74);
    await tl.ensure(0, tl.count);
    for (let i = 0; i < tl.count; i++) expect(tl.row(i)?.type).toBe('dominfo');
    const first = tl.seqAt(0)!;
    expect(tl.indexOf(first)).toBe(0);
    await tl.setFilter({});
    expect(tl.filtered).toBe(false);
    expect(tl.count).toBe(74);
  });

  it('new records extend the rows, filtered or not', async () => {
    const all = goldenRecords('soft-reset');
    const db = await storeWith(40);
    const tl = new TimelineState(db);
    await tl.load();
    expect(tl.count).toBe(40);
    await appendEvents(db, all.slice(40));
    tl.append(all.slice(40));
    expect(tl.count).toBe(74);
    expect(tl.row(73)?.seq).toBe(74);

    const tl2 = new TimelineState(db);
    await tl2.setFilter({ types: ['xs.write'] });
    const before = tl2.count;
    tl2.append([{ ...all[0], seq: 75, type: 'xs.write' }, { ...all[0], seq: 76, type: 'dominfo' }]);
    expect(tl2.count).toBe(before + 1);
    expect(tl2.seqAt(before)).toBe(75);
  });

  it('one expanded row at a time; opening one stops following the newest records', () => {
    const tl = new TimelineState(new AppDb(`test-${crypto.randomUUID()}`));
    expect(tl.follow).toBe(true);
    tl.toggle(5);
    expect(tl.expanded).toBe(5);
    expect(tl.follow).toBe(false);
    tl.toggle(7);
    expect(tl.expanded).toBe(7);
    tl.toggle(7);
    expect(tl.expanded).toBeNull();
  });
});
