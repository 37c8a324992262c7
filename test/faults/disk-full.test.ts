/**
 * Fault: the disk holding the outbox fills up (`fault-disk-full`), recorded
 * with `xendeck record --sim` through the real helper, with the data dir on a
 * real 4 MiB tmpfs in a private mount namespace (`unshare --user
 * --map-root-user --mount`: no root needed where user namespaces are allowed,
 * nothing mounted outside the child). The kernel's own ENOSPC is what the
 * outbox meets. History must say recording paused with the reason, keep
 * everything sealed before it, and resume with the state reconciled once
 * space returns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { XRecord } from '../../machines/events/record.ts';
import { ensureHelper } from '../host/support.ts';
import { ROOT, cli, pathOf, recordingStatuses, records, scenarioFile, statuses, tempDir } from './support.ts';

const writes = (recs: XRecord[], path: string): XRecord[] => recs.filter((r) => r.type === 'xs.write' && pathOf(r) === path);

/** `xendeck record` with its data dir on a fresh tmpfs of `size`, in a mount namespace of its own. */
function recordOnTmpfs(scenario: string, mnt: string, out: string, size = '4m'): Promise<{ stderr: string }> {
  const script = 'mount -t tmpfs -o size="$1" xendeck-outbox "$2" && shift 2 && exec "$@"';
  const argv = ['--user', '--map-root-user', '--mount', 'sh', '-c', script, 'sh', size, mnt, process.execPath, join(ROOT, 'bin/xendeck.mjs'), 'record', '--sim', scenario, '--speed', '4', '--data-dir', mnt, '--out', out];
  return new Promise((resolve, reject) => {
    execFile('unshare', argv, { timeout: 60_000 }, (e, _stdout, stderr) => (e ? reject(new Error(`record on a tmpfs: ${e.message}\n${stderr}`)) : resolve({ stderr })));
  });
}

let tmp: ReturnType<typeof tempDir>;
let file: string;
let recs: XRecord[];
let stderr: string;

beforeAll(async () => {
  ensureHelper();
  tmp = tempDir();
  file = join(tmp.dir, 'disk-full.jsonl');
  const mnt = join(tmp.dir, 'outbox-disk');
  mkdirSync(mnt);
  ({ stderr } = await recordOnTmpfs(scenarioFile('fault-disk-full'), mnt, file));
  recs = await records(file);
}, 70_000);
afterAll(() => tmp?.cleanup());

describe('fault: the disk under the outbox fills up, then space returns', () => {
  it('xendeck verify passes on the recording: nothing sealed is missing, nothing is out of order', async () => {
    const v = await cli('verify', file);
    expect(v.err).toBe('');
    expect(v.code).toBe(0);
  });

  it('recording paused once with the reason, and said so while it happened', () => {
    const rs = recordingStatuses(recs);
    expect(rs.map((r) => [r.data.state, r.data.reason])).toEqual([
      ['paused', 'disk-full'],
      ['resumed', 'disk-full'],
    ]);
    expect(rs[0].data).toMatchObject({ gap: true, detail: expect.stringMatching(/disk .* is full \(ENOSPC\)/) });
    expect(rs[1].data.gap).toBe(true);
    expect(stderr).toMatch(/recording paused: the disk holding .* is full/);
  });

  it('everything sealed before the disk filled is there, before the pause', () => {
    const pausedSeq = recordingStatuses(recs)[0].seq;
    expect(writes(recs, '/local/domain/1/data/phase')[0].data).toMatchObject({ value: 'before-full' });
    expect(writes(recs, '/local/domain/1/data/phase')[0].seq).toBeLessThan(pausedSeq);
    expect(statuses(recs)[0]).toMatchObject({ data: { state: 'up', gap: false } });
    expect(statuses(recs)[0].seq).toBeLessThan(pausedSeq);
  });

  it('resumed with the state reconciled: the helper re-scanned (resynced, gap) and the values written meanwhile are recorded', () => {
    const [paused, resumed] = recordingStatuses(recs);
    const resynced = statuses(recs).find((r) => r.data.state === 'resynced');
    expect(resynced).toBeDefined();
    expect(resynced!.seq).toBeGreaterThan(paused.seq);
    expect(resynced!.seq).toBeLessThan(resumed.seq);
    const phase = writes(recs, '/local/domain/1/data/phase');
    expect(phase.at(-1)!.data).toMatchObject({ value: 'written-while-full' });
    expect(phase.at(-1)!.seq).toBeLessThan(resumed.seq);
    expect(writes(recs, '/local/domain/1/data/blob').at(-1)!.data).toMatchObject({ value: 'd'.repeat(2000) });
    // No helper was lost meanwhile: the helper was stopped on purpose, the gap is the pause.
    expect(statuses(recs).filter((r) => r.data.state === 'down')).toEqual([]);
  });

  it('watching again after the pause: a write made long after is recorded once, after resumed', () => {
    const resumed = recordingStatuses(recs)[1];
    const after = writes(recs, '/local/domain/1/data/after');
    expect(after.map((r) => r.data.value)).toEqual(['space-returned']);
    expect(after[0].seq).toBeGreaterThan(resumed.seq);
  });
});
