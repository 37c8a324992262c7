// The load and soak runs (issue 8's "Must show"): each drives a hundred simulated guests or a
// looped scenario through the real helper, timing-sensitive by nature, so they run one at a time
// after the rest of the suite, never beside other heavy files on a two-core machine.
// Run from the repository root:  npx vitest run --config test/pressure.vitest.config.ts
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/load/**/*.test.ts', 'test/soak/soak.test.ts'],
    setupFiles: ['test/fast-check-seed.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
