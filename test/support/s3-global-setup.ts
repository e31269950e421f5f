import type { TestProject } from 'vitest/node';
import { type S3Server, startS3Server, stopS3Server } from './ceph-s3.js';
import { blobsOnS3, testBucket } from './s3.js';

/**
 * With `MISTRIVE_TEST_BLOBS=s3`, starts one S3 server (Ceph RGW) for the whole run and hands it to
 * every test file; otherwise starts nothing.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server: S3Server | null = null;
  if (blobsOnS3()) server = await startS3Server({ bucket: testBucket });
  project.provide('s3', server);
  return async () => {
    if (server) await stopS3Server(server);
  };
}
