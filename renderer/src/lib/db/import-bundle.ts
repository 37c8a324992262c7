/**
 * Opening a bundle: into a separate, read-only store (one IndexedDB database
 * per import, never mixed into live history). The whole bundle is checked
 * first (manifest, schema, order, gaps, duplicates, the hash chain, the end
 * the manifest promised); on any failure the error names the line and no
 * database is created. Only then is it written, through append-event like any
 * history, and sealed read-only.
 */
import { Dexie } from 'dexie';
import { checkBundle, type CheckedBundle } from '../../../../electron/shared/export/check.std.ts';
import type { ExportManifest } from '../../../../electron/shared/export/export.std.ts';
import { bytesLines, type RunOptions } from '../../../../electron/shared/export/source.std.ts';
import type { Sha256Hex } from '../../../../machines/events/hash.ts';
import type { XRecord } from '../../../../machines/events/record.ts';
import { AppDb } from './app-db.ts';
import { appendEvents } from './append-event.ts';

export const IMPORT_PREFIX = 'xendeck-import-';
const BATCH = 1000;

export interface ImportedStore {
  name: string;
  db: AppDb;
  manifest: ExportManifest;
  fingerprint: string;
  records: number;
}

export type BundleInput = Blob | Uint8Array | (() => AsyncIterable<string>);

function linesOf(input: BundleInput): AsyncIterable<string> {
  return typeof input === 'function' ? input() : bytesLines(input);
}

let importCounter = 0;

/** Check, then import a bundle into its own read-only store. Throws BundleError (with the line) before writing anything. */
export async function importBundle(input: BundleInput, opts: RunOptions & { name?: string; source?: string; digest?: Sha256Hex; now?: () => string } = {}): Promise<ImportedStore> {
  const checked: CheckedBundle = await checkBundle(linesOf(input), opts);
  const m = checked.manifest;
  const name = opts.name ?? `${IMPORT_PREFIX}${(m.last ?? 'empty').slice(0, 12)}-${Date.now().toString(36)}-${++importCounter}`;
  if (await Dexie.exists(name)) throw new Error(`a store named ${name} already exists`);
  const db = new AppDb(name);
  try {
    await db.open();
    if (checked.snapshot) await db.snapshots.put({ seq: checked.snapshot.seq, ts: 0, machines: checked.snapshot.machines, state: checked.snapshot.state });
    let batch: XRecord[] = [];
    const flush = async () => {
      const r = await appendEvents(db, batch, { anchor: { seq: m.from, prev: m.prev }, importing: true, checkHashes: false });
      if (!r.ok) throw new Error(`import: ${r.refusal.message}`);
      batch = [];
    };
    // Second pass: the bundle has been checked whole; this one writes. Bytes cannot change in between, so
    // their hashes are not recomputed; lines from a function are checked again in full.
    await checkBundle(linesOf(input), {
      digest: opts.digest,
      signal: opts.signal,
      hashesChecked: typeof input !== 'function',
      onRecord: async (rec) => {
        batch.push(rec);
        if (batch.length >= BATCH) await flush();
      },
    });
    if (batch.length) await flush();
    await db.meta.bulkPut([
      { key: 'host', value: m.host },
      { key: 'pruned', value: m.pruned ?? [] },
      { key: 'redactions', value: m.redactions ?? [] },
      { key: 'readOnly', value: { manifest: m, importedAt: opts.now ? opts.now() : new Date().toISOString(), source: opts.source ?? 'bundle' } },
    ]);
    return { name, db, manifest: m, fingerprint: checked.fingerprint, records: checked.records };
  } catch (e) {
    db.close();
    await Dexie.delete(name);
    throw e;
  }
}

/** Names of the stores opened from bundles. */
export async function listImports(): Promise<string[]> {
  return (await Dexie.getDatabaseNames()).filter((n) => n.startsWith(IMPORT_PREFIX));
}

/** Forget an imported store. */
export async function deleteImport(name: string): Promise<void> {
  if (!name.startsWith(IMPORT_PREFIX)) throw new Error(`${name} is not an imported store`);
  await Dexie.delete(name);
}
