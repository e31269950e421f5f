import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * `DATA/serve.pid` names the daemon serving a data directory while it runs, so that offline tools
 * (`mistrive admin reset-password`) can refuse to change the directory under it. A file left by a
 * daemon that was killed names a process that no longer exists, and counts for nothing.
 */
const pidFile = (dataDir: string) => join(dataDir, 'serve.pid');

export async function recordDaemon(dataDir: string): Promise<() => Promise<void>> {
  await writeFile(pidFile(dataDir), `${process.pid}\n`, { mode: 0o600 });
  return async () => {
    // Another daemon started on the same directory since: the file is its now.
    if ((await runningDaemon(dataDir)) !== process.pid) return;
    await unlink(pidFile(dataDir)).catch(() => undefined);
  };
}

/** The process ID of the daemon serving `dataDir`, or undefined when none runs. */
export async function runningDaemon(dataDir: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await readFile(pidFile(dataDir), 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}
