/**
 * Audit jobs: export (format, range, domain or incident; progress; cancel;
 * the fingerprint to note elsewhere), import of a bundle into a read-only
 * store, and verify (pass/fail, and where the chain breaks). Each job is a
 * small state machine in fields: idle → running → done | failed | cancelled.
 */
import type { ExportFormat, ExportResult } from '../../../../electron/shared/export/export.std.ts';
import type { Selection } from '../../../../electron/shared/export/select.std.ts';
import type { Progress } from '../../../../electron/shared/export/source.std.ts';
import type { VerifyResult } from '../../../../electron/shared/export/check.std.ts';
import type { AppDb } from '../db/app-db.ts';
import { exportStore } from '../db/export-store.ts';
import { importBundle, type ImportedStore } from '../db/import-bundle.ts';
import { verifyStore } from '../db/verify-store.ts';

export type JobPhase = 'idle' | 'running' | 'done' | 'failed' | 'cancelled';

export interface ExportForm {
  format: ExportFormat;
  gzip: boolean;
  /** '' = whole history. */
  domain: string;
  seqFrom: string;
  seqTo: string;
  /** Time range as datetime-local values ('' = open). */
  timeFrom: string;
  timeTo: string;
  /** id of a stored incident, '' = none. */
  incident: string;
}

export function emptyExportForm(): ExportForm {
  return { format: 'jsonl', gzip: false, domain: '', seqFrom: '', seqTo: '', timeFrom: '', timeTo: '', incident: '' };
}

/** The export's selection from the form; throws a message a person can act on. */
export function selectionOf(form: ExportForm, incidents: { id: string; kind: string; from: number; to: number; summary: string }[]): Selection {
  const sel: Selection = {};
  const num = (v: string, name: string) => {
    if (!/^\d+$/.test(v.trim())) throw new Error(`${name} must be a record number (digits only), found "${v}"`);
    return Number(v.trim());
  };
  if (form.seqFrom.trim()) sel.seqFrom = num(form.seqFrom, 'From');
  if (form.seqTo.trim()) sel.seqTo = num(form.seqTo, 'To');
  if (sel.seqFrom !== undefined && sel.seqTo !== undefined && sel.seqFrom > sel.seqTo) throw new Error(`From (${sel.seqFrom}) is after To (${sel.seqTo}): swap them`);
  const time = (v: string, name: string) => {
    const t = new Date(v).getTime();
    if (!Number.isFinite(t)) throw new Error(`${name} is not a date and time: "${v}"`);
    return t;
  };
  if (form.timeFrom) sel.tsFrom = time(form.timeFrom, 'From (time)');
  if (form.timeTo) sel.tsTo = time(form.timeTo, 'To (time)');
  if (sel.tsFrom !== undefined && sel.tsTo !== undefined && sel.tsFrom > sel.tsTo) throw new Error('the time range ends before it starts: swap them');
  if (form.domain.trim()) sel.domain = form.domain.trim();
  if (form.incident) {
    const i = incidents.find((x) => x.id === form.incident);
    if (!i) throw new Error('that incident is no longer in the store: pick another');
    sel.incident = { id: i.id, kind: i.kind, from: i.from, to: i.to, summary: i.summary };
  }
  return sel;
}

export function fileNameOf(r: ExportResult, gzip: boolean): string {
  const ext = r.format === 'jsonl' ? (gzip ? 'jsonl.gz' : 'jsonl') : r.format;
  return `xendeck-${r.from}-${r.to}.${ext}`;
}

abstract class Job<T> {
  phase = $state<JobPhase>('idle');
  progress = $state.raw<Progress | null>(null);
  error = $state<string | undefined>(undefined);
  result = $state.raw<T | null>(null);
  private ctrl: AbortController | null = null;

  get fraction(): number {
    const p = this.progress;
    return p && p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  }

  protected async run(fn: (signal: AbortSignal, onProgress: (p: Progress) => void) => Promise<T>): Promise<T | null> {
    this.ctrl?.abort();
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    this.phase = 'running';
    this.error = undefined;
    this.result = null;
    this.progress = null;
    try {
      const r = await fn(ctrl.signal, (p) => {
        if (this.ctrl === ctrl) this.progress = p;
      });
      if (this.ctrl !== ctrl) return null;
      this.result = r;
      this.phase = 'done';
      return r;
    } catch (e) {
      if (this.ctrl !== ctrl) return null;
      if (ctrl.signal.aborted || (e as Error).name === 'AbortError') this.phase = 'cancelled';
      else {
        this.phase = 'failed';
        this.error = (e as Error).message;
      }
      return null;
    } finally {
      if (this.ctrl === ctrl) this.ctrl = null;
    }
  }

  cancel(): void {
    this.ctrl?.abort();
  }

  reset(): void {
    this.ctrl?.abort();
    this.ctrl = null;
    this.phase = 'idle';
    this.progress = null;
    this.error = undefined;
    this.result = null;
  }
}

export class ExportJob extends Job<{ result: ExportResult; blob: Blob; fileName: string }> {
  start(db: AppDb, req: { format: ExportFormat; selection: Selection; gzip: boolean }) {
    return this.run(async (signal, onProgress) => {
      const { blob, result } = await exportStore(db, { format: req.format, selection: req.selection, gzip: req.gzip && req.format === 'jsonl' }, { signal, onProgress, every: 500 });
      return { blob, result, fileName: fileNameOf(result, req.gzip && req.format === 'jsonl') };
    });
  }
}

export class ImportJob extends Job<ImportedStore> {
  start(file: Blob & { name?: string }) {
    return this.run((signal, onProgress) => importBundle(file, { signal, onProgress, source: file.name ?? 'bundle' }));
  }
}

export class VerifyJob extends Job<VerifyResult> {
  start(db: AppDb, opts: { replay?: boolean } = {}) {
    return this.run((signal, onProgress) => verifyStore(db, {}, { signal, onProgress, replay: opts.replay ?? true }));
  }
}
