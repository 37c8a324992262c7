import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['machines/**/*.test.ts', 'electron/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['node_modules/**', 'test/e2e/**'],
    setupFiles: ['test/fast-check-seed.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
