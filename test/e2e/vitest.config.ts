// End-to-end tests: the built renderer in Debian's Chromium against `xendeck serve --sim`.
// Run from the repository root:  npx vitest run --config test/e2e/vitest.config.ts
// (global-setup.ts builds renderer/dist first when it is missing or older than its sources.)
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // One browser and one simulated host at a time: the machines are shared.
    fileParallelism: false,
  },
});
