/**
 * Is Electron's binary installed? The `electron` npm package downloads its
 * binary in a postinstall step, which cannot run everywhere (no network, CI):
 * the package may be absent, or present without its binary. Found by resolving
 * the package and reading its `path.txt`, never by requiring it (its index
 * throws when the binary is missing).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type ElectronProbe = { ok: true; binary: string } | { ok: false; reason: string };

/** The one-line fix, printed when the binary is missing. */
export const ELECTRON_FIX = 'install it with `npm install --no-save electron` (then `npx electron --version` checks it)';

export function findElectron(from: string = import.meta.url): ElectronProbe {
  // XENDECK_ELECTRON=none: behave as if Electron were absent (serve to a browser even where it is installed).
  if (process.env.XENDECK_ELECTRON === 'none') return { ok: false, reason: 'XENDECK_ELECTRON=none' };
  const env = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  let pkgDir: string;
  try {
    pkgDir = dirname(createRequire(from).resolve('electron/package.json'));
  } catch {
    return { ok: false, reason: 'the electron package is not installed' };
  }
  const txt = join(pkgDir, 'path.txt');
  if (!existsSync(txt)) return { ok: false, reason: "the electron package is installed but its binary was never downloaded (no path.txt)" };
  const rel = readFileSync(txt, 'utf8').trim();
  const binary = env ? join(env, rel) : join(pkgDir, 'dist', rel);
  if (!existsSync(binary)) return { ok: false, reason: `Electron's binary is missing (${binary})` };
  return { ok: true, binary };
}
