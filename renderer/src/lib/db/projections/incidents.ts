/**
 * Incidents: the automatic ones are a projection (the host router's rules over
 * the stored history, exactly what `xendeck incidents` prints) and can be
 * rebuilt at any time; bookmarks a person made are kept beside them with notes.
 */
import type { Incident } from '../../../../../machines/host/router.ts';
import { ReplayEngine } from '../../replay/replay-engine.ts';
import type { AppDb } from '../app-db.ts';
import type { StoredIncident } from '../schema.ts';

export function autoIncidentId(i: Incident): string {
  return `auto:${i.kind}:${i.actor}:${i.from}`;
}

/** Recompute the automatic incidents over the whole store and replace the stored ones. Returns them. */
export async function rebuildIncidents(db: AppDb, engine: ReplayEngine = new ReplayEngine(db)): Promise<StoredIncident[]> {
  const found = await engine.incidents();
  let rows: StoredIncident[] = found.map((i) => ({ id: autoIncidentId(i), source: 'auto', kind: i.kind, actor: i.actor, uuid: i.uuid, from: i.from, to: i.to, ts: i.ts, summary: i.summary }));
  await db.transaction('rw', db.incidents, async () => {
    // A person's notes on detected incidents outlive the rebuild.
    const notes = new Map<string, string>();
    await db.incidents.where('source').equals('auto').each((i) => void (i.note && notes.set(i.id, i.note)));
    rows = rows.map((r) => (notes.has(r.id) ? { ...r, note: notes.get(r.id)! } : r));
    await db.incidents.where('source').equals('auto').delete();
    await db.incidents.bulkPut(rows);
  });
  return rows;
}

let bookmarkCounter = 0;

/** A person's bookmark over a seq range, with a note. */
export async function addBookmark(db: AppDb, b: { from: number; to: number; ts: number; uuid?: string; summary: string; note?: string }): Promise<StoredIncident> {
  const row: StoredIncident = {
    id: `person:${b.ts}:${++bookmarkCounter}`,
    source: 'person',
    kind: 'bookmark',
    actor: 'person',
    uuid: b.uuid ?? '',
    from: b.from,
    to: b.to,
    ts: b.ts,
    summary: b.summary,
    ...(b.note ? { note: b.note } : {}),
  };
  await db.incidents.add(row);
  return row;
}

/** Set or clear the note of an incident (automatic or bookmark). */
export async function setIncidentNote(db: AppDb, id: string, note: string): Promise<void> {
  const n = await db.incidents.update(id, note ? { note } : { note: undefined });
  if (n === 0) throw new Error(`no incident ${id}`);
}
