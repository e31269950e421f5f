import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { CliError } from '../cli/errors.js';
import { digesting } from './digesting.js';

/**
 * Unpacks an archive's regular files into a private temporary directory, hashing each on the way:
 * entries come in any order (`docker save` writes manifest.json last), so nothing can be checked
 * before the end, and nothing is held in memory. Refuses what an image archive never holds and an
 * attacker would use: paths that escape the archive, links that point out of it, devices, truncation.
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

interface ArchiveLink {
  readonly type: 'symlink' | 'link';
  readonly target: string;
}

/**
 * `docker save`, `podman save` and skopeo write a layer twice as `ID/layer.tar`, a symbolic link to
 * the file that holds it. A link is never created on disk: it becomes another name for a regular
 * file of the same archive. One that points outside the archive, at an absolute path, or at nothing
 * the archive holds is refused.
 */
function resolveLinks(files: Map<string, StagedFile>, links: ReadonlyMap<string, ArchiveLink>): void {
  for (const [name, link] of links) {
    const kind = link.type === 'link' ? 'hard link' : 'symbolic link';
    let current = name;
    let hop: ArchiveLink | undefined = link;
    for (let hops = 0; hop; hops++) {
      if (hops > 8) throw malformed(`${kind} "${name}" is part of a loop of links`);
      if (hop.target.startsWith('/'))
        throw malformed(`${kind} "${name}" points outside the archive (to "${hop.target}")`);
      const joined =
        hop.type === 'symlink' ? posix.join(posix.dirname(current), hop.target) : posix.normalize(hop.target);
      if (joined === '..' || joined.startsWith('../')) {
        throw malformed(`${kind} "${name}" points outside the archive (to "${hop.target}")`);
      }
      current = joined.replace(/^(\.\/)+/, '');
      hop = links.get(current);
    }
    const file = files.get(current);
    if (!file)
      throw malformed(`${kind} "${name}" points at "${current}", which the archive does not hold as a file`);
    if (files.has(name)) throw malformed(`entry "${name}" appears twice`);
    files.set(name, file);
  }
}

export async function stageArchive(
  source: Readable,
  onBytes: (bytes: number) => void,
): Promise<StagedArchive> {
  const dir = await mkdtemp(join(tmpdir(), 'mistrive-import-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  const files = new Map<string, StagedFile>();
  const links = new Map<string, ArchiveLink>();
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
          if (files.has(name) || links.has(name)) throw malformed(`entry "${name}" appears twice`);
          links.set(name, { type, target: header.linkname ?? '' });
          entry.resume();
          continue;
        }
        if (type !== 'file' && type !== 'contiguous-file')
          throw malformed(`entry "${name}" is a ${type}, not a regular file`);
        if (files.has(name)) throw malformed(`entry "${name}" appears twice`);
        const path = join(dir, String(counter++));
        let digest = '';
        let size = 0;
        await pipeline(
          entry,
          digesting('sha256', (d, s) => {
            digest = d;
            size = s;
            return undefined;
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
    resolveLinks(files, links);
    return { files, bytes: total, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
