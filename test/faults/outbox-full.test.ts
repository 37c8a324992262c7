/**
 * Fault: the store stops committing and the outbox fills (the demo scenario
 * recorded through the real helper and the simulator, with the outbox capped
 * at 300 records and no store acking until recording has paused). History
 * must show the policy at work — shedding at half, paused at the cap with a
 * gap, then, once the store catches up, the helper's rescan, `resynced` and
 * `resumed` — and still verify.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { XRecord } from '../../machines/events/record.ts';
import { startRuntime, type Runtime } from '../../electron/host/runtime.ts';
import { ensureHelper } from '../host/support.ts';
import { cli, recordingStatuses, scenarioFile, statuses, tempDir, until, writeBundle } from './support.ts';

const CAP = 300;

let tmp: ReturnType<typeof tempDir>;
let file: string;
const recs: XRecord[] = [];
let pausedStatus: ReturnType<Runtime['host']['status']> | undefined;
let refused: { ok: boolean; error?: string } | undefined;

beforeAll(async () => {
  ensureHelper();
  tmp = tempDir();
  const rt = await startRuntime({
    mode: 'record',
    sim: { scenario: scenarioFile('demo'), speed: 10 },
    dataDir: join(tmp.dir, 'data'),
    host: { outboxCap: { records: CAP }, saveEveryMs: 0 },
  });
  let acking = false;
  rt.host.onRecords((b) => {
    for (const r of b) recs.push(r);
    if (acking) rt.host.ack(b[b.length - 1].seq);
  });
  try {
    // The store is not committing: the outbox fills until recording pauses.
    await until(() => rt.host.status().recordingState === 'paused', 'recording paused at the cap', 40_000);
    pausedStatus = rt.host.status();
    refused = await rt.host.command({ op: 'pause', domain: 'web' });
    // The store catches up (everything so far, then each batch as it comes).
    acking = true;
    rt.host.ack(recs[recs.length - 1].seq);
    await until(() => recordingStatuses(recs).some((r) => r.data.state === 'resumed'), 'recording resumed', 40_000);
    await rt.sim!.done;
  } finally {
    await rt.stop();
  }
  file = join(tmp.dir, 'outbox-full.jsonl');
  await writeBundle(file, recs);
}, 120_000);
afterAll(() => tmp?.cleanup());

describe('fault: the store stops committing and the outbox fills', () => {
  it('xendeck verify passes on the recording', async () => {
    const v = await cli('verify', file);
    expect(v.err).toBe('');
    expect(v.code).toBe(0);
  });

  it('the policy in history: shedding at half the cap, paused at the cap with a gap, then resumed', () => {
    const rs = recordingStatuses(recs);
    const shed = rs.findIndex((r) => r.data.state === 'shedding');
    const paused = rs.findIndex((r) => r.data.state === 'paused');
    const resumed = rs.findIndex((r) => r.data.state === 'resumed');
    expect(shed).toBeGreaterThanOrEqual(0);
    expect(rs[shed].data).toMatchObject({ reason: 'outbox-high', gap: false });
    expect(rs[shed].data.pending).toBeGreaterThanOrEqual(CAP / 2 - 1);
    expect(paused).toBeGreaterThan(shed);
    expect(rs[paused].data).toMatchObject({ reason: 'outbox-full', gap: true, detail: expect.stringContaining(`at most ${CAP} records`) });
    expect(resumed).toBeGreaterThan(paused);
    expect(rs[resumed].data).toMatchObject({ reason: 'outbox-full', gap: true });
  });

  it('while paused the host said so and refused commands (recorded as asked and refused); nothing was observed until the rescan', () => {
    expect(pausedStatus).toMatchObject({ recordingState: 'paused', recordingReason: 'outbox-full', capRecords: CAP });
    expect(refused).toMatchObject({ ok: false, error: expect.stringContaining('recording is paused') });
    const rs = recordingStatuses(recs);
    const paused = rs.find((r) => r.data.state === 'paused')!;
    const resumed = rs.find((r) => r.data.state === 'resumed')!;
    // Between the pause and the resume: only the new session's reconciling scan and what follows from it.
    const between = recs.filter((r) => r.seq > paused.seq && r.seq < resumed.seq);
    const resynced = statuses(recs).find((r) => r.seq > paused.seq && r.data.state === 'resynced');
    expect(resynced).toBeDefined();
    expect(resynced!.seq).toBeLessThan(resumed.seq);
    expect(between.filter((r) => r.type === 'log.line' || r.type === 'host.tick')).toEqual([]);
    // The person's command is history all the same: asked, and refused because recording was paused.
    expect(between.filter((r) => r.type === 'cmd.request').map((r) => (r.data as { op: string }).op)).toEqual(['pause']);
    expect(between.filter((r) => r.type === 'cmd.result').map((r) => r.data)).toEqual([expect.objectContaining({ ok: false, error: expect.stringContaining('recording is paused') })]);
  });

  it('the scenario plays on after the resume: its later domains are in history', () => {
    const resumed = recordingStatuses(recs).find((r) => r.data.state === 'resumed')!;
    expect(recs.some((r) => r.seq > resumed.seq && r.type === 'xs.write')).toBe(true);
  });
});
