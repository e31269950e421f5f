import type { Hash } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { ImageRecord } from '../db/metadata.js';
import { isQuotaExceeded } from '../db/usage.js';
import { RegistryError } from '../errors/registry-error.js';
import { storeBytes } from '../gc/store-bytes.js';
import { createDigester, type Digest } from '../oci/digest.js';
import { quotaRefusal } from '../oci/quota.js';
import type { RegistryContext } from '../oci/registry-context.js';

/** Where a blob fetched from upstream goes while it is stored: the client that asked, once the size is known. */
export type BlobTee = (size: number | undefined) => Writable;

export interface UpstreamBlob {
  /** The upstream's Content-Length, when it sent one. */
  readonly size: number | undefined;
  readonly body: AsyncIterable<Buffer>;
}

/**
 * Stores a blob as it arrives from upstream, and hands the same bytes to the client that asked
 * (`tee`) as they arrive. The blob is committed, and linked into the image like a pushed one (so
 * usage, quotas, cleanup and the collector treat it the same), only once its digest verifies. A
 * client that goes away does not stop the fill: the bytes keep being stored for the next pull.
 */
export async function fillBlob(
  context: RegistryContext,
  image: ImageRecord,
  digest: Digest,
  upstream: UpstreamBlob,
  tee: BlobTee | undefined,
): Promise<number> {
  const { blobs, metadata, ids, clock } = context;
  const id = ids.next();
  await blobs.createUpload(id);
  const sink = tee?.(upstream.size);
  const hash = createDigester(digest.algorithm);
  const held: HeldBack = { last: undefined };
  try {
    const size = await blobs.append(id, 0, teeChunks(upstream.body, hash, sink, held));
    const actual = `${digest.algorithm}:${hash.digest('hex')}`;
    if (actual !== digest.value || (upstream.size !== undefined && upstream.size !== size)) {
      throw new RegistryError(
        'UNKNOWN',
        `the upstream sent ${size} bytes with digest ${actual} for blob ${digest.value}; nothing was cached`,
        { status: 502 },
      );
    }
    const linked = await storeBytes({
      place: () => blobs.commit(id, digest.value),
      record: () => metadata.content.linkBlob(image.id, digest.value, size, clock.now()),
      present: async () => (await blobs.stat(digest.value)) !== undefined,
    });
    if (linked === 'no-image') {
      throw new RegistryError(
        'NAME_UNKNOWN',
        `${image.name} was deleted while blob ${digest.value} was cached`,
      );
    }
    if (isQuotaExceeded(linked)) throw quotaRefusal(linked);
    // Only now is the last chunk sent: a client holding the whole blob knows the cache holds it too.
    if (sink && !sink.destroyed) sink.end(held.last);
    return size;
  } catch (error) {
    // The client must not take what it got for a whole, verified blob.
    sink?.destroy();
    throw error;
  } finally {
    await blobs.deleteUpload(id);
  }
}

/**
 * Links a blob the store holds already (another repository cached or pushed it) into the image.
 * False when the bytes turned out to be gone (collected meanwhile): the caller fetches them again.
 */
export async function linkStoredBlob(
  context: RegistryContext,
  image: ImageRecord,
  digest: string,
  size: number,
): Promise<boolean> {
  const { blobs, metadata, clock } = context;
  const present = async () => (await blobs.stat(digest)) !== undefined;
  const linked = await storeBytes({
    place: async () => undefined,
    record: () => metadata.content.linkBlob(image.id, digest, size, clock.now()),
    present,
  });
  if (linked === 'no-image') throw new RegistryError('NAME_UNKNOWN', 'repository not found');
  if (isQuotaExceeded(linked)) throw quotaRefusal(linked);
  return present();
}

/** The chunk the client has not been sent yet. */
interface HeldBack {
  last: Buffer | undefined;
}

/**
 * Hashes the upstream's chunks on their way to the store, and sends each to the client as the next
 * one arrives: the last chunk is held back (`held`) until the blob has verified and been stored.
 */
async function* teeChunks(
  body: AsyncIterable<Buffer>,
  hash: Hash,
  sink: Writable | undefined,
  held: HeldBack,
): AsyncIterable<Buffer> {
  for await (const chunk of body) {
    hash.update(chunk);
    const previous = held.last;
    held.last = chunk;
    // The client gets the bytes at its own pace; once it is gone, only the store does.
    if (previous && sink && !sink.destroyed && !sink.write(previous)) await drainedOrClosed(sink);
    yield chunk;
  }
}

function drainedOrClosed(sink: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      sink.off('drain', done);
      sink.off('close', done);
      resolve();
    };
    sink.on('drain', done);
    sink.on('close', done);
  });
}
