import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['machines/**/*.test.ts', 'electron/**/*.test.ts', 'test/**/*.test.ts'],
    // e2e and the load and soak runs have configs of their own (one file at a time): scripts/test.sh runs them after.
    exclude: ['node_modules/**', 'test/e2e/**', 'test/load/**', 'test/soak/soak.test.ts'],
    setupFiles: ['test/fast-check-seed.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
