/**
 * Exports from the store: the shared export code (the same `xendeck export`
 * runs) over the store as a RecordSource. A bundle can be gzipped through
 * CompressionStream; progress and an AbortSignal come with RunOptions.
 */
import { exportHistory, type ExportFormat, type ExportResult } from '../../../../electron/shared/export/export.std.ts';
import type { Selection } from '../../../../electron/shared/export/select.std.ts';
import { gzipSink, StringSink, type RunOptions } from '../../../../electron/shared/export/source.std.ts';
import { machineVersions } from '../../../../machines/host/bindings.ts';
import type { AppDb } from './app-db.ts';
import { storeSource } from './store-source.ts';

const TYPES: Record<ExportFormat, string> = { jsonl: 'application/x-ndjson', csv: 'text/csv', html: 'text/html' };

/** Export a selection as a Blob (bundle gzipped when `gzip`), with the export's summary. */
export async function exportStore(
  db: AppDb,
  req: { format: ExportFormat; selection: Selection; gzip?: boolean; title?: string; created?: string },
  opts: RunOptions = {},
): Promise<{ blob: Blob; result: ExportResult }> {
  const created = req.created ?? new Date().toISOString();
  const src = storeSource(db);
  if (req.gzip) {
    const sink = gzipSink();
    const result = await exportHistory(src, { format: req.format, selection: req.selection, created, machines: machineVersions(), sink, ...(req.title ? { title: req.title } : {}) }, opts);
    return { blob: new Blob([(await sink.close()) as Uint8Array<ArrayBuffer>], { type: 'application/gzip' }), result };
  }
  const sink = new StringSink();
  const result = await exportHistory(src, { format: req.format, selection: req.selection, created, machines: machineVersions(), sink, ...(req.title ? { title: req.title } : {}) }, opts);
  return { blob: new Blob([sink.text()], { type: TYPES[req.format] }), result };
}
