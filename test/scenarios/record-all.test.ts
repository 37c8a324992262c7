/**
 * Every scenario in the simulator's library, recorded as the live host records
 * a real workstation (the native helper against the simulated xenstore, QMP
 * and xl), then checked with the CLI: the bundle verifies, and
 * `xendeck replay --json` shows the machines' final states the scenario
 * expects, with the incidents its mechanism must raise and no false ones.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../electron/cli/main.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCENARIOS = join(ROOT, 'electron/sim/scenarios');
const names = readdirSync(SCENARIOS)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''))
  .sort();

/** The incidents each mechanism must raise (beyond these, none). */
const INCIDENTS: Record<string, string[]> = {
  'incident-crash': ['crash'],
  'incident-watchdog': ['watchdog'],
  'incident-crash-restart': ['crash', 'crash-restart'],
  'incident-handshake-stall': ['handshake-stall'],
  'incident-hotplug-failure': ['handshake-failure'],
  // The scenario's own `xl cd-insert` is refused by the locked tray on its stderr, which no dom0
  // interface shows; a refusal is observable when the change goes through Xendeck (cmd.request):
  // see the golden bundle cdrom-locked and the end-to-end Force eject test.
  'incident-locked-tray': [],
  'ioreq-exhaustion': ['ioreq-exhausted'],
  'pv-unplug-blacklisted': ['pv-blacklisted'],
  'soft-reset-hvm': ['soft-reset'],
  'ninepfs-bad-evtchn': ['handshake-failure'],
  'ninepfs-bad-path': ['handshake-failure'],
  'ninepfs-bad-ring-ref': ['handshake-failure'],
  'ninepfs-bad-rings': ['handshake-failure'],
  'ninepfs-bad-security-model': ['handshake-failure'],
  'ninepfs-bad-version': ['handshake-failure'],
  'ninepfs-ok': [],
  'pv-unplug-ok': [],
  'pv-unplug-upstream': [],
  'cdrom-dom0': [],
  'cdrom-stubdom-retries': [],
  'cdrom-stubdom-upstream': [],
};

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

function record(name: string, file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'bin/xendeck.mjs'), 'record', '--sim', name, '--speed', '8', '--out', file], { timeout: 120_000 }, (e, stdout, stderr) =>
      e ? reject(new Error(`record ${name}: ${e.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

let dir: string;
const files = new Map<string, string>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'xendeck-scenarios-'));
  // Three at a time: each is a simulator, a helper and a host.
  const queue = [...names];
  await Promise.all(
    [0, 1, 2].map(async () => {
      for (let n = queue.shift(); n; n = queue.shift()) {
        const file = join(dir, `${n}.jsonl`);
        await record(n, file);
        files.set(n, file);
      }
    }),
  );
}, 600_000);

afterAll(() => {
  if (process.env.XENDECK_KEEP_RECORDINGS) console.log(`recordings kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

describe.each(names)('scenario %s, recorded through the helper', (name) => {
  it('verifies: chain, schema and replay determinism', async () => {
    const v = await cli('verify', files.get(name)!);
    expect(v.out).toMatch(/^ok: \d+ records, seq 1\.\.\d+, chain intact; replay reproduced all \d+ recorded transitions/);
    expect(v.code).toBe(0);
  });

  it('replays to the final states and incidents the scenario expects', async () => {
    const scenario = JSON.parse(readFileSync(join(SCENARIOS, `${name}.json`), 'utf8')) as { expect?: { domains?: Record<string, string>; domids?: Record<string, number> } };
    const r = await cli('replay', files.get(name)!, '--json');
    expect(r.code).toBe(0);
    const view = JSON.parse(r.out) as { actors: { kind: string; state: string; context: { name?: string; domid?: number } }[]; incidents: { kind: string; summary: string }[]; faults: unknown[] };
    const domain = (n: string) => view.actors.find((a) => a.kind === 'domain' && a.context.name === n);
    for (const [n, state] of Object.entries(scenario.expect?.domains ?? {})) expect(domain(n)?.state, `domain ${n}`).toBe(state);
    for (const [n, domid] of Object.entries(scenario.expect?.domids ?? {})) expect(domain(n)?.context.domid, `domid of ${n}`).toBe(domid);
    expect(view.faults).toEqual([]);
    const want = INCIDENTS[name];
    const kinds = [...new Set(view.incidents.map((i) => i.kind))].sort();
    if (name === 'incident-hotplug-failure' && kinds.length === 0) {
      // The scenario's own `xl block-attach` fails fast: libxl may remove the device before the
      // helper reads hotplug-status (a watch carries no value). History must then still hold the
      // evidence: the script's error line from xen-hotplug.log.
      const lines = await cli('export', files.get(name)!, '--format', 'csv', '--out', join(dir, `${name}.csv`));
      expect(lines.code).toBe(0);
      expect(readFileSync(join(dir, `${name}.csv`), 'utf8')).toMatch(/missing\.img does not exist/);
    } else if (want) expect(kinds, view.incidents.map((i) => i.summary).join('\n')).toEqual([...want].sort());
  });
});
