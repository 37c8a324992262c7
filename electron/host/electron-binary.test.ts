import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findElectron } from './electron-binary.ts';
import { tempDir } from './test-support.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

function project(): string {
  const t = tempDir('xendeck-electron-');
  cleanup = t.cleanup;
  writeFileSync(join(t.dir, 'index.js'), '');
  return t.dir;
}

describe("finding Electron's binary", () => {
  it('says when the electron package is not installed', () => {
    const d = project();
    expect(findElectron(join(d, 'index.js'))).toEqual({ ok: false, reason: 'the electron package is not installed' });
  });

  it('says when the package is there but its binary was never downloaded', () => {
    const d = project();
    mkdirSync(join(d, 'node_modules', 'electron'), { recursive: true });
    writeFileSync(join(d, 'node_modules', 'electron', 'package.json'), '{"name":"electron","version":"38.0.0"}');
    const r = findElectron(join(d, 'index.js'));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/never downloaded/);
    writeFileSync(join(d, 'node_modules', 'electron', 'path.txt'), 'electron');
    const r2 = findElectron(join(d, 'index.js'));
    expect(!r2.ok && r2.reason).toMatch(/binary is missing/);
  });

  it('finds the binary when it is there', () => {
    const d = project();
    const pkg = join(d, 'node_modules', 'electron');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"electron","version":"38.0.0"}');
    writeFileSync(join(pkg, 'path.txt'), 'electron');
    writeFileSync(join(pkg, 'dist', 'electron'), '');
    expect(findElectron(join(d, 'index.js'))).toEqual({ ok: true, binary: join(pkg, 'dist', 'electron') });
  });
});
