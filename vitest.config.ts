import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end suites start daemons and real clients; two cores are shared between them.
    pool: 'forks',
    maxWorkers: 2,
  },
});
