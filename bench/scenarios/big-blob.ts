import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { RunningServer } from '../daemons.js';
import { keepAliveAgent, putWhole, withClient } from '../registry-client.js';
import { mbPerSecond, since } from '../stats.js';
import type { BlobFile } from '../test-data.js';

export interface TransferResult {
  readonly mbPerSecond: number;
  /** Peak RSS of the server during the transfer, in MB. */
  readonly peakRssMb: number;
  /** Server CPU seconds per GB (10^9 bytes) moved. */
  readonly cpuSecondsPerGb: number;
}

/**
 * Flushes dirty pages left by earlier steps, so one measurement's write-back never lands in the
 * next one's time.
 */
export function settleDisk(): void {
  spawnSync('sync');
}

/** Times `transfer` of `bytes` while watching the server's memory and CPU. */
async function measured(
  server: RunningServer,
  bytes: number,
  transfer: () => Promise<void>,
): Promise<TransferResult> {
  const cost = await server.watch.duringPhase(async () => {
    const started = performance.now();
    await transfer();
    return since(started);
  });
  return {
    mbPerSecond: mbPerSecond(bytes, cost.result),
    peakRssMb: cost.peakRssMb,
    cpuSecondsPerGb: cost.cpuSeconds / (bytes / 1e9),
  };
}

/** POST, then a single PUT ?digest= streamed from the file in 1 MiB reads; timed from POST to 201. */
export async function pushBigBlob(
  server: RunningServer,
  name: string,
  blob: BlobFile,
): Promise<TransferResult> {
  settleDisk();
  return withClient(server, name, (client) =>
    measured(server, blob.size, () => client.pushBlob(name, blob.digest, blob)),
  );
}

/** The bare server takes the body on any path; it answers with the digest it computed. */
export async function pushToBareServer(server: RunningServer, blob: BlobFile): Promise<TransferResult> {
  settleDisk();
  const agent = keepAliveAgent(1);
  try {
    return await measured(server, blob.size, () =>
      putWhole(agent, new URL('/upload', server.url), blob.digest, blob),
    );
  } finally {
    agent.destroy();
  }
}

/** GET, hashing and discarding the bytes; the digest must match. */
export async function pullBigBlob(
  server: RunningServer,
  name: string,
  blob: BlobFile,
): Promise<TransferResult> {
  // The reference does not fsync its pushes: its write-back would otherwise land in whichever pull
  // comes next.
  settleDisk();
  return withClient(server, name, (client) =>
    measured(server, blob.size, async () => {
      const size = await client.pullBlob(name, blob.digest);
      if (size !== blob.size) throw new Error(`pulled ${size} bytes, expected ${blob.size}`);
    }),
  );
}

const run = promisify(execFile);

/**
 * GET with curl into /dev/null: no digest check, so the client costs next to nothing and the figure
 * shows what the server can send. (A client that hashes what it receives tops out near 1 GB/s here,
 * whichever server it talks to.)
 */
export async function pullBigBlobWithCurl(
  server: RunningServer,
  name: string,
  blob: BlobFile,
): Promise<TransferResult> {
  const headers = Object.entries(await server.auth.headers(name)).flatMap(([key, value]) => [
    '-H',
    `${key}: ${value}`,
  ]);
  const url = `${server.url}/v2/${name}/blobs/${blob.digest}`;
  settleDisk();
  return measured(server, blob.size, async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '--fail',
      '-o',
      '/dev/null',
      '-w',
      '%{size_download}',
      ...headers,
      url,
    ]);
    if (Number(stdout) !== blob.size) throw new Error(`curl pulled ${stdout} bytes, expected ${blob.size}`);
  });
}
