/**
 * `xendeck start` (what `npm start` runs): the desktop app on this host. When
 * Electron's binary is not installed it says so in one line, with the fix,
 * and falls back to `xendeck serve`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ELECTRON_FIX, findElectron } from '../host/electron-binary.ts';
import { REPO_ROOT } from '../host/runtime.ts';
import { parseCommon } from '../host/cli-support.ts';
import { run as serve } from './serve.ts';
import type { Io } from './main.ts';

/** The Electron entry: registers the TypeScript loader, then boots electron/main/index.main.ts. */
export const ELECTRON_ENTRY = join(REPO_ROOT, 'electron', 'main', 'entry.mjs');

/** Run the desktop app with Electron's binary; resolves with its exit code. The preload is bundled first when missing. */
export async function runElectron(binary: string, env: Record<string, string> = {}): Promise<number> {
  if (!existsSync(join(REPO_ROOT, 'out', 'preload', 'preload.cjs'))) {
    const built = spawnSync(process.execPath, [join(REPO_ROOT, 'build', 'build-electron.mjs')], { stdio: 'inherit' });
    if (built.status !== 0) return 2;
  }
  return new Promise((resolve) => {
    const child = spawn(binary, [ELECTRON_ENTRY], { stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', () => resolve(2));
  });
}

export async function run(argv: string[], io: Io): Promise<number> {
  const a = parseCommon(argv, { port: { type: 'string' } });
  const e = findElectron();
  if (e.ok) return runElectron(e.binary, a.sim ? { XENDECK_SIM: a.scenario ?? 'demo' } : {});
  io.err(`xendeck: Electron is not available (${e.reason}): ${ELECTRON_FIX}; serving the app to your browser instead`);
  return serve(argv, io);
}
