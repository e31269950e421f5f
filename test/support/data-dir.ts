import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Looks at a registry's data directory from outside, the way an operator would: blobs under
 * DATA/blobs/ALGORITHM/XX/HEX, upload sessions under DATA/uploads/ID.
 */

export interface BlobFile {
  readonly digest: string;
  readonly path: string;
  readonly size: number;
  readonly inode: number;
}

async function entries(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Every file under DATA/blobs, named by the digest its path spells. */
export async function blobFiles(dataDir: string): Promise<BlobFile[]> {
  const files: BlobFile[] = [];
  const root = join(dataDir, 'blobs');
  for (const algorithm of await entries(root)) {
    for (const prefix of await entries(join(root, algorithm))) {
      for (const hex of await entries(join(root, algorithm, prefix))) {
        const path = join(root, algorithm, prefix, hex);
        const info = await stat(path);
        files.push({ digest: `${algorithm}:${hex}`, path, size: info.size, inode: info.ino });
      }
    }
  }
  return files.sort((a, b) => a.digest.localeCompare(b.digest));
}

export async function hashFile(path: string, algorithm = 'sha256'): Promise<string> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk);
  return hash.digest('hex');
}

/** Blob files whose content does not hash to their name: a partial or corrupt blob made visible. */
export async function corruptBlobFiles(dataDir: string): Promise<string[]> {
  const corrupt: string[] = [];
  for (const file of await blobFiles(dataDir)) {
    const [algorithm = '', hex = ''] = file.digest.split(':');
    if ((await hashFile(file.path, algorithm)) !== hex) corrupt.push(file.digest);
  }
  return corrupt;
}

/** Upload session files under DATA/uploads and their sizes. */
export async function uploadFiles(dataDir: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const root = join(dataDir, 'uploads');
  for (const name of await entries(root)) {
    try {
      sizes.set(name, (await stat(join(root, name))).size);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return sizes;
}
