/**
 * The live host against the simulator through the real helper: a scenario's
 * observations arrive as records in order with a valid chain, and when the
 * helper is killed mid-scenario (the scenario's own helper-kill fault) the gap
 * is recorded, the state is reconciled, and nothing already observed is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainChecker } from '../../machines/events/chain.ts';
import { ZERO_HASH, type XRecord } from '../../machines/events/record.ts';
import { recordProblem } from '../../machines/events/validate.ts';
import { replay } from '../../machines/host/replay.ts';
import { ALL_BINDINGS } from '../../machines/host/bindings.ts';
import { nodeSha256Hex } from '../../electron/shared/bundle-io.ts';
import { scenarioPath, startRuntime } from '../../electron/host/runtime.ts';
import { CollectingSink } from '../../electron/host/test-support.ts';
import { ensureHelper } from './support.ts';

let dir: string;
beforeAll(() => {
  ensureHelper();
  dir = mkdtempSync(join(tmpdir(), 'xendeck-kill-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('live host, real helper, simulated host', () => {
  it('helper killed mid-scenario: gap recorded, state reconciled, nothing already observed lost', async () => {
    const base = JSON.parse(readFileSync(scenarioPath('incident-crash-restart'), 'utf8'));
    // The guest crashes at 3000 (restart: new domid); the helper is killed at 1500 and comes back after.
    base.steps.push({ at: 1500, fault: 'helper-kill' });
    base.end = 6000;
    const file = join(dir, 'kill.json');
    writeFileSync(file, JSON.stringify(base));

    const rt = await startRuntime({ mode: 'record', sim: { scenario: file, speed: 2 }, dataDir: join(dir, 'data'), host: { dominfoPollMs: 300, lifecycle: { delaysMs: [200] } } });
    const sink = new CollectingSink();
    const connected = rt.host.connect(sink, { seq: 0, hash: ZERO_HASH });
    expect(connected.status).toBe('ok');
    let snapshotAtKill: XRecord[] | null = null;
    const seenKill = new Promise<void>((resolve) => {
      const off = rt.host.onRecords((b) => {
        if (b.some((r) => r.type === 'helper.status' && r.data.state === 'down')) {
          snapshotAtKill = sink.records.slice();
          off();
          resolve();
        }
      });
    });
    await rt.sim!.done;
    await seenKill;
    await new Promise((r) => setTimeout(r, 800));
    await rt.stop();

    const recs = sink.records;
    // In order, gapless, chained, valid.
    const check = new ChainChecker({ seq: 1, prev: ZERO_HASH }, nodeSha256Hex);
    for (const r of recs) {
      expect(recordProblem(r)).toBeNull();
      expect(check.check(r)).toBeNull();
    }
    // Nothing observed before the kill was lost or altered.
    expect(recs.slice(0, snapshotAtKill!.length)).toEqual(snapshotAtKill);
    // The gap is in history: down, then resynced with gap and the differences.
    const st = recs.filter((r) => r.type === 'helper.status').map((r) => r.data);
    expect(st[0]).toEqual({ state: 'up', gap: false });
    expect(st[1]).toMatchObject({ state: 'down', gap: true, reason: 'the helper was ended by SIGKILL' });
    expect(st[2]).toMatchObject({ state: 'resynced', gap: true });
    expect(st[2].diff).toBeTypeOf('object');
    // Replay reproduces the live transitions, reports the gap, and the domain ends as the scenario expects.
    const r = replay(recs, ALL_BINDINGS);
    expect(r.mismatch).toBeNull();
    expect(r.view.incidents.some((i) => i.kind === 'helper-gap')).toBe(true);
    const db = r.view.actors.find((a) => a.kind === 'domain' && (a.context as { name?: string }).name === 'db');
    expect(db?.state).toBe(base.expect.domains.db);
    // The crash while the helper was away or after it came back: either way the restart is known.
    expect((db?.context as { restartCount: number }).restartCount).toBe(1);
  });
});
