import type { RunningServer } from '../daemons.js';
import { sha256, withClient } from '../registry-client.js';
import { since } from '../stats.js';
import { imageManifestType, type TestImage } from '../test-data.js';

export interface ImageTiming {
  readonly seconds: number;
  readonly layersPerSecond: number;
}

/** Runs `task` over `items` with at most `limit` in flight, like a container client's transfer pool. */
async function inPool<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function timing(image: TestImage, ms: number): ImageTiming {
  return { seconds: ms / 1000, layersPerSecond: image.layers.length / (ms / 1000) };
}

/** Config and layers by POST + monolithic PUT, `concurrency` at a time, then the manifest under `tag`. */
export async function pushImage(
  server: RunningServer,
  name: string,
  tag: string,
  image: TestImage,
  concurrency: number,
): Promise<ImageTiming> {
  return withClient(
    server,
    name,
    async (client) => {
      const started = performance.now();
      await inPool([image.config, ...image.layers], concurrency, (blob) =>
        client.pushBlob(name, blob.digest, blob.bytes),
      );
      await client.putManifest(name, tag, imageManifestType, image.manifest);
      return timing(image, since(started));
    },
    concurrency,
  );
}

/** The manifest by tag, then config and layers `concurrency` at a time, every digest checked. */
export async function pullImage(
  server: RunningServer,
  name: string,
  tag: string,
  image: TestImage,
  concurrency: number,
): Promise<ImageTiming> {
  return withClient(
    server,
    name,
    async (client) => {
      const started = performance.now();
      const manifestBytes = await client.getManifest(name, tag, imageManifestType);
      if (sha256(manifestBytes) !== image.manifestDigest)
        throw new Error(`manifest of ${name}:${tag} differs`);
      const manifest = JSON.parse(manifestBytes.toString()) as {
        config: { digest: string };
        layers: { digest: string }[];
      };
      const digests = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
      await inPool(digests, concurrency, async (digest) => {
        await client.pullBlob(name, digest);
      });
      return timing(image, since(started));
    },
    concurrency,
  );
}
