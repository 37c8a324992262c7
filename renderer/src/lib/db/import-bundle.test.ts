// @vitest-environment node
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dexie } from 'dexie';
import { BundleError } from '../../../../machines/events/bundle.ts';
import { ALL_BINDINGS } from '../../../../machines/host/bindings.ts';
import { replay } from '../../../../machines/host/replay.ts';
import { AppDb } from './app-db.ts';
import { appendEvents } from './append-event.ts';
import { exportStore } from './export-store.ts';
import { importBundle, listImports, deleteImport } from './import-bundle.ts';
import { verifyStore } from './verify-store.ts';
import { batches, sealedHistory } from './test-support.ts';
import { ReplayClient, inPageTransport } from '../replay/replay-client.ts';
import { ReplayEngine } from '../replay/replay-engine.ts';

const HISTORY = sealedHistory(2000, { domains: 6 });
let live: AppDb;
let bundle: string;

async function liveState(db: AppDb) {
  return { events: await db.events.toArray(), meta: await db.meta.toArray() };
}

beforeAll(async () => {
  live = new AppDb(`test-${crypto.randomUUID()}`);
  for (const b of batches(HISTORY, 500)) expect((await appendEvents(live, b)).ok).toBe(true);
  bundle = await (await exportStore(live, { format: 'jsonl', selection: { seqFrom: 600, seqTo: 1500 } })).blob.text();
});
afterAll(async () => {
  await live.delete();
  for (const n of await listImports()) await deleteImport(n);
});

describe('importBundle', () => {
  it('opens an exported range into its own read-only store that verifies and replays like the live store', async () => {
    const { blob, result } = await exportStore(live, { format: 'jsonl', selection: { seqFrom: 600, seqTo: 1500 }, gzip: true });
    const imp = await importBundle(blob, { source: 'test' });
    expect(imp.name).not.toBe(live.name);
    expect(imp.fingerprint).toBe(result.fingerprint);
    expect(imp.records).toBe(result.count);
    const v = await verifyStore(imp.db, {}, { replay: true });
    expect(v).toMatchObject({ ok: true, fingerprint: result.fingerprint, replay: { checked: true } });
    expect(await appendEvents(imp.db, HISTORY.slice(1500, 1510))).toMatchObject({ ok: false, refusal: { kind: 'read-only' } });

    const { client, view } = await ReplayClient.open(imp.name, { transport: inPageTransport() });
    expect(client.paused).toBe(true);
    expect(view.seq).toBe(result.from);
    const liveEngine = new ReplayEngine(live);
    for (const at of [result.from, result.from + 137, 1000, result.to]) {
      const a = await client.seek(at);
      expect(a).toEqual(await liveEngine.seek(at));
      expect(a).toEqual(replay(HISTORY, ALL_BINDINGS, at).view);
    }
    await client.close();
    imp.db.close();
  });

  const lines = () => bundle.trimEnd().split('\n');
  const cases: [string, (ls: string[]) => string[], RegExp][] = [
    ['tampered', (ls) => ((ls[40] = ls[40].replace(/"ts":(\d+)/, (_, n) => `"ts":${Number(n) + 5}`)), ls), /^line 41: seq \d+: hash does not match/],
    ['truncated', (ls) => ls.slice(0, 300), /^line 301: bundle ends early: 299 of \d+ records/],
    ['reordered', (ls) => ([ls[100], ls[101]] = [ls[101], ls[100]], ls), /^line 101: found seq \d+ where \d+ was expected/],
    ['duplicated', (ls) => (ls.splice(51, 0, ls[50]), ls), /^line 52: found seq \d+ where \d+ was expected: record out of order or repeated/],
    ['wrong version', (ls) => ((ls[0] = ls[0].replace('"version":1', '"version":7')), ls), /^line 1: bad manifest: version: expected 1/],
  ];
  for (const [name, cut, why] of cases) {
    it(`rejects a ${name} bundle with a reason that names the line, and writes nothing`, async () => {
      const before = await liveState(live);
      const stores = await Dexie.getDatabaseNames();
      const text = cut(lines()).join('\n') + '\n';
      const err = await importBundle(new TextEncoder().encode(text)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BundleError);
      expect((err as Error).message).toMatch(why);
      expect(await Dexie.getDatabaseNames()).toEqual(stores);
      expect(await liveState(live)).toEqual(before);
    });
  }

  it('checks the whole bundle before creating the store (a problem on the last line leaves nothing)', async () => {
    const ls = lines();
    ls[ls.length - 1] = ls[ls.length - 1].replace(/"hash":"([0-9a-f])/, (_, c) => `"hash":"${c === 'a' ? 'b' : 'a'}`);
    const stores = await Dexie.getDatabaseNames();
    await expect(importBundle(new TextEncoder().encode(ls.join('\n')), { name: 'xendeck-import-last-line' })).rejects.toThrow(new RegExp(`^line ${ls.length}: `));
    expect(await Dexie.getDatabaseNames()).toEqual(stores);
    expect(await Dexie.exists('xendeck-import-last-line')).toBe(false);
  });
});
