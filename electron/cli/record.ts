/**
 * `xendeck record [--sim [SCENARIO] [--loop [N]]] --out FILE [--for SECONDS] [--data-dir DIR]`:
 * record live (or simulated) observations to a bundle, with no UI. With --sim
 * the recording ends when the scenario has played (N times with --loop N; a
 * bare --loop plays it until --for or Ctrl-C) or after --for; on the real
 * host it ends after --for, or on Ctrl-C. The bundle is written whole at the
 * end (temp file + rename), so an interrupted run leaves no half bundle.
 */
import { hostname } from 'node:os';
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { manifestFor, fingerprint } from '../../machines/events/bundle.ts';
import { machineVersions } from '../../machines/host/bindings.ts';
import type { XRecord } from '../../machines/events/record.ts';
import { writeBundleFile } from '../shared/bundle-io.ts';
import { RuntimeError, startRuntime } from '../host/runtime.ts';
import { UsageError, type Io } from './main.ts';
import { parseCommon, waitForSignal } from '../host/cli-support.ts';

export async function run(argv: string[], io: Io): Promise<number> {
  const a = parseCommon(argv, { out: { type: 'string' }, for: { type: 'string' }, speed: { type: 'string' }, 'data-dir': { type: 'string' } }, { loop: true });
  if (a.loop !== undefined && !a.sim) throw new UsageError('--loop replays a simulated scenario: use it with --sim');
  const out = a.values.out as string | undefined;
  if (!out) throw new UsageError('--out FILE is required');
  const forS = a.values.for !== undefined ? Number(a.values.for) : undefined;
  if (forS !== undefined && !(forS > 0 && forS <= 7 * 86400)) throw new UsageError(`--for expects seconds (> 0), found "${a.values.for}"`);
  const speed = a.values.speed !== undefined ? Number(a.values.speed) : 1;
  if (!(speed > 0 && speed <= 100)) throw new UsageError(`--speed expects a factor in (0, 100], found "${a.values.speed}"`);
  if (!a.sim && forS === undefined && !process.stdin.isTTY) io.err('xendeck record: recording the real host until interrupted (Ctrl-C)');
  if (a.loop === true && forS === undefined && !process.stdin.isTTY) io.err('xendeck record: playing the scenario over and over until interrupted (Ctrl-C)');

  // The outbox lives here while recording (--data-dir: on a disk of your choice), removed at the end.
  const dataDir = mkdtempSync(join(a.values['data-dir'] !== undefined ? resolve(String(a.values['data-dir'])) : tmpdir(), 'xendeck-record-'));
  const records: XRecord[] = [];
  let rt;
  try {
    rt = await startRuntime({ mode: 'record', sim: a.sim ? { scenario: a.scenario, speed, ...(a.loop !== undefined ? { loop: a.loop } : {}) } : undefined, dataDir, log: (l, m) => l !== 'info' && io.err(`xendeck record: ${m}`) });
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    if (e instanceof RuntimeError) {
      io.err(`xendeck record: ${e.message}`);
      return 2;
    }
    throw e;
  }
  rt.host.onRecords((b) => {
    for (const r of b) records.push(r);
    // The bundle is the store here: everything sealed is kept, so the outbox need not hold it.
    rt.host.ack(b[b.length - 1].seq);
  });
  const sig = waitForSignal();
  const ends: Promise<unknown>[] = [sig.signal];
  if (forS !== undefined) ends.push(new Promise((r) => setTimeout(r, forS * 1000)));
  // A scenario is over when its steps (and its end) have played; a moment more lets the last reports arrive.
  if (rt.sim && forS === undefined) ends.push(rt.sim.done.then(() => new Promise((r) => setTimeout(r, 1000))));
  await Promise.race(ends);
  sig.cancel();
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });

  const xen = rt.sim ? 'simulated' : undefined;
  const m = manifestFor(records, { host: { hostname: hostname(), ...(xen ? { xen } : {}) }, created: new Date().toISOString(), machines: machineVersions() });
  await writeBundleFile(out, m, records);
  const passes = a.loop !== undefined && rt.sim ? `, ${rt.sim.passes} passes of the scenario` : '';
  io.out(`recorded ${records.length} records to ${out} (fingerprint ${fingerprint(m)}${passes})`);
  return 0;
}
