// @vitest-environment node
import { afterEach, describe, expect, it } from 'vitest';
import type { XRecord } from '../../../../machines/events/record.ts';
import { ALL_BINDINGS } from '../../../../machines/host/bindings.ts';
import { replay } from '../../../../machines/host/replay.ts';
import { checkBundle } from '../../../../electron/shared/export/check.std.ts';
import { bytesLines } from '../../../../electron/shared/export/source.std.ts';
import { REDACTED_TEXT } from '../../../../electron/shared/export/history.std.ts';
import { parseCsv } from '../../../../electron/shared/export/csv.std.ts';
import { AppDb } from './app-db.ts';
import { appendEvents } from './append-event.ts';
import { exportStore } from './export-store.ts';
import { importBundle, deleteImport } from './import-bundle.ts';
import { readStats } from './meta.ts';
import { pruneObservation, redactObservation, RetentionError } from './retention.ts';
import { verifyStore } from './verify-store.ts';
import { batches, continueRecorder, sealedHistory } from './test-support.ts';
import { ReplayEngine } from '../replay/replay-engine.ts';

const HISTORY = sealedHistory(1200, { domains: 4 });
const dbs: AppDb[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) await db.delete();
});

async function liveWith(recs: readonly XRecord[]): Promise<AppDb> {
  const db = new AppDb(`test-${crypto.randomUUID()}`);
  dbs.push(db);
  for (const b of batches(recs, 400)) expect((await appendEvents(db, b)).ok).toBe(true);
  return db;
}

describe('retention (store.prune)', () => {
  it('prunes before a seq as a record: the range is summarised by its fingerprint, the chain still verifies and replays', async () => {
    const db = await liveWith(HISTORY);
    const before = 501;
    const obs = await pruneObservation(db, before, HISTORY[HISTORY.length - 1].ts);
    expect(obs.data).toEqual({ before, count: 500, first: HISTORY[0].hash, last: HISTORY[499].hash });
    const sealed = continueRecorder(HISTORY).observe(obs);
    const r = await appendEvents(db, sealed);
    expect(r).toMatchObject({ ok: true, notes: [] });
    expect(await db.events.get(500)).toBeUndefined();
    expect(await db.events.get(501)).toEqual(HISTORY[500]);
    expect(await readStats(db)).toEqual({ count: HISTORY.length - 500 + sealed.length, firstSeq: 501, firstPrev: HISTORY[499].hash });
    const v = await verifyStore(db, {}, { replay: true });
    expect(v).toMatchObject({ ok: true, from: 501 });
    // The kept history replays from the boundary snapshot to the same states.
    const e = new ReplayEngine(db);
    expect(await e.seek(900)).toEqual(replay(HISTORY, ALL_BINDINGS, 900).view);
    // Exports show it.
    const html = await (await exportStore(db, { format: 'html', selection: {} })).blob.text();
    expect(html).toContain(`seq 1..500 (500 records) pruned by seq ${sealed[0].seq}`);
    expect(html).toContain(`${HISTORY[0].hash}|${HISTORY[499].hash}|500`);
    const csv = parseCsv(await (await exportStore(db, { format: 'csv', selection: {} })).blob.text());
    expect(csv.find((row) => row[4] === 'store.prune')![5]).toMatch(/^pruned 500 records before seq 501/);
    const { result } = await exportStore(db, { format: 'jsonl', selection: {} });
    expect(result.manifest!.pruned).toEqual([{ from: 1, to: 500, count: 500, first: HISTORY[0].hash, last: HISTORY[499].hash, by: sealed[0].seq, ts: sealed[0].ts }]);
  });

  it('keeps a prune record whose summary does not match the store as history, without applying it', async () => {
    const db = await liveWith(HISTORY);
    const obs = await pruneObservation(db, 300, 1);
    (obs.data as { first: string }).first = 'e'.repeat(64);
    const r = await appendEvents(db, continueRecorder(HISTORY).observe(obs));
    expect(r.ok && r.notes[0]).toMatch(/not applied: its first hash does not match seq 1/);
    expect(await db.events.get(1)).toEqual(HISTORY[0]);
  });

  it('refuses to prepare a prune that removes nothing or runs past the tail', async () => {
    const db = await liveWith(HISTORY.slice(0, 100));
    await expect(pruneObservation(db, 1, 0)).rejects.toBeInstanceOf(RetentionError);
    await expect(pruneObservation(db, 101, 0)).rejects.toThrow(/newest record is seq 100/);
  });
});

describe('redaction (store.redact)', () => {
  const target = HISTORY.find((r) => r.type === 'xs.write' && r.seq > 10)!;

  it('redacts one field as a record; the record keeps its place and hash and the store still verifies', async () => {
    const db = await liveWith(HISTORY);
    const obs = await redactObservation(db, target.seq, 'data.value', HISTORY[HISTORY.length - 1].ts, 'contained a password');
    const sealed = continueRecorder(HISTORY).observe(obs);
    expect((await appendEvents(db, sealed)).ok).toBe(true);
    const stored = (await db.events.get(target.seq))!;
    expect((stored.data as { value: string }).value).toBe(REDACTED_TEXT);
    expect(stored.hash).toBe(target.hash);
    expect(stored.prev).toBe(target.prev);
    expect(await verifyStore(db)).toMatchObject({ ok: true });
    // The redaction travels with an export: the bundle checks and re-imports.
    const { blob, result } = await exportStore(db, { format: 'jsonl', selection: {} });
    expect(result.manifest!.redactions).toEqual([{ seq: target.seq, field: 'data.value', by: sealed[0].seq, reason: 'contained a password' }]);
    const checked = await checkBundle(bytesLines(blob));
    expect(checked.fingerprint).toBe(result.fingerprint);
    const imp = await importBundle(blob);
    expect(await verifyStore(imp.db)).toMatchObject({ ok: true, fingerprint: result.fingerprint });
    imp.db.close();
    await deleteImport(imp.name);
  });

  it('a changed record that no redaction names fails verification, in the store and in a bundle', async () => {
    const db = await liveWith(HISTORY);
    const text = (await (await exportStore(db, { format: 'jsonl', selection: {} })).blob.text()).split('\n');
    const i = target.seq; // line i+1 holds seq i
    text[i] = text[i].replace(/"value":"[^"]*"/, `"value":"${REDACTED_TEXT}"`);
    await expect(checkBundle(bytesLines(new TextEncoder().encode(text.join('\n'))))).rejects.toThrow(new RegExp(`^line ${i + 1}: seq ${target.seq}: hash does not match`));
    // Someone edits the store behind append-event's back: verify says where.
    await db.events.put({ ...target, data: { ...target.data, value: REDACTED_TEXT } });
    const v = await verifyStore(db);
    expect(v).toMatchObject({ ok: false, problem: { seq: target.seq } });
    expect(v.problem!.message).toMatch(/hash does not match the record's content/);
  });

  it('refuses to redact what cannot be redacted', async () => {
    const db = await liveWith(HISTORY.slice(0, 50));
    const dom = HISTORY.slice(0, 50).find((r) => r.type === 'xs.introduce')!;
    await expect(redactObservation(db, dom.seq, 'data.domid', 0)).rejects.toThrow(/only text and object fields can be redacted/);
    await expect(redactObservation(db, 5, 'seq', 0)).rejects.toThrow(/dotted path under data/);
    await expect(redactObservation(db, 500, 'data.value', 0)).rejects.toThrow(/not stored/);
  });
});
