/**
 * The renderer's IndexedDB, the store of record (DESIGN.md section 2). The db
 * name is a constructor argument: the live store is `xendeck`, every imported
 * bundle gets its own read-only store, and tests use a fresh name each.
 */
import { Dexie, type EntityTable } from 'dexie';
import type { MetaRow, StoredEvent, StoredIncident, StoredSnapshot } from './schema.ts';

export const LIVE_DB_NAME = 'xendeck';

export class AppDb extends Dexie {
  events!: EntityTable<StoredEvent, 'seq'>;
  snapshots!: EntityTable<StoredSnapshot, 'seq'>;
  incidents!: EntityTable<StoredIncident, 'id'>;
  meta!: EntityTable<MetaRow, 'key'>;

  constructor(name: string = LIVE_DB_NAME) {
    super(name);
    // Versions, oldest first. Keep a version only while an upgrade() still needs it.
    // 2026-11-21 v1: events keyed by the host's seq with time, type and per-domain indexes;
    // snapshots by seq; incidents by id with range and domain indexes; meta as key → value.
    this.version(1).stores({
      events: 'seq, ts, type, uuid, [uuid+seq]',
      snapshots: 'seq',
      incidents: 'id, source, from, uuid',
      meta: 'key',
    });
  }
}
