import { createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { _Object, S3Client } from '@aws-sdk/client-s3';
import { type BlobFile, type BlobStore, type ByteRange, UploadOffsetError } from '../blob-store.js';
import { assembleObject, type SourceObject } from './s3-assemble.js';
import type { S3Commands } from './s3-client.js';
import { S3Layout } from './s3-layout.js';

/**
 * One append is stored in parts of at most this size, each a PutObject that is durable once it
 * answers. Parts of 5 MiB or more are copied into the blob server-side at commit; 8 MiB keeps
 * S3's 10,000-part limit above 80 GB and two parts of memory per append in flight.
 */
const partBytes = 8 * 1024 * 1024;
/** Keys one DeleteObjects request takes. */
const deleteBatch = 1000;

export interface S3BlobStoreOptions {
  readonly bucket: string;
  /** Prepended to every key, e.g. `registry/`. */
  readonly prefix: string;
  /** Signs a GET URL for a blob (presigned redirects), or undefined when reads are not redirected. */
  readonly signGet?: (key: string) => Promise<string>;
}

/**
 * Blobs in an S3-compatible object store (layout in `s3-layout.ts`). Nothing about an upload lives in
 * one instance: its bytes are objects under a staging prefix, so any instance can continue it.
 *
 * How an upload's digest survives a change of instance. Node's hashes cannot be serialized, and
 * SHA-256 digests of parts cannot be combined into the digest of the whole. So the upload service
 * keeps the running hash in memory while one instance receives an upload (the bytes are hashed as
 * they go through, and committing reads nothing back), and the instance that did not see the earlier
 * bytes re-hashes them from the staged parts once (`readUpload`), then carries on. Measured here
 * against Ceph RGW on the same machine, with 128 MiB: reading the staged parts back and hashing them
 * ran as fast as storing them had (18 MB/s each, on a machine loaded 9x over its 2 cores), so a
 * resume elsewhere costs one more pass over the bytes already sent, once, and the common case (one
 * instance receives the whole upload) costs nothing. Keeping per-part digests instead would still
 * need that pass at commit, for every upload.
 *
 * Small chunks (a client sending 1 MiB PATCHes) are each a staged object, durable before the PATCH
 * is answered. At commit, runs of small parts are joined into parts of at least S3's 5 MiB minimum
 * and uploaded; parts already that large are copied server-side. The blob appears at its
 * content-addressed key only when the multipart upload completes, so nobody sees a partial blob.
 */
export class S3BlobStore implements BlobStore {
  private readonly layout: S3Layout;

  constructor(
    private readonly s3: S3Commands,
    private readonly options: S3BlobStoreOptions,
  ) {
    this.layout = new S3Layout(options.prefix);
  }

  /** Fails with a clear message when the bucket cannot be reached with the credentials found. */
  async init(): Promise<void> {
    await this.s3.headBucket();
  }

  async stat(digest: string): Promise<number | undefined> {
    return this.s3.size(this.layout.blobKey(digest));
  }

  async send(digest: string, sink: Writable, range?: ByteRange): Promise<void> {
    const body = await this.s3.read(this.layout.blobKey(digest), range);
    await pipeline(body, sink);
  }

  async readAll(digest: string): Promise<Buffer> {
    return this.s3.readAll(this.layout.blobKey(digest));
  }

  async linkOrCopy(digest: string, target: string): Promise<'linked' | 'copied'> {
    const body = await this.s3.read(this.layout.blobKey(digest));
    await pipeline(body, createWriteStream(target, { flags: 'wx' }));
    return 'copied';
  }

  async put(digest: string, bytes: Buffer): Promise<void> {
    if ((await this.stat(digest)) !== undefined) return;
    await this.s3.put(this.layout.blobKey(digest), bytes);
  }

  async delete(digest: string): Promise<boolean> {
    const key = this.layout.blobKey(digest);
    if ((await this.s3.size(key)) === undefined) return false;
    await this.s3.delete(key);
    return true;
  }

  async *list(): AsyncIterable<BlobFile> {
    for await (const object of this.s3.list(this.layout.blobsPrefix)) {
      const digest = this.layout.digestOf(object.Key ?? '');
      if (digest) yield { digest, size: object.Size ?? 0, modifiedAt: object.LastModified ?? new Date(0) };
    }
  }

  async quarantine(digest: string): Promise<void> {
    const key = this.layout.blobKey(digest);
    const size = await this.s3.size(key);
    if (size === undefined)
      throw Object.assign(new Error(`blob ${digest} is not stored`), { code: 'ENOENT' });
    await assembleObject(this.s3, this.layout.quarantineKey(digest), [{ key, size }]);
    await this.s3.delete(key);
  }

  async uploadSize(id: string): Promise<number | undefined> {
    // The last part lists first (see the layout); the marker lists after every part.
    const [first] = await this.s3.listPage(this.layout.uploadPrefix(id), 1);
    if (!first?.Key) return undefined;
    const offset = this.layout.partOffset(id, first.Key);
    return offset === undefined ? 0 : offset + (first.Size ?? 0);
  }

  async createUpload(id: string): Promise<void> {
    await this.s3.put(this.layout.startedKey(id), Buffer.alloc(0));
  }

  async append(id: string, offset: number, chunks: AsyncIterable<Buffer>): Promise<number> {
    const size = await this.uploadSize(id);
    if (size === undefined) throw Object.assign(new Error(`upload ${id} does not exist`), { code: 'ENOENT' });
    if (size !== offset) throw new UploadOffsetError(size);
    // One part being stored while the next is gathered, so the network in and out overlap.
    let position = offset;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let inFlight: Promise<unknown> = Promise.resolve();
    const flush = async () => {
      await inFlight;
      const bytes = Buffer.concat(batch, batchBytes);
      const key = this.layout.partKey(id, position);
      position += batchBytes;
      batch = [];
      batchBytes = 0;
      inFlight = this.s3.put(key, bytes);
      // A failed put must not go unhandled while the next part is still arriving; the next flush rethrows it.
      inFlight.catch(() => undefined);
    };
    try {
      for await (const chunk of chunks) {
        let rest = chunk;
        while (batchBytes + rest.length >= partBytes) {
          const room = partBytes - batchBytes;
          batch.push(rest.subarray(0, room));
          batchBytes += room;
          rest = rest.subarray(room);
          await flush();
        }
        if (rest.length > 0) {
          batch.push(rest);
          batchBytes += rest.length;
        }
      }
    } finally {
      // Whatever arrived before a client hung up is kept: the client can resume after it.
      if (batchBytes > 0) await flush();
      await inFlight;
    }
    return position;
  }

  async readUpload(id: string): Promise<Readable> {
    const parts = await this.uploadParts(id);
    const s3 = this.s3;
    return Readable.from(
      (async function* () {
        for (const part of parts) yield* await s3.read(part.key);
      })(),
      { objectMode: false },
    );
  }

  async commit(id: string, digest: string): Promise<void> {
    if ((await this.stat(digest)) !== undefined) return;
    await assembleObject(this.s3, this.layout.blobKey(digest), await this.uploadParts(id));
  }

  async deleteUpload(id: string): Promise<void> {
    const keys: string[] = [];
    for await (const object of this.s3.list(this.layout.uploadPrefix(id)))
      if (object.Key) keys.push(object.Key);
    for (let i = 0; i < keys.length; i += deleteBatch)
      await this.s3.deleteMany(keys.slice(i, i + deleteBatch));
  }

  async staleUploads(before: Date): Promise<string[]> {
    const lastWritten = new Map<string, Date>();
    for await (const object of this.s3.list(this.layout.uploadsPrefix)) {
      const id = this.layout.uploadIdOf(object.Key ?? '');
      const written = object.LastModified ?? new Date(0);
      if (id !== undefined && !((lastWritten.get(id) ?? 0) > written)) lastWritten.set(id, written);
    }
    return [...lastWritten].filter(([, written]) => written < before).map(([id]) => id);
  }

  /** Only under the keys this store completes multipart uploads at: a shared bucket's other writers are left alone. */
  async abortStaleWrites(before: Date): Promise<number> {
    let aborted = 0;
    for (const prefix of [this.layout.blobsPrefix, this.layout.quarantinePrefix]) {
      aborted += await this.s3.abortMultipartUploads(prefix, before);
    }
    return aborted;
  }

  async readUrl(digest: string): Promise<string | undefined> {
    return this.options.signGet?.(this.layout.blobKey(digest));
  }

  /**
   * An upload's parts from offset 0, each starting where the one before ended. A part no chain
   * reaches (left by two instances appending to one upload at once) is ignored.
   */
  private async uploadParts(id: string): Promise<SourceObject[]> {
    const byOffset = new Map<number, _Object>();
    for await (const object of this.s3.list(this.layout.uploadPrefix(id))) {
      const offset = this.layout.partOffset(id, object.Key ?? '');
      if (offset !== undefined) byOffset.set(offset, object);
    }
    const parts: SourceObject[] = [];
    for (let at = 0, part = byOffset.get(0); part; part = byOffset.get(at)) {
      const size = part.Size ?? 0;
      if (size === 0) break;
      parts.push({ key: part.Key as string, size, etag: part.ETag });
      at += size;
    }
    return parts;
  }
}

export type { S3Client };
