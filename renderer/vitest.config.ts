// The renderer's unit tests (Svelte runes in .svelte.ts need the Svelte plugin;
// the event store runs on fake-indexeddb). Run from the repository root:
//   npx vitest run --config renderer/vitest.config.ts
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  plugins: [svelte()],
  resolve: { conditions: ['browser'] },
  test: {
    include: ['renderer/src/**/*.test.ts'],
    setupFiles: ['renderer/src/lib/db/test-setup.ts', 'test/fast-check-seed.ts'],
    environment: 'happy-dom',
    testTimeout: 30_000,
    pool: 'forks',
  },
});
