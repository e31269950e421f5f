import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryError } from '../errors/registry-error.js';
import { parseManifest } from '../oci/manifest.js';
import { mediaTypes } from '../oci/media-types.js';
import type { BlobStore } from '../storage/blob-store.js';
import { scanTargetOf } from './scan-targets.js';
import { ScanFailure } from './scanner.js';

export interface LaidOut {
  /** Blobs that are hard links to the stored ones. */
  readonly linked: number;
  /** Blobs that had to be copied (another filesystem, or an object store). */
  readonly copied: number;
}

/**
 * Lays one stored image out as an OCI image layout at `dir` (an empty directory): the
 * `oci-layout` marker, an `index.json` naming the manifest, and `blobs/ALG/HEX` for the manifest,
 * its config and its layers, hard-linked to the stored blobs wherever the store allows it.
 */
export async function writeImageLayout(blobs: BlobStore, digest: string, dir: string): Promise<LaidOut> {
  const bytes = await stored(digest, 'the manifest', () => blobs.readAll(digest));
  let manifest: ReturnType<typeof parseManifest>;
  try {
    manifest = parseManifest(bytes, undefined);
  } catch (error) {
    if (error instanceof RegistryError)
      throw new ScanFailure('permanent', `cannot read the manifest: ${error.message}`);
    throw error;
  }
  const target = scanTargetOf(manifest);
  if (target.kind !== 'image') throw new ScanFailure('permanent', `${digest} is not an image manifest`);

  let linked = 0;
  let copied = 0;
  const digests = [...new Set([digest, ...manifest.blobs.map((blob) => blob.digest)])];
  for (const blob of digests) {
    const [algorithm = '', hex = ''] = blob.split(':');
    await mkdir(join(dir, 'blobs', algorithm), { recursive: true });
    const how = await stored(blob, 'a blob of the image', () =>
      blobs.linkOrCopy(blob, join(dir, 'blobs', algorithm, hex)),
    );
    if (how === 'linked') linked++;
    else copied++;
  }
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: mediaTypes.ociIndex,
      manifests: [
        {
          mediaType: manifest.mediaType,
          digest,
          size: bytes.length,
          annotations: { 'org.opencontainers.image.ref.name': 'scan' },
        },
      ],
    }),
  );
  return { linked, copied };
}

/** A blob that is no longer stored (deleted since the push) cannot be scanned, now or later. */
async function stored<T>(digest: string, what: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ScanFailure('permanent', `${what} (${digest}) is no longer stored`);
    }
    throw error;
  }
}
