import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export { writePrivateFile } from '../../lib/private-file.js';

/**
 * Small file helpers shared by the CLI and the credential helper: atomic private writes and a lock
 * file. Only Node built-ins: the credential helper imports them on its hot path.
 */

/** Reads a JSON file; undefined when it does not exist. A malformed file throws. */
export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return JSON.parse(text) as T;
}

const staleLockMs = 30_000;

/**
 * Runs `work` while holding `path` as an exclusive lock file, so that two processes (the CLI and a
 * credential helper started by Docker) never use the same rotating refresh token twice. A lock older
 * than 30 s is taken to belong to a process that died.
 */
export async function withLock<T>(path: string, work: () => Promise<T>, waitMs = 15_000): Promise<T> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = await stat(path).then(
        (info) => Date.now() - info.mtimeMs,
        () => 0,
      );
      if (age > staleLockMs) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the lock ${path}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}
