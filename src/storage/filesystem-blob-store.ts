import { constants, createReadStream } from 'node:fs';
import {
  copyFile,
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { type BlobFile, type BlobStore, type ByteRange, UploadOffsetError } from './blob-store.js';
import { sendFile } from './send-file.js';

/** Disk calls cost about the same whatever their size here, so blob I/O moves in 1 MiB batches. */
const ioChunkBytes = 1024 * 1024;

/**
 * Blobs on a local filesystem. Layout, drawn once:
 *   ROOT/blobs/ALGORITHM/HEX[0:2]/HEX   committed blobs and manifests
 *   ROOT/uploads/ID                     upload sessions in progress
 *   ROOT/quarantine/ALGORITHM-HEX       blobs whose bytes no longer match their digest
 * A blob appears only by rename or hard link from a fsynced upload file, so a crash leaves no
 * partial blob.
 */
export class FilesystemBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  async init(): Promise<void> {
    await mkdir(join(this.root, 'blobs'), { recursive: true });
    await mkdir(join(this.root, 'uploads'), { recursive: true });
  }

  async stat(digest: string): Promise<number | undefined> {
    try {
      return (await stat(this.blobPath(digest))).size;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async send(digest: string, sink: Writable, range?: ByteRange): Promise<void> {
    const handle = await open(this.blobPath(digest), 'r');
    try {
      const end = range?.end ?? (await handle.stat()).size - 1;
      await sendFile(handle, range?.start ?? 0, end, sink, ioChunkBytes);
    } finally {
      await handle.close();
    }
  }

  readAll(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  async linkOrCopy(digest: string, target: string): Promise<'linked' | 'copied'> {
    const source = this.blobPath(digest);
    try {
      await link(source, target);
      return 'linked';
    } catch (error) {
      // Another filesystem, or one without hard links: copy (a reflink where the filesystem can).
      if (!linkImpossible.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
    await copyFile(source, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    return 'copied';
  }

  async put(digest: string, bytes: Buffer): Promise<void> {
    const target = this.blobPath(digest);
    if ((await this.stat(digest)) !== undefined) return;
    const staging = join(
      this.root,
      'uploads',
      `put-${process.pid}-${digest.replace(':', '-')}-${Math.random()}`,
    );
    try {
      const handle = await open(staging, 'w');
      try {
        await handle.writeFile(bytes);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await this.placeFile(staging, target, 'rename');
    } catch (error) {
      // A write that failed half-way (a full disk) leaves no partial file holding the space.
      await rm(staging, { force: true });
      throw error;
    }
  }

  async delete(digest: string): Promise<boolean> {
    try {
      await unlink(this.blobPath(digest));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async *list(): AsyncIterable<BlobFile> {
    const root = join(this.root, 'blobs');
    for (const algorithm of await readdir(root)) {
      for (const prefix of await readdirIfAny(join(root, algorithm))) {
        const directory = join(root, algorithm, prefix);
        for (const hex of await readdirIfAny(directory)) {
          try {
            const info = await stat(join(directory, hex));
            if (info.isFile())
              yield { digest: `${algorithm}:${hex}`, size: info.size, modifiedAt: info.mtime };
          } catch (error) {
            // Deleted since the directory was read.
            if (!isNotFound(error)) throw error;
          }
        }
      }
    }
  }

  async quarantine(digest: string): Promise<void> {
    const directory = join(this.root, 'quarantine');
    await mkdir(directory, { recursive: true });
    await rename(this.blobPath(digest), join(directory, digest.replace(':', '-')));
    await syncDirectory(dirname(this.blobPath(digest)));
  }

  /** Blobs on a disk are served by the registry itself. */
  async readUrl(): Promise<string | undefined> {
    return undefined;
  }

  async uploadSize(id: string): Promise<number | undefined> {
    try {
      return (await stat(this.uploadPath(id))).size;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async createUpload(id: string): Promise<void> {
    const handle = await open(this.uploadPath(id), 'wx');
    await handle.close();
  }

  async append(id: string, offset: number, chunks: AsyncIterable<Buffer>): Promise<number> {
    const handle = await open(this.uploadPath(id), 'r+');
    let position = offset;
    try {
      const { size, nlink } = await handle.stat();
      // A second name means the upload was committed (its file is the blob's): never write into a blob.
      if (size !== offset || nlink > 1) throw new UploadOffsetError(size);
      // One write in flight while the next batch is gathered, so the network and the disk overlap.
      // (Two in flight measured no faster here, for more CPU and memory.)
      let batch: Buffer[] = [];
      let batchBytes = 0;
      let inFlight: Promise<unknown> = Promise.resolve();
      const flush = async () => {
        await inFlight;
        const buffers = batch;
        const at = position;
        position += batchBytes;
        batch = [];
        batchBytes = 0;
        inFlight = writeFully(handle, buffers, at);
        // A write can fail (disk full) while the next batch is still arriving, before anything awaits
        // it; unhandled, that rejection would stop the whole daemon. The next flush rethrows it.
        inFlight.catch(() => undefined);
      };
      try {
        for await (const chunk of chunks) {
          batch.push(chunk);
          batchBytes += chunk.length;
          if (batchBytes >= ioChunkBytes) await flush();
        }
      } finally {
        // Whatever arrived before a client hung up is kept: the client can resume after it.
        if (batchBytes > 0) await flush();
        await inFlight;
        await handle.datasync();
      }
      return position;
    } finally {
      await handle.close();
    }
  }

  async readUpload(id: string): Promise<Readable> {
    return createReadStream(this.uploadPath(id), { highWaterMark: ioChunkBytes });
  }

  async commit(id: string, digest: string): Promise<void> {
    if ((await this.stat(digest)) !== undefined) return;
    await this.placeFile(this.uploadPath(id), this.blobPath(digest), 'link');
  }

  async deleteUpload(id: string): Promise<void> {
    await rm(this.uploadPath(id), { force: true });
  }

  async staleUploads(before: Date): Promise<string[]> {
    const directory = join(this.root, 'uploads');
    const stale: string[] = [];
    for (const name of await readdir(directory)) {
      try {
        const info = await stat(join(directory, name));
        if (info.mtime < before) stale.push(name);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    return stale;
  }

  /** A write in progress here is a file under `uploads/`, which `staleUploads` already lists. */
  async abortStaleWrites(): Promise<number> {
    return 0;
  }

  private async placeFile(source: string, target: string, how: 'rename' | 'link'): Promise<void> {
    const directory = dirname(target);
    const firstCreated = await mkdir(directory, { recursive: true });
    if (how === 'rename') await rename(source, target);
    else {
      try {
        await link(source, target);
      } catch (error) {
        // Another upload of the same bytes got there first: the blob is in place.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    // The rename must survive a power cut before any metadata names the blob: its directory is
    // synced, and so is the parent of each directory just created, or the new entries could vanish.
    await syncDirectory(directory);
    if (firstCreated !== undefined) {
      for (let created = dirname(directory); ; created = dirname(created)) {
        await syncDirectory(created);
        if (created === dirname(firstCreated) || created === dirname(created)) break;
      }
    }
  }

  private blobPath(digest: string): string {
    const [algorithm = '', hex = ''] = digest.split(':');
    return join(this.root, 'blobs', algorithm, hex.slice(0, 2), hex);
  }

  private uploadPath(id: string): string {
    return join(this.root, 'uploads', id);
  }
}

const linkImpossible = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

async function readdirIfAny(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (error) {
    if (isNotFound(error) || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Writes every byte of `buffers` at `position`. A write to a nearly full disk can store only part of
 * what it was given without failing; the rest is written again, which then fails with ENOSPC, so the
 * file never holds a gap and its size is exactly what was stored.
 */
async function writeFully(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers;
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, at);
    if (bytesWritten === 0) {
      throw Object.assign(new Error('no space left on device: nothing could be written'), { code: 'ENOSPC' });
    }
    at += bytesWritten;
    pending = after(pending, bytesWritten);
  }
}

/** What remains of `buffers` once their first `count` bytes are gone. */
function after(buffers: Buffer[], count: number): Buffer[] {
  let skip = count;
  const rest: Buffer[] = [];
  for (const buffer of buffers) {
    if (skip >= buffer.length) skip -= buffer.length;
    else {
      rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
      skip = 0;
    }
  }
  return rest;
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
