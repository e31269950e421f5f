import type { Cleanup } from '../cleanup.js';
import type { RunningServer } from '../daemons.js';

/**
 * One cold start on a fresh data directory (so the schema is created each time): spawn to ready,
 * in milliseconds. The server is stopped and its directory removed at once.
 */
export async function measureStart(
  cleanup: Cleanup,
  start: (dataDir: string) => Promise<RunningServer>,
): Promise<number> {
  const dir = await cleanup.tempDir('mistrive-bench-start-');
  try {
    const server = await start(dir);
    await server.stop();
    return server.readyMs;
  } finally {
    await cleanup.removeDir(dir);
  }
}
