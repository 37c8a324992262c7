import { afterEach, describe, expect, it } from 'vitest';
import { flushSync } from 'svelte';
import { Dexie } from 'dexie';
import { AppDb } from '../db/app-db.ts';
import { appendEvents } from '../db/append-event.ts';
import { inPageTransport } from '../replay/replay-client.ts';
import { goldenRecords } from '../testing/bundles.ts';
import { ReplayState } from './replay.svelte.ts';

const names: string[] = [];
const stops: (() => void)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) s();
  for (const n of names.splice(0)) await Dexie.delete(n);
});

async function setup(): Promise<{ replay: ReplayState; name: string }> {
  const db = new AppDb(`test-${crypto.randomUUID()}`);
  names.push(db.name);
  await appendEvents(db, goldenRecords('soft-reset'));
  db.close();
  let replay!: ReplayState;
  stops.push($effect.root(() => {
    replay = new ReplayState({ transport: inPageTransport });
  }));
  flushSync();
  return { replay, name: db.name };
}

const domainState = (r: ReplayState) => r.view?.actors.find((a) => a.kind === 'domain')?.state;

describe('ReplayState: the interface at any point of history', () => {
  it('opens at the newest record in history mode; back to live closes it', async () => {
    const { replay, name } = await setup();
    expect(replay.active).toBe(false);
    await replay.open(name);
    flushSync();
    expect(replay.active).toBe(true);
    expect(replay.player.snapshot.matches('history')).toBe(true);
    expect(replay.bounds).toEqual({ from: 1, to: 74 });
    expect(replay.cursor).toBe(74);
    expect(domainState(replay)).toBe('running');
    expect(replay.allIncidents.map((i) => i.kind)).toEqual(['soft-reset']);
    // Knowing every incident does not move the cursor.
    await replay.seek(3);
    expect(replay.view!.seq).toBe(3);
    await replay.close();
    flushSync();
    expect(replay.active).toBe(false);
    expect(replay.view).toBeNull();
    expect(replay.player.snapshot.matches('live')).toBe(true);
  });

  it('opening an incident puts the cursor just before it, paused; stepping walks the domain through its states', async () => {
    const { replay, name } = await setup();
    await replay.open(name);
    const inc = replay.view!.incidents.find((i) => i.kind === 'soft-reset')!;
    await replay.openIncident(name, inc);
    flushSync();
    expect(replay.cursor).toBe(inc.from - 1);
    expect(replay.playing).toBe(false);
    const seen = [domainState(replay)];
    while (replay.cursor < inc.to) {
      await replay.step(1);
      if (domainState(replay) !== seen[seen.length - 1]) seen.push(domainState(replay));
    }
    expect(seen).toEqual(['running', 'softResetting', 'running']);
    await replay.step(-1);
    expect(replay.cursor).toBe(inc.to - 1);
    expect(domainState(replay)).toBe('softResetting');
  });

  it('steps stop at the ends of history', async () => {
    const { replay, name } = await setup();
    await replay.open(name, 1);
    await replay.step(-10);
    expect(replay.cursor).toBe(0);
    expect(replay.view!.actors).toEqual([]);
    await replay.seek(74);
    await replay.step(5);
    expect(replay.cursor).toBe(74);
  });

  it('compares two marked points and keeps the cursor where it was', async () => {
    const { replay, name } = await setup();
    await replay.open(name, 10);
    replay.setMark('a');
    await replay.seek(74);
    replay.setMark('b');
    await replay.seek(40);
    await replay.computeDiff();
    expect(replay.diff!.from).toBe(10);
    expect(replay.diff!.to).toBe(74);
    expect(replay.diff!.changes.length).toBeGreaterThan(0);
    expect(replay.diff!.incidents.map((i) => i.kind)).toEqual(['soft-reset']);
    expect(replay.cursor).toBe(40);
    expect(replay.view!.seq).toBe(40);
  });

  it('play goes forward until paused', async () => {
    const { replay, name } = await setup();
    await replay.open(name, 1);
    replay.setSpeed(50);
    replay.play();
    flushSync();
    expect(replay.playing).toBe(true);
    for (let i = 0; i < 200 && replay.cursor < 5; i++) await new Promise((r) => setTimeout(r, 5));
    replay.pause();
    flushSync();
    expect(replay.playing).toBe(false);
    expect(replay.cursor).toBeGreaterThanOrEqual(5);
  });
});
