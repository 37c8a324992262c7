import { afterEach, describe, expect, it } from 'vitest';
import { Dexie } from 'dexie';
import { AppDb } from '../db/app-db.ts';
import { appendEvents } from '../db/append-event.ts';
import { goldenRecords } from '../testing/bundles.ts';
import { ExportJob, ImportJob, VerifyJob, emptyExportForm, fileNameOf, selectionOf } from './audit.svelte.ts';

const dbs: string[] = [];
async function store(): Promise<AppDb> {
  const db = new AppDb(`test-${crypto.randomUUID()}`);
  dbs.push(db.name);
  await appendEvents(db, goldenRecords('soft-reset'));
  return db;
}
afterEach(async () => {
  for (const n of dbs.splice(0)) await Dexie.delete(n);
});

describe('export form', () => {
  const incidents = [{ id: 'auto:soft-reset:x:29', kind: 'soft-reset', from: 29, to: 63, summary: 'kx soft reset' }];
  it('turns the form into a selection', () => {
    expect(selectionOf(emptyExportForm(), incidents)).toEqual({});
    expect(selectionOf({ ...emptyExportForm(), seqFrom: '3', seqTo: ' 9 ', domain: 'kx' }, incidents)).toEqual({ seqFrom: 3, seqTo: 9, domain: 'kx' });
    expect(selectionOf({ ...emptyExportForm(), incident: incidents[0].id }, incidents).incident).toEqual({ id: incidents[0].id, kind: 'soft-reset', from: 29, to: 63, summary: 'kx soft reset' });
  });
  it('says what is wrong with a form', () => {
    expect(() => selectionOf({ ...emptyExportForm(), seqFrom: 'ten' }, [])).toThrow(/From must be a record number/);
    expect(() => selectionOf({ ...emptyExportForm(), seqFrom: '9', seqTo: '3' }, [])).toThrow(/after To .*swap/);
    expect(() => selectionOf({ ...emptyExportForm(), incident: 'gone' }, [])).toThrow(/no longer in the store/);
    expect(() => selectionOf({ ...emptyExportForm(), timeFrom: '2026-11-21T10:00', timeTo: '2026-11-21T09:00' }, [])).toThrow(/ends before it starts/);
  });
  it('takes a time range', () => {
    const s = selectionOf({ ...emptyExportForm(), timeFrom: '2026-11-21T10:00:00', timeTo: '2026-11-21T10:05:00' }, []);
    expect(s.tsTo! - s.tsFrom!).toBe(5 * 60 * 1000);
  });
});

describe('audit jobs', () => {
  it('exports a bundle with progress and its fingerprint, which re-imports read-only and verifies', async () => {
    const db = await store();
    const exp = new ExportJob();
    const seen: number[] = [];
    const done = exp.start(db, { format: 'jsonl', selection: {}, gzip: false });
    expect(exp.phase).toBe('running');
    const r = await done;
    expect(exp.phase).toBe('done');
    expect(r!.result.count).toBe(74);
    expect(r!.result.fingerprint).toBe(`${goldenRecords('soft-reset')[0].hash}|${goldenRecords('soft-reset')[73].hash}|74`);
    expect(r!.fileName).toBe('xendeck-1-74.jsonl');
    seen.push(exp.fraction);

    const imp = new ImportJob();
    const store2 = await imp.start(r!.blob);
    expect(imp.phase).toBe('done');
    dbs.push(store2!.name);
    expect(store2!.fingerprint).toBe(r!.result.fingerprint);
    const ver = new VerifyJob();
    const v = await ver.start(store2!.db);
    expect(ver.phase).toBe('done');
    expect(v!.ok).toBe(true);
    expect(v!.fingerprint).toBe(r!.result.fingerprint);
    store2!.db.close();
  });

  it('an altered bundle is refused at import, naming the line; nothing is stored', async () => {
    const db = await store();
    const r = await new ExportJob().start(db, { format: 'jsonl', selection: {}, gzip: false });
    const lines = (await r!.blob.text()).trim().split('\n');
    const rec = JSON.parse(lines[20]);
    rec.data = { ...rec.data, value: 'tampered' };
    lines[20] = JSON.stringify(rec);
    const imp = new ImportJob();
    const got = await imp.start(new Blob([lines.join('\n') + '\n']));
    expect(got).toBeNull();
    expect(imp.phase).toBe('failed');
    expect(imp.error).toMatch(/line 21/);
  });

  it('verify of a store whose record was changed fails, naming the record where the chain breaks', async () => {
    const db = await store();
    const r = (await db.events.get(30))!;
    // Outside append-event on purpose: this is the damage verify exists to find.
    await db.events.put({ ...r, data: { ...r.data, value: 'changed' } });
    const ver = new VerifyJob();
    const v = await ver.start(db, { replay: false });
    expect(ver.phase).toBe('done');
    expect(v!.ok).toBe(false);
    expect(v!.problem!.seq).toBe(30);
    expect(v!.problem!.message).toMatch(/hash/);
  });

  it('a cancelled export ends cancelled, with no result', async () => {
    const db = await store();
    const exp = new ExportJob();
    const p = exp.start(db, { format: 'csv', selection: {}, gzip: false });
    exp.cancel();
    expect(await p).toBeNull();
    expect(exp.phase).toBe('cancelled');
    expect(exp.result).toBeNull();
  });

  it('names exported files by range and format', () => {
    expect(fileNameOf({ format: 'jsonl', from: 3, to: 9, count: 7, rows: 7, fingerprint: '' }, true)).toBe('xendeck-3-9.jsonl.gz');
    expect(fileNameOf({ format: 'html', from: 1, to: 2, count: 2, rows: 2, fingerprint: '' }, false)).toBe('xendeck-1-2.html');
  });
});
