import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Cleanup } from './cleanup.js';
import { type RunningServer, startBareServer, startMistrive, startReference } from './daemons.js';
import type { BenchOptions } from './options.js';
import { RegistryClient } from './registry-client.js';
import {
  pullBigBlob,
  pullBigBlobWithCurl,
  pushBigBlob,
  pushToBareServer,
  settleDisk,
  type TransferResult,
} from './scenarios/big-blob.js';
import { type LoadResult, loadManifest } from './scenarios/manifest-load.js';
import { type ImageTiming, pullImage, pushImage } from './scenarios/many-layers.js';
import { measureStart } from './scenarios/startup.js';
import { rotate } from './stats.js';
import { BigBlobSource, type BlobFile, imageManifestType, randomImage } from './test-data.js';

export type Registry = 'mistrive' | 'reference';
export type PerRegistry<T> = Record<Registry, T>;

/** Raw samples of one run, every round kept. */
export interface Measurements {
  readonly readyMs: PerRegistry<number[]>;
  readonly bigPush: PerRegistry<TransferResult[]>;
  /** The bare node:http receiver, the ceiling for a push on this machine. */
  readonly ceiling: TransferResult[];
  readonly bigPull: PerRegistry<TransferResult[]>;
  readonly bigPullCurl: PerRegistry<TransferResult[]>;
  readonly imagePush: PerRegistry<ImageTiming[]>;
  readonly imagePull: PerRegistry<ImageTiming[]>;
  readonly manifestHead: PerRegistry<LoadResult>;
  readonly manifestGet: PerRegistry<LoadResult>;
  readonly overallPeakRssMb: PerRegistry<number>;
}

const registries: readonly Registry[] = ['mistrive', 'reference'];

function perRegistry<T>(make: () => T): PerRegistry<T> {
  return { mistrive: make(), reference: make() };
}

export type Progress = (message: string) => void;

/**
 * Runs every scenario against both registries, side by side, on the same data. Each round rotates
 * which server goes first, so drift on the machine (page cache, other load) spreads over both.
 */
