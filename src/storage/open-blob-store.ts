import type { ServeConfig } from '../config/config.js';
import type { BlobStore } from './blob-store.js';
import { FilesystemBlobStore } from './filesystem-blob-store.js';

/** The blob store the configuration names: an S3 bucket when `blobs.s3` is set, else the data directory. */
export async function openBlobStore(config: ServeConfig): Promise<BlobStore> {
  const s3 = config.blobs.s3;
  if (s3) {
    // Loaded only here: the S3 SDK costs about 200 ms to import, which no filesystem start should pay.
    const { openS3BlobStore } = await import('./s3/open-s3-blob-store.js');
    return openS3BlobStore(s3);
  }
  const store = new FilesystemBlobStore(config.dataDir);
  await store.init();
  return store;
}
