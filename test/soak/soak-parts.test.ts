/**
 * The parts of the soak that need no run: how `--loop [N]` is read, the CLI's
 * refusals, and how RSS samples are judged flat or not.
 */
import { describe, expect, it } from 'vitest';
import { parseCommon } from '../../electron/host/cli-support.ts';
import { UsageError } from '../../electron/cli/main.ts';
import { rssFigures, descendants, lateEvidence, vmRssKb, type Role, type Sample } from '../../electron/cli/soak.ts';
import type { XRecord } from '../../machines/events/record.ts';
import { cli } from '../faults/support.ts';

describe('--loop [N]', () => {
  it('is a flag, a count of passes, or --loop=N, only for the commands that take it', () => {
    expect(parseCommon(['--sim', 'demo', '--loop'], {}, { loop: true })).toMatchObject({ sim: true, scenario: 'demo', loop: true });
    expect(parseCommon(['--loop', '5', '--sim'], {}, { loop: true })).toMatchObject({ sim: true, scenario: undefined, loop: 5 });
    expect(parseCommon(['--loop=3', '--sim=demo'], {}, { loop: true })).toMatchObject({ loop: 3, scenario: 'demo' });
    expect(parseCommon(['--sim'], {}, { loop: true }).loop).toBeUndefined();
    expect(() => parseCommon(['--loop', '0'], {}, { loop: true })).toThrow(UsageError);
    expect(() => parseCommon(['--loop=x'], {}, { loop: true })).toThrow(UsageError);
    // A command that does not loop refuses it as an unknown option.
    expect(() => parseCommon(['--sim', '--loop'])).toThrow(UsageError);
  });

  it('needs a simulated host; soak refuses a speed out of range', async () => {
    const rec = await cli('record', '--loop', '--out', '/tmp/never-written.xdb');
    expect(rec.code).toBe(2);
    expect(rec.err).toMatch(/--loop replays a simulated scenario/);
    const serve = await cli('serve', '--loop', '2');
    expect(serve.code).toBe(2);
    const soak = await cli('soak', '--speed', '500');
    expect(soak.code).toBe(2);
    expect(soak.err).toMatch(/--speed expects a factor/);
    const soakExpect = await cli('soak', '--expect', 'crash');
    expect(soakExpect.code).toBe(2);
    expect(soakExpect.err).toMatch(/KIND:NAME/);
  });
});

const series = (role: Role, kbs: number[]): Sample[] => kbs.map((kb, i) => ({ t: i * 1000, roles: { [role]: { kb, n: 1 } }, store: 0 }));

describe('RSS flatness', () => {
  it('a process that grows steadily is not flat; one that saws around a level is', () => {
    const growing = rssFigures(series('host', Array.from({ length: 50 }, (_, i) => 100_000 + i * 1000)), new Map(), 0.1);
    expect(growing[0].judged).toBe(true);
    expect(growing[0].flat).toBe(false);
    expect(growing[0].change!).toBeGreaterThan(0.1);
    const sawing = rssFigures(series('host', Array.from({ length: 50 }, (_, i) => 140_000 + (i % 5) * 4000)), new Map(), 0.1);
    expect(sawing[0].flat).toBe(true);
    expect(Math.abs(sawing[0].change!)).toBeLessThan(0.05);
  });

  it('memory given back is no growth: a process whose RSS drops after warm-up is flat', () => {
    const f = rssFigures(series('host', Array.from({ length: 50 }, (_, i) => (i < 30 ? 150_000 : 100_000))), new Map(), 0.1)[0];
    expect(f.change!).toBeLessThan(-0.3);
    expect(f.flat).toBe(true);
  });

  it('warm-up does not count: a process that fills up in its first fifth and then holds is flat', () => {
    const kbs = Array.from({ length: 50 }, (_, i) => (i < 8 ? 60_000 + i * 10_000 : 140_000));
    const f = rssFigures(series('helper', kbs), new Map(), 0.1)[0];
    expect(f.startKb).toBe(60_000);
    expect(f.endKb).toBe(140_000);
    expect(f.flat).toBe(true);
  });

  it('short-lived processes are reported, not judged; absent samples do not count as zero', () => {
    const s = series('xl', [30_000, 0, 0, 32_000, 0, 31_000, 0, 0, 0, 30_000]).map((x) => (x.roles.xl!.kb ? x : { ...x, roles: {} }));
    const f = rssFigures(s, new Map([['xl', new Set([1, 2, 3, 4])]]), 0.1)[0];
    expect(f.judged).toBe(false);
    expect(f.samples).toBe(4);
    expect(f.pids).toBe(4);
    // Windows over 9 s: 20–40% holds the sample at 3 s only, the last 20% the one at 9 s.
    expect(f.warmMeanKb).toBe(32_000);
    expect(f.endMeanKb).toBe(30_000);
  });
});

describe('process sampling', () => {
  it('finds this process under its parent and reads its VmRSS', () => {
    const tree = descendants(process.ppid);
    expect(tree.pids).toContain(process.pid);
    expect(tree.parentOf(process.pid)).toBe(process.ppid);
    const kb = vmRssKb(process.pid)!;
    // /proc's VmRSS and Node's own figure agree within a few MB (read a moment apart).
    expect(Math.abs(kb - process.memoryUsage().rss / 1024)).toBeLessThan(16 * 1024);
    expect(vmRssKb(2 ** 22 + 12345)).toBeUndefined();
  });
});

describe('late evidence of an incident', () => {
  const rec = (seq: number, ts: number, type: string, data: Record<string, unknown>): XRecord => ({ seq, ts, src: 'test', type, data }) as unknown as XRecord;
  const passOf = (ts: number) => (ts < 1000 ? 1 : 2);

  it("credits xl's crash line to the pass whose domain it names, even when recorded in the next pass", () => {
    const recs = [
      rec(1, 100, 'xs.write', { path: '/local/domain/5/name', value: 'db' }),
      rec(2, 1000, 'xs.write', { path: '/local/domain/15/name', value: 'db' }),
      // Pass 1's crash, recorded late (in pass 2, with pass 2's domid beside it).
      rec(3, 1100, 'log.line', { file: 'xl', domid: 15, name: 'db', line: 'Domain 5 has shut down, reason code 3 0x3' }),
      rec(4, 1200, 'log.line', { file: 'xl', domid: 15, name: 'db', line: 'Domain 15 has shut down, reason code 0 0x0' }),
    ];
    const ev = lateEvidence(recs, passOf);
    expect([...(ev.get(1) ?? [])]).toEqual(['crash db']);
    // A poweroff is no crash; and nothing speaks of pass 2's crash.
    expect(ev.get(2)).toBeUndefined();
  });

  it('ignores lines about domids never named, and other files', () => {
    const recs = [rec(1, 100, 'log.line', { file: 'xl', line: 'Domain 9 has shut down, reason code 3 0x3' }), rec(2, 100, 'log.line', { file: 'qemu-dm', line: 'Domain 9 has shut down, reason code 3 0x3' })];
    expect(lateEvidence(recs, passOf).size).toBe(0);
  });
});
