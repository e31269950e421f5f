import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // MISTRIVE_TEST_METADATA=postgres: one throwaway PostgreSQL for the run (npm run test:postgres);
    // MISTRIVE_TEST_BLOBS=s3: one S3 server for the run (npm run test:s3). Otherwise nothing starts.
    globalSetup: ['test/support/global-setup.ts', 'test/support/s3-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end suites start daemons and real clients; two cores are shared between them.
    pool: 'forks',
    maxWorkers: 2,
  },
});
