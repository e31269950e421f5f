import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts an S3 server for the run when MISTRIVE_TEST_BLOBS=s3 (npm run test:s3); else nothing.
    globalSetup: ['test/support/s3-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end suites start daemons and real clients; two cores are shared between them.
    pool: 'forks',
    maxWorkers: 2,
  },
});
