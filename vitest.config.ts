import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // MISTRIVE_TEST_METADATA=postgres: one throwaway PostgreSQL for the run (npm run test:postgres).
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end suites start daemons and real clients; two cores are shared between them.
    pool: 'forks',
    maxWorkers: 2,
  },
});
