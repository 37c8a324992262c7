/** Typed access to the `meta` table (chain tail, counters, host identity, retention). */
import type { Table } from 'dexie';
import { ZERO_HASH } from '../../../../machines/events/record.ts';
import type { AppDb } from './app-db.ts';
import type { MetaKey, MetaRow, MetaValues, StatsMeta, TailMeta } from './schema.ts';

export async function getMeta<K extends MetaKey>(db: AppDb | { meta: Table<MetaRow, MetaKey> }, key: K): Promise<MetaValues[K] | undefined> {
  const row = await db.meta.get(key);
  return row?.value as MetaValues[K] | undefined;
}

export async function setMeta<K extends MetaKey>(db: AppDb, key: K, value: MetaValues[K]): Promise<void> {
  await db.meta.put({ key, value });
}

export const EMPTY_TAIL: TailMeta = { seq: 0, hash: ZERO_HASH };

/** The chain's tail: what the renderer reports to the host on start (DESIGN.md section 2). */
export async function readTail(db: AppDb): Promise<TailMeta> {
  return (await getMeta(db, 'tail')) ?? EMPTY_TAIL;
}

/** Counters: records stored and where the stored chain starts. */
export async function readStats(db: AppDb): Promise<StatsMeta> {
  return (await getMeta(db, 'stats')) ?? { count: 0, firstSeq: 1, firstPrev: ZERO_HASH };
}
