import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './temp.js';
import { waitFor } from './wait.js';

/**
 * Debian's `docker-registry` (CNCF distribution 2.8), the reference registry, on a free loopback
 * port with its own storage and no authentication: a foreign peer for copies between registries.
 */
export interface ReferenceRegistry {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** `127.0.0.1:PORT`, as image references name it. */
  readonly host: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startReferenceRegistry(): Promise<ReferenceRegistry> {
  const dir = await tempDir('mistrive-reference-');
  const port = await freePort();
  const config = join(dir.path, 'config.yml');
  await writeFile(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dir.path, 'storage')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    await dir.remove();
  };
  try {
    await waitFor(
      'docker-registry to answer',
      async () => ((await fetch(`${url}/v2/`).catch(() => undefined))?.status === 200 ? true : undefined),
      15_000,
      50,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, host: `127.0.0.1:${port}`, stop };
}
