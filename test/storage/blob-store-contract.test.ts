import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { S3Config } from '../../src/config/config.js';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { FilesystemBlobStore } from '../../src/storage/filesystem-blob-store.js';
import { openS3BlobStore } from '../../src/storage/s3/open-s3-blob-store.js';
import { releaseS3Server, type S3Settings, s3Settings, useS3Server } from '../support/s3.js';
import { tempDir } from '../support/temp.js';

/**
 * What every blob store must do, run against each one: the filesystem store and the S3 store on a
 * real S3 server (Ceph RGW). `open` makes a second store on the same storage, as another instance
 * of the registry would.
 */

interface StoreUnderTest {
  readonly name: string;
  setUp(): Promise<{ open: () => Promise<BlobStore>; tearDown: () => Promise<void> }>;
}

const filesystem: StoreUnderTest = {
  name: 'filesystem',
  async setUp() {
    const dir = await tempDir('mistrive-blobs-');
    return {
      open: async () => {
        const store = new FilesystemBlobStore(dir.path);
        await store.init();
        return store;
      },
      tearDown: dir.remove,
    };
  },
};

const s3: StoreUnderTest = {
  name: 's3',
  async setUp() {
    const server = await useS3Server();
    const prefix = `contract/${randomBytes(6).toString('hex')}/`;
    return { open: () => openS3BlobStore(settings(s3Settings(server, prefix))), tearDown: async () => {} };
  },
};

/** Config defaults applied, as `loadServeConfig` would. */
function settings(partial: S3Settings): S3Config {
  return { redirect: false, redirectExpiry: 60_000, ...partial };
}

const mib = 1024 * 1024;

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

