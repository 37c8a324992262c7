/** Test support for the host's cross-folder tests: the real helper binary, built when missing. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../electron/host/runtime.ts';

export function ensureHelper(): string {
  const p = join(REPO_ROOT, 'native', 'build', 'xendeck-helper');
  if (!existsSync(p)) execFileSync('make', ['-s', '-C', join(REPO_ROOT, 'native')], { stdio: 'inherit' });
  return p;
}
