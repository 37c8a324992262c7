// The renderer's build. Run from the repository root: `npx vite build renderer`
// (the CLI makes renderer/ the root, so every path here is relative to it).
// Output: renderer/dist, served by `xendeck serve` and loaded by Electron.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

export default defineConfig({
  // Relative asset URLs: the same build works over http (serve) and file:// (Electron).
  base: './',
  plugins: [svelte({ compilerOptions: { runes: true } })],
  resolve: { conditions: ['browser'] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts: the page's CSP has script-src 'self' only.
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    chunkSizeWarningLimit: 2000,
  },
  worker: { format: 'es' },
  // The machines and the shared contract live outside renderer/.
  server: { fs: { allow: ['..'] } },
});
