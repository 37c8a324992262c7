// Bundles the Electron main process and the preload for packaging (and for
// running the app from a checkout, where electron/main/entry.mjs finds the preload in out/):
//   out/main/index.js       ESM, Node built-ins and electron left external
//   out/preload/preload.cjs one CommonJS file that requires only electron (a sandboxed
//                           preload may require nothing else; STYLE.md G5)
// Uses esbuild, which comes with vite and tsx.
import { build } from 'esbuild';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

await build({
  entryPoints: [join(root, 'electron/preload/preload.preload.ts')],
  outfile: join(root, 'out/preload/preload.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['electron'],
  minify: true,
  logLevel: 'warning',
});

await build({
  entryPoints: [join(root, 'electron/main/index.main.ts')],
  outfile: join(root, 'out/main/index.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['electron', ...node],
  // Packages that load optional native add-ons at run time.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
console.log('built out/main/index.js and out/preload/preload.cjs');