async function* chunksOf(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function readStream(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** What `send` writes; each chunk is copied, since a store may reuse its buffers once a write called back. */
async function sent(
  store: BlobStore,
  digest: string,
  range?: { start: number; end: number },
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  await store.send(digest, sink, range);
  return Buffer.concat(chunks);
}

/** Pushes `bytes` as chunks of `chunk` bytes, one append each (one PATCH each), and commits them. */
async function upload(store: BlobStore, id: string, bytes: Buffer, chunk: number): Promise<string> {
  await store.createUpload(id);
  let offset = 0;
  for (let at = 0; at < bytes.length; at += chunk) {
    offset = await store.append(id, offset, chunksOf(bytes.subarray(at, at + chunk), 64 * 1024));
  }
  expect(offset).toBe(bytes.length);
  const digest = sha256(bytes);
  await store.commit(id, digest);
  return digest;
}

afterAll(releaseS3Server);

describe.each([filesystem, s3])('$name blob store', (kind) => {
  let open: () => Promise<BlobStore>;
  let tearDown: () => Promise<void>;
  let store: BlobStore;

  beforeAll(async () => {
    ({ open, tearDown } = await kind.setUp());
  });
  afterAll(() => tearDown());
  beforeEach(async () => {
    store = await open();
  });

  it('stores small content, reads it whole and in ranges, lists and deletes it', async () => {
    const bytes = randomBytes(3000);
    const digest = sha256(bytes);
    expect(await store.stat(digest)).toBeUndefined();
    await store.put(digest, bytes);
    await store.put(digest, bytes);
    expect(await store.stat(digest)).toBe(3000);
    expect(sha256(await store.readAll(digest))).toBe(sha256(bytes));
    expect(sha256(await sent(store, digest))).toBe(sha256(bytes));
    expect(sha256(await sent(store, digest, { start: 100, end: 199 }))).toBe(
      sha256(bytes.subarray(100, 200)),
    );
    const listed = [];
    for await (const blob of store.list()) listed.push(blob);
    expect(listed).toContainEqual(expect.objectContaining({ digest, size: 3000 }));
    expect(await store.delete(digest)).toBe(true);
    expect(await store.delete(digest)).toBe(false);
    expect(await store.stat(digest)).toBeUndefined();
  });

  it('takes an upload in 1 MiB chunks, reads it back and commits it content-addressed', async () => {
    const bytes = randomBytes(12 * mib + 12345);
    const id = `chunked-${randomBytes(4).toString('hex')}`;
    const digest = await upload(store, id, bytes, mib);
    expect(await store.stat(digest)).toBe(bytes.length);
    expect(sha256(await sent(store, digest))).toBe(digest);
    // The upload stays until deleted, so its bytes can be committed again.
    expect(await store.uploadSize(id)).toBe(bytes.length);
    expect(sha256(await readStream(await store.readUpload(id)))).toBe(sha256(bytes));
    await store.deleteUpload(id);
    expect(await store.uploadSize(id)).toBeUndefined();
  });

  it('commits a monolithic upload of several parts, and a blob that is there already is left alone', async () => {
    const bytes = randomBytes(21 * mib);
    const id = `whole-${randomBytes(4).toString('hex')}`;
    const digest = await upload(store, id, bytes, bytes.length);
    expect(sha256(await sent(store, digest, { start: 0, end: bytes.length - 1 }))).toBe(digest);
    const tail = await sent(store, digest, { start: 9 * mib - 10, end: 9 * mib + 10 });
    expect(sha256(tail)).toBe(sha256(bytes.subarray(9 * mib - 10, 9 * mib + 11)));
    await store.commit(id, digest);
    expect(await store.stat(digest)).toBe(bytes.length);
  });

  it('commits chunks of mixed sizes, small ones between large ones', async () => {
    const sizes = [mib, 9 * mib, 2 * mib, 100, 6 * mib, 3];
    const bytes = randomBytes(sizes.reduce((a, b) => a + b, 0));
    const id = `mixed-${randomBytes(4).toString('hex')}`;
    await store.createUpload(id);
    let offset = 0;
    for (const size of sizes) {
      offset = await store.append(id, offset, chunksOf(bytes.subarray(offset, offset + size), 256 * 1024));
    }
    const digest = sha256(bytes);
    await store.commit(id, digest);
    expect(sha256(await store.readAll(digest))).toBe(sha256(bytes));
  });

  it('continues an upload on another instance from the bytes stored, and refuses a wrong offset', async () => {
    const bytes = randomBytes(3 * mib);
    const id = `resume-${randomBytes(4).toString('hex')}`;
    await store.createUpload(id);
    expect(await store.uploadSize(id)).toBe(0);
    const first = await store.append(id, 0, chunksOf(bytes.subarray(0, mib), 1000));
    const other = await open();
    expect(await other.uploadSize(id)).toBe(mib);
    await expect(other.append(id, 10, chunksOf(bytes.subarray(10), mib))).rejects.toMatchObject({
      expected: mib,
    });
    expect(sha256(await readStream(await other.readUpload(id)))).toBe(sha256(bytes.subarray(0, first)));
    const size = await other.append(id, first, chunksOf(bytes.subarray(first), mib));
    expect(size).toBe(bytes.length);
    await other.commit(id, sha256(bytes));
    expect(sha256(await store.readAll(sha256(bytes)))).toBe(sha256(bytes));
  });

  it('keeps every byte that arrived before a client hung up', async () => {
    const id = `cut-${randomBytes(4).toString('hex')}`;
    await store.createUpload(id);
    async function* cutOff(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(700 * 1024, 1);
      yield Buffer.alloc(700 * 1024, 2);
      throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
    }
    await expect(store.append(id, 0, cutOff())).rejects.toThrow('aborted');
    expect(await (await open()).uploadSize(id)).toBe(1400 * 1024);
  });

  it('copies a blob to a local file for the scanner', async () => {
    const bytes = randomBytes(2 * mib);
    const digest = sha256(bytes);
    await store.put(digest, bytes);
    const dir = await tempDir();
    try {
      const target = join(dir.path, 'layer');
      expect(['linked', 'copied']).toContain(await store.linkOrCopy(digest, target));
      expect(sha256(await readFile(target))).toBe(sha256(bytes));
    } finally {
      await dir.remove();
    }
  });

  it('quarantines a blob: it is served no longer', async () => {
    const bytes = randomBytes(100);
    const digest = sha256(bytes);
    await store.put(digest, bytes);
    await store.quarantine(digest);
    expect(await store.stat(digest)).toBeUndefined();
    for await (const blob of store.list()) expect(blob.digest).not.toBe(digest);
  });

  it('names uploads not written to since a moment as stale, and only those', async () => {
    const old = `old-${randomBytes(4).toString('hex')}`;
    await store.createUpload(old);
    await store.append(old, 0, chunksOf(Buffer.alloc(10), 10));
    const future = new Date(Date.now() + 60_000);
    expect(await store.staleUploads(future)).toContain(old);
    expect(await store.staleUploads(new Date(Date.now() - 60_000))).not.toContain(old);
    await store.deleteUpload(old);
    expect(await store.staleUploads(future)).not.toContain(old);
  });
});

describe('s3 blob store only', () => {
  it('aborts a multipart write a crashed commit left behind, once it is stale', async () => {
    const server = await useS3Server();
    const prefix = `abort/${randomBytes(6).toString('hex')}/`;
    const store = await openS3BlobStore(settings(s3Settings(server, prefix)));
    const { connectS3 } = await import('../../src/storage/s3/s3-client.js');
    const client = await connectS3(s3Settings(server, ''));
    const uploadId = await client.startMultipart(`${prefix}blobs/sha256/ab/abandoned`);
    // Another writer's multipart upload in the same bucket, outside the store's keys, is left alone.
    const foreign = await client.startMultipart(`${prefix}elsewhere/object`);
    expect(await store.abortStaleWrites(new Date(Date.now() - 60_000))).toBe(0);
    expect(await store.abortStaleWrites(new Date(Date.now() + 60_000))).toBe(1);
    await expect(client.abortMultipart(`${prefix}blobs/sha256/ab/abandoned`, uploadId)).rejects.toThrow();
    await client.abortMultipart(`${prefix}elsewhere/object`, foreign);
  });

  it('redirects reads to a presigned URL that serves the blob, ranges included', async () => {
    const server = await useS3Server();
    const prefix = `redirect/${randomBytes(6).toString('hex')}/`;
    const store = await openS3BlobStore(settings({ ...s3Settings(server, prefix), redirect: true }));
    const bytes = randomBytes(5000);
    const digest = sha256(bytes);
    await store.put(digest, bytes);
    const url = await store.readUrl(digest);
    expect(url).toMatch(/X-Amz-Signature=/);
    const whole = await fetch(url as string);
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(bytes);
    const part = await fetch(url as string, { headers: { Range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(bytes.subarray(10, 20));
    // Without redirects configured, the registry serves the bytes itself.
    const plain = await openS3BlobStore(settings(s3Settings(server, prefix)));
    expect(await plain.readUrl(digest)).toBeUndefined();
  });

  it('refuses to start on a bucket that does not exist, saying which and why', async () => {
    const server = await useS3Server();
    await expect(
      openS3BlobStore(settings({ ...s3Settings(server, ''), bucket: 'no-such-bucket' })),
    ).rejects.toThrow(/cannot use S3 bucket no-such-bucket at http:\/\/127\.0\.0\.1:\d+: .*HTTP 404/);
  });
});
