/**
 * `xendeck demo` (npm run demo): a simulated Xen host playing the lively demo
 * scenario, and the app on it: Electron when its binary is installed,
 * otherwise `serve` and the URL to open in a browser.
 */
import { parseCommon } from '../host/cli-support.ts';
import { ELECTRON_FIX, findElectron } from '../host/electron-binary.ts';
import { runElectron } from './start.ts';
import { run as serve } from './serve.ts';
import type { Io } from './main.ts';

export async function run(argv: string[], io: Io): Promise<number> {
  const a = parseCommon(argv, { port: { type: 'string' }, speed: { type: 'string' } });
  const scenario = a.scenario ?? 'demo';
  const e = findElectron();
  if (e.ok) return runElectron(e.binary, { XENDECK_SIM: scenario });
  io.err(`xendeck demo: Electron is not available (${e.reason}): ${ELECTRON_FIX}; serving the demo to your browser instead`);
  const rest = argv.filter((x, i) => x !== '--sim' && !x.startsWith('--sim=') && !(argv[i - 1] === '--sim' && !x.startsWith('-')));
  return serve(['--sim', scenario, ...rest], io);
}
