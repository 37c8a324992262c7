/**
 * Fault: dom0's wall clock steps back an hour mid-scenario (`fault-clock-back`),
 * recorded with `xendeck record --sim` through the real helper. History stays
 * in seq order with timestamps that never go back; one `host.clock` record
 * flags the jump and gives the offset that recovers wall time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { XRecord } from '../../machines/events/record.ts';
import { ensureHelper } from '../host/support.ts';
import { cli, pathOf, recordScenario } from './support.ts';

let file: string;
let recs: XRecord[];
let cleanup: (() => void) | undefined;

beforeAll(async () => {
  ensureHelper();
  ({ file, recs, cleanup } = await recordScenario('fault-clock-back'));
}, 50_000);
afterAll(() => cleanup?.());

describe('fault: the wall clock steps back an hour', () => {
  it('xendeck verify passes on the recording', async () => {
    const v = await cli('verify', file);
    expect(v.err).toBe('');
    expect(v.code).toBe(0);
  });

  it('one host.clock record flags the jump, between the writes before and after it', () => {
    const clocks = recs.filter((r) => r.type === 'host.clock');
    expect(clocks).toHaveLength(1);
    const d = clocks[0].data as { by: number; wall: number; offset: number };
    // The simulated clock moves on while the host notices: the step it sees is the hour, give or take the time between readings.
    expect(d.by).toBeGreaterThan(3_600_000 - 2000);
    expect(d.by).toBeLessThanOrEqual(3_600_000);
    expect(d.offset).toBe(d.by);
    const phase = recs.filter((r) => r.type === 'xs.write' && pathOf(r) === '/local/domain/1/data/phase');
    expect(phase.map((r) => (r.data as { value: string }).value)).toEqual(['before-jump', 'after-jump']);
    expect(phase[0].seq).toBeLessThan(clocks[0].seq);
    expect(phase[1].seq).toBeGreaterThan(clocks[0].seq);
  });

  it('timestamps never go back, and the records after the jump recover wall time through the offset', () => {
    for (let i = 1; i < recs.length; i++) expect(recs[i].ts, `seq ${recs[i].seq}`).toBeGreaterThanOrEqual(recs[i - 1].ts);
    const clock = recs.find((r) => r.type === 'host.clock')!;
    const d = clock.data as { wall: number; offset: number };
    expect(clock.ts - d.offset).toBe(d.wall);
  });

  it('the guest shut down after the jump is judged on the record clock: no timeout fired from the jump', async () => {
    const r = await cli('replay', file, '--json');
    expect(r.code).toBe(0);
    const view = JSON.parse(r.out) as { incidents: { kind: string }[]; faults: unknown[] };
    expect(view.faults).toEqual([]);
    expect(view.incidents).toEqual([]);
  });
});
