import type { Readable } from 'node:stream';
import type { _Object, CompletedPart, S3Client } from '@aws-sdk/client-s3';
import type { ByteRange } from '../blob-store.js';

type Sdk = typeof import('@aws-sdk/client-s3');

/** Where the store's bucket is; credentials come from the standard AWS chain, never from here. */
export interface S3Location {
  /** An S3-compatible server (`http://127.0.0.1:7480`); omitted for AWS. */
  readonly endpoint?: string | undefined;
  readonly bucket: string;
  readonly region: string;
  readonly forcePathStyle: boolean;
}

/** Keys one ListObjectsV2 page returns at most. */
const listPageKeys = 1000;

/**
 * The S3 requests the blob store makes, on one bucket, each a method that says what it does. The
 * SDK is 22 MB and takes about 200 ms to import, so it is loaded only when an S3 store is configured
 * (`connectS3`), never by a start on the filesystem store.
 */
export class S3Commands {
  constructor(
    readonly client: S3Client,
    private readonly sdk: Sdk,
    readonly bucket: string,
  ) {}

  async headBucket(): Promise<void> {
    await this.client.send(new this.sdk.HeadBucketCommand({ Bucket: this.bucket }));
  }

  /** An object's size, or undefined when there is none. */
  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const object = await this.client.send(
        new this.sdk.GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      return object.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) throw Object.assign(new Error(`no object ${key}`), { code: 'ENOENT' });
      throw error;
    }
  }

  async readAll(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.read(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    await this.client.send(
      new this.sdk.PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bytes,
        ContentLength: bytes.length,
      }),
    );
  }

  /** A server-side copy; with `etag`, refused when the source changed since it was listed. */
  async copy(source: string, target: string, etag?: string): Promise<void> {
    await this.client.send(
      new this.sdk.CopyObjectCommand({
        Bucket: this.bucket,
        Key: target,
        CopySource: this.copySource(source),
        CopySourceIfMatch: etag,
      }),
    );
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const answer = await this.client.send(
      new this.sdk.DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const failed = answer.Errors?.[0];
    if (failed) throw new Error(`could not delete ${failed.Key}: ${failed.Code} ${failed.Message}`);
  }

  /** The first `max` objects under `prefix`, in key order. */
  async listPage(prefix: string, max: number): Promise<_Object[]> {
    const page = await this.client.send(
      new this.sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: max }),
    );
    return page.Contents ?? [];
  }

  /** Every object under `prefix`, page by page. */
  async *list(prefix: string): AsyncIterable<_Object> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new this.sdk.ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          MaxKeys: listPageKeys,
          ContinuationToken: token,
        }),
      );
      yield* page.Contents ?? [];
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async startMultipart(key: string): Promise<string> {
    const started = await this.client.send(
      new this.sdk.CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }),
    );
    if (!started.UploadId) throw new Error(`S3 started no multipart upload for ${key}`);
    return started.UploadId;
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, bytes: Buffer): Promise<CompletedPart> {
    const answer = await this.client.send(
      new this.sdk.UploadPartCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: bytes,
        ContentLength: bytes.length,
      }),
    );
    return { ETag: answer.ETag, PartNumber: partNumber };
  }

  /**
   * Copies `range` of `source` into a part, server-side. With `etag`, S3 refuses when the source
   * changed since it was listed, so the blob is made of exactly the bytes whose digest was checked.
   */
  async copyPart(
    key: string,
    uploadId: string,
    partNumber: number,
    source: string,
    range: ByteRange,
    etag: string | undefined,
  ): Promise<CompletedPart> {
    const answer = await this.client.send(
      new this.sdk.UploadPartCopyCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        CopySource: this.copySource(source),
        CopySourceRange: `bytes=${range.start}-${range.end}`,
        CopySourceIfMatch: etag,
      }),
    );
    return { ETag: answer.CopyPartResult?.ETag, PartNumber: partNumber };
  }

  async completeMultipart(key: string, uploadId: string, parts: CompletedPart[]): Promise<void> {
    await this.client.send(
      new this.sdk.CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.client.send(
      new this.sdk.AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
    );
  }

  /** Aborts the multipart uploads under `prefix` begun before `before`; returns how many. */
  async abortMultipartUploads(prefix: string, before: Date): Promise<number> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new this.sdk.ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated >= before) continue;
        try {
          await this.abortMultipart(upload.Key, upload.UploadId);
          aborted++;
        } catch (error) {
          // Completed or aborted by another instance meanwhile.
          if (!isNotFound(error)) throw error;
        }
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return aborted;
  }

  private copySource(key: string): string {
    return `${this.bucket}/${encodeURIComponent(key).replaceAll('%2F', '/')}`;
  }
}

/**
 * Builds the client with the standard AWS credential chain (environment, shared files, instance
 * roles). Checksums only where S3 requires them: Ceph RGW 16 refuses the SDK's default streaming
 * checksums (411 MissingContentLength), and every digest is checked by the registry anyway.
 */
export async function connectS3(location: S3Location): Promise<S3Commands> {
  const sdk = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client({
    region: location.region,
    endpoint: location.endpoint,
    forcePathStyle: location.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return new S3Commands(client, sdk, location.bucket);
}

function isNotFound(error: unknown): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    name === 'NotFound' ||
    name === 'NoSuchKey' ||
    name === 'NoSuchUpload' ||
    $metadata?.httpStatusCode === 404
  );
}

/** What went wrong, without anything the SDK may carry about the request (never a credential). */
export function describeS3Error(error: unknown): string {
  const { name, message, $metadata } = error as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const status = $metadata?.httpStatusCode;
  const what = message && message !== 'UnknownError' ? message : name;
  return `${what ?? 'unknown error'}${status ? ` (HTTP ${status})` : ''}`;
}