export async function measure(
  options: BenchOptions,
  cleanup: Cleanup,
  progress: Progress,
): Promise<Measurements> {
  const workDir = await cleanup.tempDir('mistrive-bench-');
  const dirs = { source: join(workDir, 'source'), mistrive: join(workDir, 'mistrive') };
  const referenceDir = join(workDir, 'reference');
  const bareDir = join(workDir, 'bare');
  for (const dir of [dirs.source, dirs.mistrive, referenceDir, bareDir]) await mkdir(dir);
  const startOf: PerRegistry<(dataDir: string) => Promise<RunningServer>> = {
    mistrive: (dir) => startMistrive(cleanup, dir),
    reference: (dir) => startReference(cleanup, dir, options.referenceCommand),
  };

  const readyMs = perRegistry<number[]>(() => []);
  for (let i = 0; i < options.starts; i++) {
    for (const registry of rotate(registries, i))
      readyMs[registry].push(await measureStart(cleanup, startOf[registry]));
  }
  progress(`time to ready: mistrive ${readyMs.mistrive.map(Math.round).join(', ')} ms`);

  progress(`writing a ${options.bigBlobBytes / 2 ** 20} MiB random blob`);
  const source = await BigBlobSource.create(dirs.source, 'big.bin', options.bigBlobBytes);
  settleDisk();

  const servers: PerRegistry<RunningServer> = {
    mistrive: await startOf.mistrive(dirs.mistrive),
    reference: await startOf.reference(referenceDir),
  };
  const bare = await startBareServer(cleanup, bareDir);

  const bigPush = perRegistry<TransferResult[]>(() => []);
  const ceiling: TransferResult[] = [];
  // A new blob each round, so that every push stores bytes the registry has not seen.
  const blobs: BlobFile[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const blob = await source.nextVariant();
    blobs.push(blob);
    for (const who of rotate([...registries, 'bare'] as const, round)) {
      progress(`big blob push, round ${round + 1}: ${who}`);
      if (who === 'bare') ceiling.push(await pushToBareServer(bare, blob));
      else bigPush[who].push(await pushBigBlob(servers[who], `bench/blobs/big${round}`, blob));
    }
  }
  await bare.stop();
  await cleanup.removeDir(dirs.source).catch(() => undefined);

  // Pulls cost little and vary more than pushes, so each round's blob is pulled three times, in
  // alternating order.
  const bigPull = perRegistry<TransferResult[]>(() => []);
  const bigPullCurl = perRegistry<TransferResult[]>(() => []);
  for (let pull = 0; pull < 3 * options.rounds; pull++) {
    const round = pull % options.rounds;
    const name = `bench/blobs/big${round}`;
    const blob = blobs[round] as BlobFile;
    for (const who of rotate(registries, pull)) {
      progress(`big blob pull ${pull + 1}: ${who}`);
      bigPull[who].push(await pullBigBlob(servers[who], name, blob));
      bigPullCurl[who].push(await pullBigBlobWithCurl(servers[who], name, blob));
    }
  }

  const imagePush = perRegistry<ImageTiming[]>(() => []);
  const imagePull = perRegistry<ImageTiming[]>(() => []);
  for (let round = 0; round < options.rounds; round++) {
    // Fresh layers each round, the same for both registries, so no round finds them stored already.
    const image = randomImage(options.layerCount, options.layerBytes);
    const tag = `round${round}`;
    for (const who of rotate(registries, round)) {
      progress(`image push (${options.layerCount} layers), round ${round + 1}: ${who}`);
      imagePush[who].push(
        await pushImage(servers[who], 'bench/layers/app', tag, image, options.layerConcurrency),
      );
    }
    for (const who of rotate(registries, round + 1)) {
      progress(`image pull (${options.layerCount} layers), round ${round + 1}: ${who}`);
      imagePull[who].push(
        await pullImage(servers[who], 'bench/layers/app', tag, image, options.layerConcurrency),
      );
    }
  }

  // A typical small manifest (three layers) for the request-rate tests.
  const small = randomImage(3, 1024);
  for (const who of registries) await pushSmallImage(servers[who], small);
  const load = {
    connections: options.connections,
    seconds: options.loadSeconds,
    warmupSeconds: options.warmupSeconds,
  };
  const manifestHead = {} as PerRegistry<LoadResult>;
  const manifestGet = {} as PerRegistry<LoadResult>;
  for (const [method, results, order] of [
    ['HEAD', manifestHead, 0],
    ['GET', manifestGet, 1],
  ] as const) {
    for (const who of rotate(registries, order)) {
      progress(`manifest ${method} at ${options.connections} connections: ${who}`);
      results[who] = await loadManifest(servers[who], 'bench/load/app', 'latest', method, load);
    }
  }

  const overallPeakRssMb = {
    mistrive: servers.mistrive.watch.overallPeakMb(),
    reference: servers.reference.watch.overallPeakMb(),
  };
  for (const who of registries) await servers[who].stop();
  return {
    readyMs,
    bigPush,
    ceiling,
    bigPull,
    bigPullCurl,
    imagePush,
    imagePull,
    manifestHead,
    manifestGet,
    overallPeakRssMb,
  };
}

/** Pushes a small image as bench/load/app:latest, the manifest the load tests request. */
export async function pushSmallImage(
  server: RunningServer,
  image: ReturnType<typeof randomImage>,
): Promise<void> {
  const client = new RegistryClient(server.url, server.auth);
  try {
    for (const blob of [image.config, ...image.layers]) {
      await client.pushBlob('bench/load/app', blob.digest, blob.bytes);
    }
    await client.putManifest('bench/load/app', 'latest', imageManifestType, image.manifest);
  } finally {
    client.close();
  }
}
