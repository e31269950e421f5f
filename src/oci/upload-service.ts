import type { Hash } from 'node:crypto';
import type { UploadSession } from '../db/metadata.js';
import { isQuotaExceeded } from '../db/usage.js';
import { RegistryError } from '../errors/registry-error.js';
import { isStorageFull, storageFull } from '../errors/storage-full.js';
import { storeBytes } from '../gc/store-bytes.js';
import { KeyedLock } from '../lib/keyed-lock.js';
import { UploadOffsetError } from '../storage/blob-store.js';
import { createDigester, type Digest, parseDigest } from './digest.js';
import { imageForPush, pushInto } from './image-resolver.js';
import { quotaRefusal } from './quota.js';
import type { RegistryContext } from './registry-context.js';

const uploadIdShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `Content-Range: START-END` as the distribution spec sends it (a `bytes ` prefix and `/TOTAL` are tolerated). */
export interface ChunkRange {
  readonly start: number;
  readonly end: number;
}

/** `stored` is the upload's size: a refusal reports it in `Range`, as every 416 of an upload must. */
function parseContentRange(header: string, stored: number): ChunkRange {
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  const start = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (!match || !Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) {
    throw new RegistryError(
      'BLOB_UPLOAD_INVALID',
      `invalid Content-Range "${header.slice(0, 80)}": expected START-END, e.g. 0-1023`,
      { status: 416, headers: storedRange(stored) },
    );
  }
  return { start, end };
}

/** The `Range` an upload reports: the inclusive byte range it holds, `0-0` when empty. */
function storedRange(stored: number): Record<string, string> {
  return { Range: `0-${Math.max(stored - 1, 0)}` };
}

export interface UploadState {
  readonly id: string;
  /** Bytes stored so far. */
  readonly size: number;
}

/** A running SHA-256 of an upload, so finishing a large upload does not read it back. */
interface RunningDigest {
  offset: number;
  hash: Hash;
}

/**
 * Blob uploads: monolithic, POST+PUT, chunked PATCH, status, cancel and cross-repository mount.
 * Sessions live in the metadata store and bytes in the blob store, so any instance can continue an
 * upload; the running digest is only a cache, rebuilt from the stored bytes when it is missing.
 */
export class UploadService {
  private readonly running = new Map<string, RunningDigest>();
  private readonly lock = new KeyedLock();

  constructor(private readonly context: RegistryContext) {}

  async start(name: string): Promise<UploadState> {
    const image = await imageForPush(this.context, name);
    const id = this.context.ids.next();
    await this.context.blobs.createUpload(id);
    try {
      await pushInto(this.context, name, image, async (target) =>
        (await this.context.metadata.uploads.create({
          id,
          imageId: target.id,
          imageName: name,
          createdAt: this.context.clock.now(),
        }))
          ? 'created'
          : 'no-image',
      );
    } catch (error) {
      // A session that could not be recorded (a full disk, a deleted repository) leaves no file behind.
      await this.context.blobs.deleteUpload(id);
      throw error;
    }
    return { id, size: 0 };
  }

  /** `POST ?mount=&from=`: links a blob from another image the caller may read. False means "upload it". */
  async mount(
    name: string,
    digestText: string,
    from: string | undefined,
    canRead: (from: string) => Promise<boolean>,
  ) {
    const digest = parseDigest(digestText);
    if (from === undefined || from === name) return false;
    const { catalog, content } = this.context.metadata;
    const source = await catalog.findImage(from);
    if (!source || !(await canRead(from)) || !(await content.isBlobLinked(source.id, digest.value)))
      return false;
    const size = await this.context.blobs.stat(digest.value);
    if (size === undefined) return false;
    const target = await imageForPush(this.context, name);
    const outcome = await pushInto(this.context, name, target, (image) =>
      content.mountBlob(source.id, image.id, digest.value, size, this.context.clock.now()),
    );
    if (isQuotaExceeded(outcome)) throw quotaRefusal(outcome);
    return outcome === 'mounted';
  }

  /** `POST ?digest=` with the whole blob as the body. */
  async uploadWhole(name: string, digestText: string, body: AsyncIterable<Buffer>): Promise<string> {
    const digest = parseDigest(digestText);
    const upload = await this.start(name);
    try {
      return await this.finish(name, upload.id, digest.value, undefined, body);
    } catch (error) {
      // The client never learnt this session's ID, so nobody could resume or cancel it.
      await this.lock.run(upload.id, () => this.discard(upload.id));
      throw error;
    }
  }

