import { afterEach, describe, expect, it } from 'vitest';
import { flushSync } from 'svelte';
import { AppDb } from './app-db.ts';
import { appendEvents } from './append-event.ts';
import { stateQuery } from './live.svelte.ts';
import { sealedHistory } from './test-support.ts';

const dbs: AppDb[] = [];
function freshDb(): AppDb {
  const db = new AppDb(`test-${crypto.randomUUID()}`);
  dbs.push(db);
  return db;
}
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.delete();
});

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    flushSync();
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('stateQuery (live.svelte.ts)', () => {
  it('a subscribed view updates after an append (Dexie #2231)', async () => {
    const db = freshDb();
    const recs = sealedHistory(20);
    await appendEvents(db, recs.slice(0, 10));
    let q!: ReturnType<typeof stateQuery<number>>;
    const stop = $effect.root(() => {
      q = stateQuery(() => db.events.count());
    });
    expect(q.isLoading).toBe(true);
    expect(q.current).toBeUndefined();
    await until(() => q.current === 10, 'the first result');
    expect(q.isLoading).toBe(false);
    const r = await appendEvents(db, recs.slice(10));
    expect(r.ok).toBe(true);
    await until(() => q.current === recs.length, 'the update after the append');
    expect(q.current).toBe(recs.length);
    stop();
  });

  it('re-subscribes when a dependency changes and reports query errors', async () => {
    const db = freshDb();
    const recs = sealedHistory(30);
    await appendEvents(db, recs);
    const box = $state({ upTo: 5 });
    let q!: ReturnType<typeof stateQuery<number>>;
    let bad!: ReturnType<typeof stateQuery<number>>;
    const stop = $effect.root(() => {
      q = stateQuery(
        () => db.events.where('seq').belowOrEqual(box.upTo).count(),
        () => box.upTo,
      );
      bad = stateQuery(() => Promise.reject(new Error('no such view')));
    });
    await until(() => q.current === 5, 'the first count');
    box.upTo = 12;
    await until(() => q.current === 12, 'the count after the dependency changed');
    await until(() => bad.error !== undefined, 'the error');
    expect((bad.error as Error).message).toBe('no such view');
    expect(bad.isLoading).toBe(false);
    stop();
  });
});
