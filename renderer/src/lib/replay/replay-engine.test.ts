import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Dexie } from 'dexie';
import { ALL_BINDINGS } from '../../../../machines/host/bindings.ts';
import { replay, Replayer } from '../../../../machines/host/replay.ts';
import { AppDb } from '../db/app-db.ts';
import { appendEvents } from '../db/append-event.ts';
import { batches, sealedHistory } from '../db/test-support.ts';
import { rebuildIncidents } from '../db/projections/incidents.ts';
import { rebuildSnapshots, updateSnapshots } from '../db/projections/snapshots.ts';
import { ReplayEngine } from './replay-engine.ts';
import { ReplayClient, inPageTransport } from './replay-client.ts';

const HISTORY = sealedHistory(3000, { domains: 6 });
const N = HISTORY.length;
let db: AppDb;

beforeAll(async () => {
  db = new AppDb(`test-${crypto.randomUUID()}`);
  for (const b of batches(HISTORY, 500)) expect((await appendEvents(db, b)).ok).toBe(true);
});
afterAll(async () => {
  await db.delete();
});

describe('ReplayEngine', () => {
  it('seeks to any seq from the nearest snapshot, with the same state as a full replay', async () => {
    const writer = new ReplayEngine(db, { snapshotEvery: 250 });
    await writer.seek(N);
    const snaps = (await db.snapshots.toArray()).map((s) => s.seq);
    expect(snaps).toEqual(Array.from({ length: Math.floor(N / 250) }, (_, i) => (i + 1) * 250));
    for (const at of [1, 249, 250, 1234, 2001, N]) {
      const fresh = new ReplayEngine(db, { snapshotEvery: 250 });
      const view = await fresh.seek(at);
      expect(fresh.lastFold).toBeLessThan(250);
      expect(view).toEqual(replay(HISTORY, ALL_BINDINGS, at).view);
    }
  });

  it('steps forward and back one record at a time', async () => {
    const e = new ReplayEngine(db, { snapshotEvery: 250 });
    await e.seek(1500);
    const fwd = await e.step(1);
    expect(fwd.seq).toBe(1501);
    expect(fwd).toEqual(replay(HISTORY, ALL_BINDINGS, 1501).view);
    expect(e.lastFold).toBe(1);
    const back = await e.step(-2);
    expect(back.seq).toBe(1499);
    expect(back).toEqual(replay(HISTORY, ALL_BINDINGS, 1499).view);
    expect((await e.seek(N + 50)).seq).toBe(N);
    expect((await e.seek(-3)).seq).toBe(0);
  });

  it('gives the state diff between two seqs', async () => {
    const e = new ReplayEngine(db);
    const a = 100;
    const b = 400;
    const d = await e.diff(a, b);
    const va = replay(HISTORY, ALL_BINDINGS, a).view;
    const vb = replay(HISTORY, ALL_BINDINGS, b).view;
    const stateOf = (v: typeof va, id: string) => v.actors.find((x) => x.id === id)?.state ?? '';
    expect(d.changes.length).toBeGreaterThan(0);
    for (const c of d.changes) {
      expect(c.before).toBe(stateOf(va, c.id));
      expect(c.after).toBe(stateOf(vb, c.id));
    }
    const changedIds = new Set(d.changes.map((c) => c.id));
    for (const x of vb.actors) if (!changedIds.has(x.id)) expect(stateOf(va, x.id)).toBe(x.state);
  });

  it('recomputes incidents by the same rules as the CLI, into the incidents table', async () => {
    const cli = new Replayer(ALL_BINDINGS, undefined, { keepTransitions: false, checkTransitions: false });
    for (const r of HISTORY) cli.push(r);
    expect(cli.router.incidents.length).toBeGreaterThan(0);
    const rows = await rebuildIncidents(db);
    expect(rows.map(({ kind, actor, uuid, from, to, ts, summary }) => ({ kind, actor, uuid, from, to, ts, summary }))).toEqual(cli.router.incidents);
    expect(await db.incidents.where('source').equals('auto').count()).toBe(cli.router.incidents.length);
    // Rebuilding replaces, never duplicates.
    await rebuildIncidents(db);
    expect(await db.incidents.count()).toBe(cli.router.incidents.length);
  });

  it('rebuilds snapshots from the events', async () => {
    await db.snapshots.clear();
    expect(await updateSnapshots(db, 1000)).toBe(Math.floor(N / 1000));
    expect(await rebuildSnapshots(db, 500)).toBeGreaterThanOrEqual(Math.floor(N / 500));
  });
});

describe('ReplayClient', () => {
  it('opens paused at the first record and seeks, steps and diffs through the session', async () => {
    const { client, view } = await ReplayClient.open(db.name, { transport: inPageTransport() });
    expect(client.paused).toBe(true);
    expect(view.seq).toBe(1);
    expect(client.position).toBe(1);
    expect(client.bounds).toEqual({ from: 1, to: N });
    expect(await client.seek(800)).toEqual(replay(HISTORY, ALL_BINDINGS, 800).view);
    expect((await client.step(-1)).seq).toBe(799);
    expect((await client.diff(10, 20)).from).toBe(10);
    await client.close();
  });

  it('refuses to open a store that does not exist (and does not create one)', async () => {
    await expect(ReplayClient.open('xendeck-import-missing', { transport: inPageTransport() })).rejects.toThrow(/no store named xendeck-import-missing/);
    expect(await Dexie.exists('xendeck-import-missing')).toBe(false);
  });
});
