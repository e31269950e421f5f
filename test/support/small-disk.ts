import { execFile } from 'node:child_process';
import { statfs, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './temp.js';

const run = promisify(execFile);

/**
 * A real, small filesystem (a tmpfs; the tests run as root) to fill up: a full disk as the registry
 * meets it, not a simulated error. `fill` leaves about `leaveBytes` free, `release` frees it again.
 */
export interface SmallDisk {
  readonly path: string;
  fill(leaveBytes: number): Promise<void>;
  release(): Promise<void>;
  unmount(): Promise<void>;
}

export async function mountSmallDisk(megabytes: number): Promise<SmallDisk> {
  const dir = await tempDir('mistrive-disk-');
  await run('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m,mode=0700`, 'tmpfs', dir.path]);
  const filler = join(dir.path, 'filler');
  let fillers = 0;
  return {
    path: dir.path,
    async fill(leaveBytes) {
      const { bavail, bsize } = await statfs(dir.path);
      const free = bavail * bsize;
      if (free <= leaveBytes) return;
      try {
        await writeFile(`${filler}-${fillers++}`, Buffer.alloc(free - leaveBytes));
      } catch (error) {
        // Filled to the last byte: what the caller asked for.
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
      }
    },
    async release() {
      for (let n = 0; n < fillers; n++) await unlink(`${filler}-${n}`).catch(() => undefined);
      fillers = 0;
    },
    async unmount() {
      await run('umount', [dir.path]);
      await dir.remove();
    },
  };
}
