/**
 * The reads views make, for use inside `stateQuery` (live.svelte.ts): each is
 * a plain Dexie query, so liveQuery re-runs it when an append or a projection
 * touches what it read. Counters come from meta, never from count().
 */
import { Dexie } from 'dexie';
import type { XRecord } from '../../../../machines/events/record.ts';
import type { AppDb } from './app-db.ts';
import { readStats, readTail } from './meta.ts';
import type { StoredIncident } from './schema.ts';

/** The newest `limit` records, newest first. */
export function latestEvents(db: AppDb, limit = 100): Promise<XRecord[]> {
  return db.events.orderBy('seq').reverse().limit(limit).toArray();
}

/** One domain's records by uuid (the `[uuid+seq]` index), from `afterSeq` on, oldest first. */
export function domainTimeline(db: AppDb, uuid: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<XRecord[]> {
  return db.events
    .where('[uuid+seq]')
    .between([uuid, (opts.afterSeq ?? 0) + 1], [uuid, Dexie.maxKey], true, true)
    .limit(opts.limit ?? 500)
    .toArray();
}

/** Records whose time falls in [from, to] ms, oldest first. */
export function eventsBetween(db: AppDb, from: number, to: number, limit = 1000): Promise<XRecord[]> {
  return db.events.where('ts').between(from, to, true, true).limit(limit).toArray();
}

/** Incidents (automatic and bookmarks), newest range first. */
export async function incidentList(db: AppDb, uuid?: string): Promise<StoredIncident[]> {
  const rows = uuid ? await db.incidents.where('uuid').equals(uuid).toArray() : await db.incidents.toArray();
  return rows.sort((a, b) => b.from - a.from || a.id.localeCompare(b.id));
}

/** What the status bar shows: how much history is held and where the chain stands. */
export async function storeSummary(db: AppDb): Promise<{ count: number; firstSeq: number; tail: number; tailHash: string }> {
  const [stats, tail] = await Promise.all([readStats(db), readTail(db)]);
  return { count: stats.count, firstSeq: stats.firstSeq, tail: tail.seq, tailHash: tail.hash };
}
