/**
 * Fault: the helper killed repeatedly, close together, through the real
 * helper and the simulator. Each death is a gap in history (`helper.status`
 * down, then resynced with gap once the backoff is over and the rescan is
 * done); the backoff grows while the deaths come in a row; and when the
 * lifecycle gives up (`maxAttempts` restarts in a row, machines/helper-lifecycle)
 * history says `failed`, with the last reason.
 *
 * The scenario `fault-helper-kill` kills it three times while a guest changes a
 * key (recorded with `xendeck record`); the other two tests kill it from the
 * test each time it is back up, so every kill lands on a running helper.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { XRecord } from '../../machines/events/record.ts';
import type { HostStatus } from '../../electron/shared/ipc-contract.std.ts';
import { startRuntime, type Runtime } from '../../electron/host/runtime.ts';
import { ensureHelper } from '../host/support.ts';
import { cli, collect, pathOf, recordCli, records, scenarioFile, statuses, tempDir, until, writeBundle } from './support.ts';

let tmp: ReturnType<typeof tempDir>;
/** The scenario without its own kills: the test kills the helper itself. */
let quietScenario: string;
beforeAll(() => {
  ensureHelper();
  tmp = tempDir();
  const s = JSON.parse(readFileSync(scenarioFile('fault-helper-kill'), 'utf8')) as { steps: { fault?: string }[] };
  s.steps = s.steps.filter((x) => x.fault !== 'helper-kill');
  quietScenario = join(tmp.dir, 'no-kills.json');
  writeFileSync(quietScenario, JSON.stringify(s));
});
afterAll(() => tmp?.cleanup());

const states = (recs: XRecord[]): string[] => statuses(recs).map((r) => r.data.state);

/** Kills the helper each time history shows it (back) up, `kills` times, or until it is given up. */
async function killWhenUp(rt: Runtime, recs: XRecord[], kills: number): Promise<void> {
  for (let k = 1; k <= kills; k++) {
    await until(() => statuses(recs).filter((r) => r.data.state === 'up' || r.data.state === 'resynced').length >= k, `the helper up for kill ${k}`);
    expect(rt.host.helperProcess).not.toBeNull();
    rt.host.helperProcess!.kill('SIGKILL');
    await until(() => statuses(recs).filter((r) => r.data.state === 'down' || r.data.state === 'failed').length >= k, `kill ${k} recorded`);
    if (statuses(recs).some((r) => r.data.state === 'failed')) return;
  }
}

async function verifies(recs: XRecord[], name: string): Promise<void> {
  const file = join(tmp.dir, name);
  await writeBundle(file, recs);
  const v = await cli('verify', file);
  expect(v.err).toBe('');
  expect(v.code).toBe(0);
}

describe('fault: the helper killed repeatedly', () => {
  it('recorded with xendeck record: each kill is a gap closed by a resync, the guest key ends reconciled, verify passes', async () => {
    const file = join(tmp.dir, 'helper-kill.jsonl');
    await recordCli(scenarioFile('fault-helper-kill'), file);
    const v = await cli('verify', file);
    expect(v.err).toBe('');
    expect(v.code).toBe(0);

    const recs = await records(file);
    const st = states(recs);
    expect(st[0]).toBe('up');
    // The first kill lands on a running helper; later ones may land while it is still coming back.
    const downs = st.filter((s) => s === 'down').length;
    expect(downs).toBeGreaterThanOrEqual(1);
    expect(downs).toBeLessThanOrEqual(3);
    // Strictly alternating after the first up: down, resynced, down, resynced, ... and never given up.
    expect(st.slice(1)).toEqual(Array.from({ length: 2 * downs }, (_, i) => (i % 2 === 0 ? 'down' : 'resynced')));
    for (const r of statuses(recs).filter((x) => x.data.state !== 'up')) expect(r.data.gap).toBe(true);
    for (const r of statuses(recs).filter((x) => x.data.state === 'down')) expect(r.data.reason).toBe('the helper was ended by SIGKILL');
    // The key the guest changed after each kill ends at its last value.
    const phase = recs.filter((r) => r.type === 'xs.write' && pathOf(r) === '/local/domain/1/data/phase');
    expect((phase.at(-1)!.data as { value: string }).value).toBe('3');
  }, 50_000);

  it('three kills in a row: three gaps, each closed by a resync, with the backoff attempts growing 1, 2, 3', async () => {
    const rt = await startRuntime({ mode: 'record', sim: { scenario: quietScenario, speed: 8 }, dataDir: join(tmp.dir, 'data-3') });
    const attempts: number[] = [];
    rt.host.onStatus((s: HostStatus) => {
      if (s.helper === 'backoff' && attempts.at(-1) !== s.attempts) attempts.push(s.attempts);
    });
    let recs: XRecord[] = [];
    try {
      recs = collect(rt);
      await killWhenUp(rt, recs, 3);
      await until(() => statuses(recs).filter((r) => r.data.state === 'resynced').length === 3, 'the third resync');
      expect(rt.host.status()).toMatchObject({ helper: 'up', restarts: 3, attempts: 3 });
    } finally {
      await rt.stop();
    }
    expect(attempts).toEqual([1, 2, 3]);
    expect(states(recs)).toEqual(['up', 'down', 'resynced', 'down', 'resynced', 'down', 'resynced']);
    for (const r of statuses(recs).slice(1)) expect(r.data.gap).toBe(true);
    await verifies(recs, 'three-kills.jsonl');
  }, 50_000);

  it('killed more often than the lifecycle allows: helper.status failed is recorded with the reason, and nothing after it pretends the helper is back', async () => {
    const rt = await startRuntime({
      mode: 'record',
      sim: { scenario: quietScenario, speed: 8 },
      dataDir: join(tmp.dir, 'data-failed'),
      host: { lifecycle: { delaysMs: [100], maxAttempts: 2 } },
    });
    let recs: XRecord[] = [];
    try {
      recs = collect(rt);
      await killWhenUp(rt, recs, 3);
      await until(() => statuses(recs).some((r) => r.data.state === 'failed'), 'the helper given up');
      expect(rt.host.status()).toMatchObject({ helper: 'failed', lastExit: 'the helper was ended by SIGKILL' });
    } finally {
      await rt.stop();
    }
    // maxAttempts 2: two restarts in a row, and the third death is the last.
    expect(states(recs)).toEqual(['up', 'down', 'resynced', 'down', 'resynced', 'down', 'failed']);
    const failed = statuses(recs).at(-1)!;
    expect(failed.data).toEqual({ state: 'failed', gap: true, reason: 'the helper was ended by SIGKILL' });
    await verifies(recs, 'given-up.jsonl');
  }, 50_000);
});