  async status(name: string, id: string): Promise<UploadState> {
    const session = await this.session(name, id);
    return { id, size: await this.storedSize(session) };
  }

  async append(
    name: string,
    id: string,
    range: string | undefined,
    contentLength: number | undefined,
    body: AsyncIterable<Buffer>,
  ): Promise<UploadState> {
    const session = await this.session(name, id);
    return this.lock.run(id, async () => ({
      id,
      size: await this.write(session, range, contentLength, body),
    }));
  }

  /** `PUT ?digest=`: an optional last chunk, then the digest check and the move into place. */
  async finish(
    name: string,
    id: string,
    digestText: string,
    range: string | undefined,
    body: AsyncIterable<Buffer> | undefined,
    contentLength?: number,
  ): Promise<string> {
    const digest = parseDigest(digestText);
    const session = await this.session(name, id);
    return this.lock.run(id, async () => {
      if (body) await this.write(session, range, contentLength, body);
      const size = await this.storedSize(session);
      // A range beside an empty body adds nothing, but a malformed one is still the client's mistake.
      if (!body && range !== undefined) parseContentRange(range, size);
      const actual = await this.digestOf(session, digest);
      if (actual !== digest.value) {
        throw new RegistryError(
          'DIGEST_INVALID',
          `upload has digest ${actual}, not the ${digest.value} given`,
          {
            detail: { expected: digest.value, actual, size },
          },
        );
      }
      const { blobs, metadata, clock } = this.context;
      const linked = await storeBytes({
        place: () => blobs.commit(id, digest.value),
        record: () => metadata.content.linkBlob(session.imageId, digest.value, size, clock.now()),
        present: async () => (await blobs.stat(digest.value)) !== undefined,
      });
      await blobs.deleteUpload(id);
      await metadata.uploads.delete(id);
      this.running.delete(id);
      if (linked === 'no-image') {
        // The image was deleted while the blob was uploaded, and its sessions with it.
        throw new RegistryError(
          'BLOB_UPLOAD_UNKNOWN',
          `upload ${id} ended because ${name} was deleted meanwhile; push the blob again`,
        );
      }
      // Over quota, the bytes stay in the blob store unlinked, for the collector: another image may hold them.
      if (isQuotaExceeded(linked)) throw quotaRefusal(linked);
      return digest.value;
    });
  }

  async cancel(name: string, id: string): Promise<void> {
    await this.session(name, id);
    await this.lock.run(id, () => this.discard(id));
  }

  /**
   * Drops sessions untouched for `age` milliseconds, stray upload files nobody references, and
   * unfinished writes of blobs begun that long ago; returns how many of them went. A
   * session is judged by its last write, not its start: a long upload still receiving bytes is in use.
   */
  async purge(ageMs: number): Promise<number> {
    const before = new Date(this.context.clock.now().getTime() - ageMs);
    const ids = new Set(await this.context.blobs.staleUploads(before));
    for (const id of await this.context.metadata.uploads.createdBefore(before)) {
      // An old session with no bytes stored at all cannot be resumed.
      if ((await this.context.blobs.uploadSize(id)) === undefined) ids.add(id);
    }
    for (const id of ids) await this.lock.run(id, () => this.discard(id));
    // A commit cut off half-way (an object store's multipart upload) belongs to no session any longer.
    const writes = await this.context.blobs.abortStaleWrites(before);
    return ids.size + writes;
  }

  private async discard(id: string): Promise<void> {
    this.running.delete(id);
    await this.context.blobs.deleteUpload(id);
    await this.context.metadata.uploads.delete(id);
  }

