import type { MetadataStore } from '../db/metadata.js';
import type { Logger } from '../lib/logger.js';
import type { BlobStore } from '../storage/blob-store.js';

/**
 * Records the size of blobs linked before sizes were kept, from the blob store, so usage figures
 * and quotas count them. Runs once at start; after that every link records its size.
 */
export async function backfillBlobSizes(
  metadata: MetadataStore,
  blobs: BlobStore,
  logger: Logger,
): Promise<void> {
  let filled = 0;
  const unknown = new Set<string>();
  for (;;) {
    const digests = (await metadata.usage.blobsWithoutSize(500 + unknown.size)).filter(
      (digest) => !unknown.has(digest),
    );
    if (digests.length === 0) break;
    for (const digest of digests) {
      const size = await blobs.stat(digest);
      if (size === undefined) unknown.add(digest);
      else {
        await metadata.usage.recordBlobSize(digest, size);
        filled++;
      }
    }
  }
  // The per-project counters were kept with the sizes then known: recount them with the real ones.
  if (filled > 0) await metadata.usage.rebuildCounters();
  if (filled > 0) logger.info({ blobs: filled }, 'recorded the sizes of blobs linked by an earlier version');
  if (unknown.size > 0)
    logger.warn({ blobs: unknown.size }, 'linked blobs missing from the blob store count as 0 bytes');
}
