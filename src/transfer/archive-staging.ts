import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { CliError } from '../cli/errors.js';

/**
 * Unpacks an archive's regular files into a private temporary directory, hashing each on the way:
 * entries come in any order (`docker save` writes manifest.json last), so nothing can be checked
 * before the end, and nothing is held in memory. Refuses what an image archive never holds and an
 * attacker would use: paths that escape the archive, links of either kind, devices, truncation.
 */

export interface StagedFile {
  /** Where the file's bytes are on disk. */
  readonly path: string;
  readonly size: number;
  /** `sha256:HEX` of the bytes. */
  readonly digest: string;
}

export interface StagedArchive {
  /** Regular files by their path in the archive (normalised: no `./`). */
  readonly files: ReadonlyMap<string, StagedFile>;
  /** Bytes read from the archive (after decompression). */
  readonly bytes: number;
  remove(): Promise<void>;
}

export function malformed(what: string): CliError {
  return new CliError('INVALID_ARGUMENT', `the archive is malformed: ${what}; nothing was imported`, {
    hint: 'import an archive written by `docker save`, `podman save`, `skopeo copy … docker-archive:|oci-archive:` or `mistrive images export`',
  });
}

/** An entry's name as a path inside the archive; refused when it is absolute or climbs out. */
export function safeEntryName(name: string): string {
  if (name.includes('\0')) throw malformed(`entry "${name.replaceAll('\0', '\\0')}" has a NUL in its name`);
  if (name.startsWith('/') || /^[A-Za-z]:[\\/]/.test(name))
    throw malformed(`entry "${name}" has an absolute path`);
  if (name.split(/[\\/]/).includes('..')) throw malformed(`entry "${name}" escapes the archive with ".."`);
  const normal = posix
    .normalize(name)
    .replace(/^(\.\/)+/, '')
    .replace(/\/$/, '');
  return normal;
}

/** The bytes of a stream, gunzipped when they start with gzip's magic number. */
async function decompressed(source: Readable): Promise<Readable> {
  const chunks = source[Symbol.asyncIterator]();
  const first = await chunks.next();
  const head: Buffer | undefined = first.done ? undefined : Buffer.from(first.value as Buffer);
  async function* all() {
    if (head) yield head;
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  }
  const joined = Readable.from(all(), { objectMode: false, highWaterMark: 1024 * 1024 });
  if (head && head[0] === 0x1f && head[1] === 0x8b)
    return joined.pipe(createGunzip({ chunkSize: 1024 * 1024 }));
  return joined;
}

function hashing(onDone: (digest: string, size: number) => void): Transform {
  const hash = createHash('sha256');
  let size = 0;
  return new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      onDone(`sha256:${hash.digest('hex')}`, size);
      callback();
    },
  });
}

export async function stageArchive(
  source: Readable,
  onBytes: (bytes: number) => void,
): Promise<StagedArchive> {
  const dir = await mkdtemp(join(tmpdir(), 'mistrive-import-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const files = new Map<string, StagedFile>();
  let total = 0;
  try {
    const extract = tar.extract();
    const input = await decompressed(source);
    const feeding = pipeline(input, extract).catch((error: Error) => {
      extract.destroy(error);
    });
    let counter = 0;
    try {
      for await (const entry of extract) {
        const { header } = entry;
        const name = safeEntryName(header.name);
        const type = header.type ?? 'file';
        if (type === 'directory') {
          entry.resume();
          continue;
        }
        if (type === 'symlink' || type === 'link') {
          throw malformed(
            `entry "${name}" is a ${type === 'link' ? 'hard link' : 'symbolic link'} (to "${header.linkname}"); image archives hold regular files only`,
          );
        }
        if (type !== 'file' && type !== 'contiguous-file')
          throw malformed(`entry "${name}" is a ${type}, not a regular file`);
        if (files.has(name)) throw malformed(`entry "${name}" appears twice`);
        const path = join(dir, String(counter++));
        let digest = '';
        let size = 0;
        await pipeline(
          entry,
          hashing((d, s) => {
            digest = d;
            size = s;
          }),
          new Transform({
            highWaterMark: 1024 * 1024,
            transform(chunk: Buffer, _encoding, callback) {
              total += chunk.length;
              onBytes(chunk.length);
              callback(null, chunk);
            },
          }),
          createWriteStream(path, { highWaterMark: 1024 * 1024 }),
        );
        files.set(name, { path, size, digest });
      }
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw malformed(`it is truncated or not a tar archive (${(error as Error).message})`);
    }
    await feeding;
    return { files, bytes: total, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
