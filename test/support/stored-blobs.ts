import { writeFile } from 'node:fs/promises';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { openS3BlobStore } from '../../src/storage/s3/open-s3-blob-store.js';
import { S3Layout } from '../../src/storage/s3/s3-layout.js';
import { blobFile } from '../gc/support.js';
import { blobsOnS3, prefixFor, s3Client, s3Settings, useS3Server } from './s3.js';

/**
 * The blob store of the registry whose data directory is `dataDir`, opened from outside, the way an
 * operator would look: the run's S3 bucket (under the registry's prefix) when blobs are in S3, else
 * the data directory. Tests ask it what is stored instead of reading one store's layout.
 */
export async function storeOf(dataDir: string): Promise<BlobStore> {
  if (!blobsOnS3()) return new FilesystemBlobStore(dataDir);
  const settings = s3Settings(await useS3Server(), prefixFor(dataDir));
  return openS3BlobStore({ ...settings, redirect: false, redirectExpiry: 60_000 });
}

/** Whether the registry at `dataDir` stores the blob. */
export async function blobStored(dataDir: string, digest: string): Promise<boolean> {
  return (await (await storeOf(dataDir)).stat(digest)) !== undefined;
}

/** The size of a stored blob; throws when there is none. */
export async function storedSize(dataDir: string, digest: string): Promise<number> {
  const size = await (await storeOf(dataDir)).stat(digest);
  if (size === undefined) throw new Error(`blob ${digest} is not stored`);
  return size;
}

/**
 * Replaces a stored blob's bytes behind the registry's back, as a failing disk or a meddling hand
 * would: the file under the data directory, or the object in the bucket.
 */
export async function overwriteStoredBlob(dataDir: string, digest: string, bytes: Buffer): Promise<void> {
  if (!blobsOnS3()) {
    await writeFile(blobFile(dataDir, digest), bytes);
    return;
  }
  const s3 = await s3Client(await useS3Server());
  await s3.put(new S3Layout(prefixFor(dataDir)).blobKey(digest), bytes);
}

/** The digests of every blob the registry at `dataDir` stores. */
export async function storedDigests(dataDir: string): Promise<Set<string>> {
  const digests = new Set<string>();
  for await (const blob of (await storeOf(dataDir)).list()) digests.add(blob.digest);
  return digests;
}