  private async session(name: string, id: string): Promise<UploadSession> {
    const session = uploadIdShape.test(id) ? await this.context.metadata.uploads.find(id) : undefined;
    if (!session || session.imageName !== name) {
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${id.slice(0, 64)} is unknown or has expired`);
    }
    return session;
  }

  private async storedSize(session: UploadSession): Promise<number> {
    const size = await this.context.blobs.uploadSize(session.id);
    if (size === undefined) {
      throw new RegistryError(
        'BLOB_UPLOAD_UNKNOWN',
        `upload ${session.id} has no stored data; start a new upload`,
      );
    }
    return size;
  }

  private async write(
    session: UploadSession,
    rangeHeader: string | undefined,
    contentLength: number | undefined,
    body: AsyncIterable<Buffer>,
  ): Promise<number> {
    const offset = await this.storedSize(session);
    const range = rangeHeader === undefined ? undefined : parseContentRange(rangeHeader, offset);
    if (range) {
      if (range.start !== offset) {
        throw new RegistryError(
          'BLOB_UPLOAD_INVALID',
          `chunk starts at byte ${range.start} but the upload holds ${offset} bytes: send the chunk starting at ${offset}`,
          { status: 416, headers: storedRange(offset) },
        );
      }
      if (contentLength !== undefined && contentLength !== range.end - range.start + 1) {
        throw new RegistryError(
          'SIZE_INVALID',
          `Content-Range ${range.start}-${range.end} is ${range.end - range.start + 1} bytes but Content-Length is ${contentLength}`,
        );
      }
    }
    const running = await this.runningDigest(session.id, offset);
    // The digest state is only trusted again once the write has completed without error.
    this.running.delete(session.id);
    const hashed = async function* () {
      for await (const chunk of range ? withinRange(body, range) : body) {
        running.hash.update(chunk);
        yield chunk;
      }
    };
    try {
      const size = await this.context.blobs.append(session.id, offset, hashed());
      if (range && size !== range.end + 1) {
        // A streamed body (no Content-Length) shorter than its Content-Range: what arrived is kept.
        throw chunkSizeMismatch(range, `only ${size - offset} arrived`, size);
      }
      this.running.set(session.id, { offset: size, hash: running.hash });
      return size;
    } catch (error) {
      if (isStorageFull(error)) {
        // What was written before the disk filled stays stored: the client resumes from there.
        const stored = await this.storedSize(session);
        throw storageFull(
          `the upload holds ${stored} bytes; resume from byte ${stored} once space has been freed`,
          storedRange(stored),
        );
      }
      if (error instanceof UploadOffsetError) {
        throw new RegistryError(
          'BLOB_UPLOAD_INVALID',
          `upload was written concurrently; it now holds ${error.expected} bytes`,
          {
            status: 416,
            headers: storedRange(error.expected),
          },
        );
      }
      throw error;
    }
  }

  /** The running SHA-256 at `offset`, rebuilt from the stored bytes after a restart or on another instance. */
  private async runningDigest(id: string, offset: number): Promise<RunningDigest> {
    const cached = this.running.get(id);
    if (cached && cached.offset === offset) return cached;
    const hash = createDigester('sha256');
    let read = 0;
    for await (const chunk of await this.context.blobs.readUpload(id)) {
      const piece = read + chunk.length > offset ? chunk.subarray(0, offset - read) : chunk;
      hash.update(piece);
      read += piece.length;
      if (read >= offset) break;
    }
    return { offset, hash };
  }

  private async digestOf(session: UploadSession, digest: Digest): Promise<string> {
    const size = await this.storedSize(session);
    if (digest.algorithm === 'sha256') {
      const running = await this.runningDigest(session.id, size);
      this.running.set(session.id, running);
      return `sha256:${running.hash.copy().digest('hex')}`;
    }
    const hash = createDigester(digest.algorithm);
    for await (const chunk of await this.context.blobs.readUpload(session.id)) hash.update(chunk);
    return `${digest.algorithm}:${hash.digest('hex')}`;
  }
}

/**
 * Passes a chunk's bytes through up to the end of its Content-Range. A streamed body (no
 * Content-Length) may run past it: the bytes the range names are kept, the rest refused, so the
 * upload never holds bytes at offsets the client did not claim.
 */
async function* withinRange(body: AsyncIterable<Buffer>, range: ChunkRange): AsyncIterable<Buffer> {
  let room = range.end - range.start + 1;
  for await (const chunk of body) {
    if (chunk.length > room) {
      if (room > 0) yield chunk.subarray(0, room);
      throw chunkSizeMismatch(range, 'the body is longer', range.end + 1);
    }
    room -= chunk.length;
    yield chunk;
  }
}

function chunkSizeMismatch(range: ChunkRange, what: string, stored: number): RegistryError {
  return new RegistryError(
    'SIZE_INVALID',
    `Content-Range ${range.start}-${range.end} names ${range.end - range.start + 1} bytes but ${what}; the upload now holds ${stored} bytes`,
    { headers: storedRange(stored) },
  );
}
