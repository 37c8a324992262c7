/**
 * Shared by the fault tests: record a fault scenario through the real helper
 * and the simulator (as `xendeck record --sim` does, or in-process when the
 * test must act during the run), then judge the bundle with the CLI.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../electron/cli/main.ts';
import { loadBundle, writeBundleFile } from '../../electron/shared/bundle-io.ts';
import { manifestFor } from '../../machines/events/bundle.ts';
import { machineVersions } from '../../machines/host/bindings.ts';
import type { XRecord } from '../../machines/events/record.ts';
import type { Runtime } from '../../electron/host/runtime.ts';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const scenarioFile = (name: string): string => join(ROOT, 'electron/sim/scenarios', `${name}.json`);

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'xendeck-faults-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** `xendeck record --sim <scenario file> --speed 8 --out <out>` in a child process (bounded). */
export function recordCli(scenario: string, out: string, speed = 8): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'bin/xendeck.mjs'), 'record', '--sim', scenario, '--speed', String(speed), '--out', out], { timeout: 45_000 }, (e, stdout, stderr) =>
      e ? reject(new Error(`record ${scenario}: ${e.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

/** Records a fault scenario with `xendeck record --sim` into a temp dir: the bundle's path and records, and the cleanup. */
export async function recordScenario(name: string, speed = 8): Promise<{ file: string; recs: XRecord[]; cleanup: () => void }> {
  const tmp = tempDir();
  const file = join(tmp.dir, `${name}.jsonl`);
  await recordCli(scenarioFile(name), file, speed);
  return { file, recs: await records(file), cleanup: tmp.cleanup };
}

export async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

export async function records(file: string): Promise<XRecord[]> {
  return (await loadBundle(file)).records;
}

/** Collects every record a runtime seals, acking as `xendeck record` does. */
export function collect(rt: Runtime): XRecord[] {
  const recs: XRecord[] = [];
  rt.host.onRecords((b) => {
    for (const r of b) recs.push(r);
    rt.host.ack(b[b.length - 1].seq);
  });
  return recs;
}

/** Writes what a runtime recorded as a bundle, as `xendeck record` does at its end. */
export async function writeBundle(file: string, recs: XRecord[]): Promise<void> {
  const m = manifestFor(recs, { host: { hostname: hostname(), xen: 'simulated' }, created: new Date().toISOString(), machines: machineVersions() });
  await writeBundleFile(file, m, recs);
}

/** Waits until cond() holds, or fails naming what was awaited (bounded; no timing is asserted). */
export async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const statuses = (recs: XRecord[]): Array<XRecord & { data: { state: string; gap: boolean; reason?: string } }> =>
  recs.filter((r) => r.type === 'helper.status') as never;

export const recordingStatuses = (recs: XRecord[]): Array<XRecord & { data: { state: string; reason: string; gap: boolean; pending?: number; detail?: string } }> =>
  recs.filter((r) => r.type === 'recording.status') as never;

export const pathOf = (r: XRecord): string | undefined => (r.data as { path?: string }).path;
