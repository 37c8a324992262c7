/**
 * `xendeck record --sim SCENARIO` through the real helper, then `xendeck
 * verify` and `xendeck replay --json`: the bundle is intact and replays to the
 * scenario's expected final states.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../electron/cli/main.ts';
import { scenarioPath } from '../../electron/host/runtime.ts';
import { ensureHelper } from './support.ts';

let dir: string;
beforeAll(() => {
  ensureHelper();
  dir = mkdtempSync(join(tmpdir(), 'xendeck-record-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

describe('xendeck record', () => {
  it('records a scenario to a bundle that verifies and replays to the expected final states', async () => {
    const file = join(dir, 'crash.jsonl');
    const rec = io();
    expect(await main(['record', '--sim', 'incident-crash-restart', '--speed', '4', '--out', file], rec.io)).toBe(0);
    expect(rec.out[0]).toMatch(/^recorded \d+ records to .*crash\.jsonl \(fingerprint [0-9a-f]{64}\|[0-9a-f]{64}\|\d+\)$/);

    const ver = io();
    expect(await main(['verify', file], ver.io)).toBe(0);
    expect(ver.out.join('\n')).toMatch(/^ok: \d+ records, seq 1\.\.\d+, chain intact; replay reproduced all \d+ recorded transitions/);

    const rep = io();
    expect(await main(['replay', file, '--json'], rep.io)).toBe(0);
    const view = JSON.parse(rep.out.join('\n'));
    const expected = JSON.parse(readFileSync(scenarioPath('incident-crash-restart'), 'utf8')).expect.domains as Record<string, string>;
    for (const [name, state] of Object.entries(expected)) {
      const a = view.actors.find((x: { kind: string; context: { name?: string } }) => x.kind === 'domain' && x.context.name === name);
      expect(a?.state, name).toBe(state);
    }
  });

  it('refuses to run without --out, with a one-line reason and exit 2', async () => {
    const r = io();
    expect(await main(['record', '--sim'], r.io)).toBe(2);
    expect(r.err).toEqual(['xendeck record: --out FILE is required']);
  });

  it('says which scenario it could not find', async () => {
    const r = io();
    expect(await main(['record', '--sim', 'no-such-scenario', '--out', join(dir, 'x.jsonl')], r.io)).toBe(2);
    expect(r.err[0]).toMatch(/^xendeck record: no scenario no-such-scenario/);
  });
});
