import type { Readable, Writable } from 'node:stream';

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Where blob bytes live. Content-addressed: one copy per digest for the whole instance, whatever
 * repositories hold it. Uploads are staged under an ID and appear as blobs only through `commit`,
 * after the caller has verified their digest. Everything OCI-specific (which repository may see
 * which blob, digest verification) lives above this interface, so an object store can implement it.
 */
export interface BlobStore {
  /** The size of a stored blob, or undefined when there is none. */
  stat(digest: string): Promise<number | undefined>;
  /**
   * Writes a blob, or one range of it, to `sink` and ends it; resolves once all is written. A
   * store may reuse its buffers between writes: the sink must be done with a chunk when it calls back.
   */
  send(digest: string, sink: Writable, range?: ByteRange): Promise<void>;
  /** Reads a small blob (a manifest) whole. */
  readAll(digest: string): Promise<Buffer>;
  /**
   * Makes a blob a local file at `target` (which must not exist), for programs that read files (the
   * scanner): a hard link when the store keeps blobs on the same filesystem, else a copy (an object
   * store downloads it). The file must be treated as read-only: a link shares the stored bytes.
   */
  linkOrCopy(digest: string, target: string): Promise<'linked' | 'copied'>;
  /** Stores small content (a manifest) under its already-verified digest, atomically and durably. */
  put(digest: string, bytes: Buffer): Promise<void>;
  /** Removes a blob; false when there was none. */
  delete(digest: string): Promise<boolean>;
  /** Every stored blob, in no particular order: for the garbage collector and the integrity check. */
  list(): AsyncIterable<BlobFile>;
  /** Moves a blob out of the store to a quarantine area, kept for inspection and never served again. */
  quarantine(digest: string): Promise<void>;
  /**
   * A URL a client may fetch the whole blob from directly (an object store's presigned URL), or
   * undefined when the registry serves the bytes itself.
   */
  readUrl(digest: string): Promise<string | undefined>;

  /** Bytes stored so far for an upload, or undefined when the upload does not exist. */
  uploadSize(id: string): Promise<number | undefined>;
  createUpload(id: string): Promise<void>;
  /**
   * Appends bytes at `offset`, which must equal the upload's current size. Returns the new size
   * once the bytes are durable. Bytes received before a failure stay stored and count.
   */
  append(id: string, offset: number, chunks: AsyncIterable<Buffer>): Promise<number>;
  /** Streams what an upload holds so far (to rebuild a digest after a restart). */
  readUpload(id: string): Promise<Readable>;
  /**
   * Makes a verified upload the blob `digest` (nothing to do when that blob exists already). The
   * upload stays until `deleteUpload`, so its bytes can be committed again if the blob went away
   * meanwhile (a garbage collector sweeping the same digest).
   */
  commit(id: string, digest: string): Promise<void>;
  deleteUpload(id: string): Promise<void>;
  /** Uploads not written to since `before`, for purging abandoned sessions. */
  staleUploads(before: Date): Promise<string[]>;
  /**
   * Drops writes begun before `before` that never finished and belong to no upload (an object
   * store's multipart uploads left by a crash during commit); returns how many went.
   */
  abortStaleWrites(before: Date): Promise<number>;
}

export interface BlobFile {
  readonly digest: string;
  readonly size: number;
  readonly modifiedAt: Date;
}

export class UploadOffsetError extends Error {
  constructor(readonly expected: number) {
    super(`upload is at offset ${expected}`);
    this.name = 'UploadOffsetError';
  }
}

/** The store cannot be used at start (an unreachable bucket, refused credentials): the operator's to fix. */
export class BlobStoreUnavailable extends Error {
  override name = 'BlobStoreUnavailable';
}
