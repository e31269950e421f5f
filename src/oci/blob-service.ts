import type { Writable } from 'node:stream';
import { RegistryError } from '../errors/registry-error.js';
import type { ByteRange } from '../storage/blob-store.js';
import { parseDigest } from './digest.js';
import { imageForPull } from './image-resolver.js';
import type { RegistryContext } from './registry-context.js';

export interface BlobInfo {
  readonly digest: string;
  readonly size: number;
}

/**
 * Parses `Range: bytes=START-END`, `bytes=START-` and `bytes=-SUFFIX`. Returns undefined for no
 * header or one this server answers with the whole blob (several ranges, other units).
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  let start: number;
  let end: number;
  if (first === '') {
    start = Math.max(size - Number(last), 0);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (start >= size || end < start || (first === '' && Number(last) === 0)) {
    throw new RegistryError('RANGE_INVALID', `range ${header} is outside the blob's ${size} bytes`, {
      status: 416,
      headers: { 'Content-Range': `bytes */${size}` },
    });
  }
  return { start, end };
}

/** Blob reads and deletes, always through the image that holds the blob. */
export class BlobService {
  constructor(private readonly context: RegistryContext) {}

  async stat(name: string, digestText: string): Promise<BlobInfo> {
    const digest = parseDigest(digestText).value;
    const image = await imageForPull(this.context, name);
    const now = this.context.clock.now();
    // The answer tells the client the blob exists: the promise is recorded first (invariant 2).
    const linked = await this.context.metadata.content.confirmBlob(
      image.id,
      digest,
      now,
      this.context.promises.refreshAfter(now),
    );
    const size = linked ? await this.context.blobs.stat(digest) : undefined;
    if (size === undefined) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not in ${name}`);
    return { digest, size };
  }

  send(blob: BlobInfo, sink: Writable, range: ByteRange | undefined): Promise<void> {
    return this.context.blobs.send(blob.digest, sink, range);
  }

  /** Where the client may fetch the blob from directly, when the store offers that. */
  readUrl(blob: BlobInfo): Promise<string | undefined> {
    return this.context.blobs.readUrl(blob.digest);
  }

  /** Removes the blob from the image; the bytes stay while other images hold them. */
  async delete(name: string, digestText: string): Promise<void> {
    const digest = parseDigest(digestText).value;
    // Looked up, never created: a delete must not leave an empty image behind.
    const image = await imageForPull(this.context, name);
    const { content } = this.context.metadata;
    const outcome = await content.unlinkBlob(image.id, digest);
    if (outcome === 'unknown') throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is not in ${name}`);
    if (outcome === 'referenced') {
      // 405 is the spec's answer for a delete the registry does not allow.
      const manifests = await content.manifestsReferencing(image.id, digest, 5);
      throw new RegistryError(
        'UNSUPPORTED',
        `blob ${digest} is in use by manifest ${manifests.join(', ')} of ${name}; delete the manifest first`,
        { status: 405, detail: { manifests } },
      );
    }
  }
}
