/**
 * Fault: xenstored restarts mid-scenario (`fault-xenstored-restart`), recorded
 * with `xendeck record --sim` through the real helper. Every xenstore
 * connection and watch is gone; a guest writes a key while nobody watches.
 * History must say so (a gap), the watches must come back, and the value
 * written meanwhile must be reconciled by the rescan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { XRecord } from '../../machines/events/record.ts';
import { ensureHelper } from '../host/support.ts';
import { cli, pathOf, recordScenario, statuses } from './support.ts';

const PHASE = '/local/domain/1/data/phase';
const AFTER = '/local/domain/1/data/after';

let file: string;
let recs: XRecord[];
let cleanup: (() => void) | undefined;

beforeAll(async () => {
  ensureHelper();
  ({ file, recs, cleanup } = await recordScenario('fault-xenstored-restart'));
}, 50_000);
afterAll(() => cleanup?.());

describe('fault: xenstored restarted mid-scenario', () => {
  it('xendeck verify passes on the recording', async () => {
    const v = await cli('verify', file);
    expect(v.err).toBe('');
    expect(v.code).toBe(0);
  });

  it('the lost xenstore connection is a gap in history: down with its reason, then resynced with gap', () => {
    const st = statuses(recs);
    expect(st[0].data).toEqual({ state: 'up', gap: false });
    const down = st.findIndex((r) => r.data.state === 'down');
    expect(down).toBeGreaterThan(0);
    expect(st[down].data).toMatchObject({ gap: true, reason: expect.stringContaining('lost its xenstore connection') });
    const resynced = st.slice(down + 1).find((r) => r.data.state === 'resynced');
    expect(resynced?.data).toMatchObject({ gap: true });
    // Exactly one gap: the restart is noticed once, and the new session stays up.
    expect(st.filter((r) => r.data.state === 'down')).toHaveLength(1);
    expect(st.some((r) => r.data.state === 'failed')).toBe(false);
  });

  it('state is reconciled: the value written while the watches were gone is in history after the gap opened', () => {
    const downSeq = statuses(recs).find((r) => r.data.state === 'down')!.seq;
    const writes = recs.filter((r) => r.type === 'xs.write' && pathOf(r) === PHASE).map((r) => ({ seq: r.seq, value: (r.data as { value: string }).value }));
    expect(writes.map((w) => w.value)).toEqual(['before-restart', 'written-while-away']);
    expect(writes[0].seq).toBeLessThan(downSeq);
    expect(writes[1].seq).toBeGreaterThan(downSeq);
  });

  it('watches are re-established: a write made long after the resync is recorded once, after it', () => {
    const resyncSeq = statuses(recs).find((r) => r.data.state === 'resynced')!.seq;
    const after = recs.filter((r) => r.type === 'xs.write' && pathOf(r) === AFTER);
    expect(after.map((r) => (r.data as { value: string }).value)).toEqual(['watched-again']);
    expect(after[0].seq).toBeGreaterThan(resyncSeq);
  });

  it('the guest is still known and running when the scenario ends', async () => {
    const r = await cli('replay', file, '--json');
    expect(r.code).toBe(0);
    const view = JSON.parse(r.out) as { actors: { kind: string; state: string; context: { name?: string } }[] };
    expect(view.actors.find((a) => a.kind === 'domain' && a.context.name === 'web')?.state).toBe('running');
  });
});
