import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync, rmSync, readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../electron/cli/main.ts';
import { goldens, sealGolden } from './golden.ts';
import type { XRecord } from '../../machines/events/record.ts';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

const all = goldens();

describe('golden bundles', () => {
  it('there is one per incident kind the machines detect', () => {
    const kinds = new Set(all.flatMap((g) => g.expect.incidents));
    for (const k of ['crash', 'watchdog', 'crash-restart', 'soft-reset', 'helper-gap', 'cdrom-failure', 'cdrom-locked', 'pv-blacklisted', 'ioreq-exhausted', 'handshake-stall', 'handshake-failure']) expect(kinds).toContain(k);
  });

  describe.each(all.map((g) => [g.name, g] as const))('%s', (_name, g) => {
    it('sealing the hand-written observations reproduces the committed bundle', () => {
      expect(sealGolden(g)).toBe(readFileSync(g.bundleFile, 'utf8'));
    });
    it('verifies (chain, schema, replay determinism)', async () => {
      const r = await cli('verify', g.bundleFile);
      expect(r.err).toBe('');
      expect(r.out).toMatch(/^ok: \d+ records.*replay reproduced all \d+ recorded transitions/);
      expect(r.code).toBe(0);
    });
    it('replay --json gives the expected state', async () => {
      const r = await cli('replay', g.bundleFile, '--json');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out)).toEqual(JSON.parse(readFileSync(g.expectedFile, 'utf8')));
    });
    it('shows the incidents and final states written by hand in its header', async () => {
      const r = await cli('replay', g.bundleFile, '--json');
      const view = JSON.parse(r.out) as { actors: { id: string; state: string }[]; incidents: { kind: string }[] };
      expect(view.incidents.map((i) => i.kind).sort()).toEqual([...g.expect.incidents].sort());
      for (const [id, state] of Object.entries(g.expect.states)) {
        expect(view.actors.find((a) => a.id === id)?.state, id).toBe(state);
      }
      const inc = await cli('incidents', g.bundleFile, '--json');
      expect(JSON.parse(inc.out).map((i: { kind: string }) => i.kind)).toEqual(view.incidents.map((i) => i.kind));
    });
  });
});

describe('xendeck verify on damaged bundles', () => {
  let dir: string;
  let lines: string[];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'xendeck-verify-'));
    lines = readFileSync(all.find((g) => g.name === 'crash')!.bundleFile, 'utf8').trimEnd().split('\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, ls: string[] | string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, Array.isArray(ls) ? ls.join('\n') + '\n' : ls);
    return p;
  };
  const snapshotDir = () => readdirSync(dir).map((f) => `${f}:${statSync(join(dir, f)).mtimeMs}:${statSync(join(dir, f)).size}`).sort();

  it.each([
    ['a tampered record', () => lines.map((l, i) => (i === 10 ? l.replace('"value":"1"', '"value":"4"') : l)), /^FAILED|line 11: seq 10: hash does not match/],
    ['a missing record', () => lines.filter((_l, i) => i !== 10), /line 11: found seq 11 where 10 was expected: record 10 is missing/],
    ['a reordered record', () => lines.map((l, i) => (i === 10 ? lines[11] : i === 11 ? lines[10] : l)), /line 11: found seq 11 where 10 was expected/],
    ['a bad manifest', () => [lines[0].replace(/"count":\d+/, '"count":7'), ...lines.slice(1)], /line 1: bad manifest: count/],
    ['a manifest whose last hash is wrong', () => [lines[0].replace(/"last":"[0-9a-f]+"/, `"last":"${'ab'.repeat(32)}"`), ...lines.slice(1)], /bad manifest: last does not match/],
    ['a recorded transition that replay does not reproduce', () => lines.map((l) => l.replace('"to":"shutdown.crash"', '"to":"shutdown.poweroff"')), /./],
  ])('exits 1 on %s, with a one-line reason, writing nothing', async (_what, make, reason) => {
    const p = write('bad.jsonl', make());
    const before = snapshotDir();
    const r = await cli('verify', p);
    expect(r.code).toBe(1);
    const msg = (r.out + r.err).trim();
    expect(msg.split('\n')).toHaveLength(1);
    expect(msg).toMatch(reason);
    expect(snapshotDir()).toEqual(before);
  });

  it('the transition check fails only through replay (the chain was re-sealed honestly)', async () => {
    // Re-seal a bundle whose transitions were altered: chain intact, replay disagrees.
    const { Chain } = await import('../../machines/events/chain.ts');
    const { bundleText, manifestFor } = await import('../../machines/events/bundle.ts');
    const c = new Chain();
    const recs: XRecord[] = lines.slice(1).map((l) => {
      const r = JSON.parse(l);
      const { seq: _s, prev: _p, hash: _h, ...obs } = r;
      if (r.type === 'machine.transition' && r.data.to === 'shutdown.crash') obs.data = { ...r.data, to: 'shutdown.poweroff' };
      return c.append(obs) as XRecord;
    });
    const p = write('resealed.jsonl', bundleText(manifestFor(recs, { host: { hostname: 'x' }, created: 'now', machines: {} }), recs));
    const r = await cli('verify', p);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^FAILED: replay does not reproduce history: seq \d+ records domain:.*shutdown\.poweroff.*but replay produced .*shutdown\.crash/);
  });

  it('reads gzip bundles', async () => {
    const p = write('ok.jsonl.gz', gzipSync(lines.join('\n') + '\n'));
    expect((await cli('verify', p)).code).toBe(0);
  });

  it.each([
    ['a missing file', () => join(dir, 'nope.jsonl')],
    ['a directory', () => dir],
    ['a file that is not a bundle', () => write('notes.txt', 'hello\nworld\n')],
    ['a JSON file of another kind', () => write('other.json', '{"format":"something-else"}\n')],
    ['an empty file', () => write('empty.jsonl', '')],
    ['a truncated gzip file', () => write('cut.jsonl.gz', gzipSync(lines.join('\n')).subarray(0, 40))],
  ])('exits 2 on %s with a one-line reason on stderr', async (_what, make) => {
    const r = await cli('verify', make());
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 on bad usage', async () => {
    expect((await cli('verify')).code).toBe(2);
    expect((await cli('replay', 'x', '--at', 'soon')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
  });
});

describe('ranges cut out of history', () => {
  it('an exported range carries the host state before it, and verify replays from it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xendeck-range-'));
    try {
      const src = all.find((g) => g.name === 'crash-restart')!.bundleFile;
      const out = join(dir, 'range.jsonl.gz');
      expect((await cli('export', src, '--format', 'jsonl', '--from-seq', '30', '--to-seq', '70', '--out', out)).code).toBe(0);
      const v = await cli('verify', out);
      expect(v.code).toBe(0);
      expect(v.out).toMatch(/replay from the snapshot at seq \d+ reproduced all \d+ recorded transitions/);
      const full = JSON.parse((await cli('replay', src, '--at', '70', '--json')).out);
      const cut = JSON.parse((await cli('replay', out, '--json')).out);
      expect(cut.actors.map((x: { id: string; state: string }) => [x.id, x.state])).toEqual(full.actors.map((x: { id: string; state: string }) => [x.id, x.state]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
