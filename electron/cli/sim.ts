/**
 * `xendeck sim [--scenario FILE [--loop [N]]] [--socket P] [--speed X]`: the
 * simulated Xen host alone (`--loop` plays the scenario again and again, or N times). Prints its xenstore socket, its xl and the helper command line
 * that runs against it, and runs until Ctrl-C.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { helperPath, scenarioPath } from '../host/runtime.ts';
import { parseCommon, waitForSignal } from '../host/cli-support.ts';
import { parseSpeed } from './serve.ts';
import { UsageError, type Io } from './main.ts';

export async function run(argv: string[], io: Io): Promise<number> {
  const a = parseCommon(argv, { scenario: { type: 'string' }, socket: { type: 'string' }, speed: { type: 'string' } }, { loop: true });
  if (a.sim) throw new UsageError('sim takes --scenario FILE, not --sim');
  const file = a.values.scenario !== undefined ? scenarioPath(String(a.values.scenario)) : undefined;
  if (file && !existsSync(file)) {
    io.err(`xendeck sim: no scenario ${a.values.scenario} (looked for ${file})`);
    return 2;
  }
  if (a.loop !== undefined && !file) throw new UsageError('--loop replays a scenario: use it with --scenario FILE');
  const speed = parseSpeed(a.values.speed);
  const dir = mkdtempSync(join(tmpdir(), 'xendeck-sim-'));
  const { startSimulator } = await import('../sim/sim.ts');
  const sim = await startSimulator({ ...(file ? { scenario: file } : {}), dir, speed, ...(a.values.socket ? { socketPath: resolve(String(a.values.socket)) } : {}), ...(a.loop !== undefined ? { loop: a.loop } : {}) });
  sim.events.on('pass', (p: { pass: number; of?: number }) => io.out(`scenario pass ${p.pass}${p.of ? ` of ${p.of}` : ''} begins`));
  io.out(`xenstore socket: ${sim.xenstoreSocket}`);
  io.out(`xl:              ${sim.xlPath}`);
  io.out(`qmp dir:         ${sim.qmpDir}`);
  io.out(`log dir:         ${sim.logDir}`);
  io.out(`lock dir:        ${sim.lockDir}`);
  io.out(`helper:          ${helperPath()} --xenstore-socket ${sim.xenstoreSocket} --qmp-dir ${sim.qmpDir} --xl ${sim.xlPath} --log-dir ${sim.logDir} --lock-dir ${sim.lockDir}`);
  io.out('(Ctrl-C to stop)');
  const sig = waitForSignal();
  await sig.signal;
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
  return 0;
}
