import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectThroughApi } from '../gc/support.js';
import { adminFetch } from '../support/admin-session.js';
import { type ApiClient, createProject, createRepository } from '../support/api-client.js';
import { types } from '../support/oci-client.js';
import type { TestRegistry } from '../support/registry.js';
import { blobStored } from '../support/stored-blobs.js';
import {
  type CacheFixture,
  type CountingProxy,
  pushToUpstream,
  startCacheFixture,
  type UpstreamImage,
  type UpstreamRegistry,
} from '../support/upstream-registry.js';

/** Cached content is recorded like pushed content: it counts in usage, the collector keeps what a cached manifest needs, cleanup policies apply. */

let cache: CacheFixture;
let upstream: UpstreamRegistry;
let proxy: CountingProxy;
let registry: TestRegistry;
let admin: ApiClient;

beforeAll(async () => {
  // No grace delay: whatever nothing references is collected at once.
  cache = await startCacheFixture('cached', {
    gc: { delay: '0s', interval: '0s' },
    cleanup: { interval: '0s' },
  });
  ({ upstream, registry, admin } = cache);
  proxy = await cache.proxy();
});
afterAll(() => cache?.close());

/** Pulls the manifest and every blob of an image through the cache. */
async function pullWhole(name: string, reference: string, image: UpstreamImage): Promise<void> {
  const manifest = await adminFetch(`${registry.url}/v2/${name}/manifests/${reference}`, {
    headers: { accept: types.ociManifest },
  });
  expect(manifest.status).toBe(200);
  await manifest.arrayBuffer();
  for (const blob of image.blobs) {
    const response = await adminFetch(`${registry.url}/v2/${name}/blobs/${blob}`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  }
}

/** The bytes of an image's manifest and of every blob it names. */
function cachedBytes(image: UpstreamImage): number {
  const manifest = JSON.parse(image.manifest.toString()) as {
    config: { size: number };
    layers: { size: number }[];
  };
  return (
    image.manifest.length + manifest.config.size + manifest.layers.reduce((sum, layer) => sum + layer.size, 0)
  );
}

describe('cached content in the storage lifecycle', () => {
  it('counts in usage and survives garbage collection while a cached manifest references it', async () => {
    await createRepository(admin, 'cached', 'kept', { remote: { url: proxy.url } });
    const image = await pushToUpstream(upstream.url, 'lifecycle/app', 'v1', 10_000);
    await pullWhole('cached/kept/lifecycle/app', 'v1', image);

    const usage = (await admin.ok('GET', '/api/v1/projects/cached/repositories/kept')).usage;
    expect(usage.logicalBytes).toBe(cachedBytes(image));

    const report = await collectThroughApi(registry.url);
    expect(report.blobs.items).not.toContain(image.blobs[1]);
    for (const blob of [image.digest, ...image.blobs])
      expect(await blobStored(registry.dataDir, blob)).toBe(true);
    // Still served with the upstream gone.
    await proxy.down();
    await pullWhole('cached/kept/lifecycle/app', 'v1', image);
    proxy = await cache.proxy();
  });

  it("refuses to cache what would take the project over its quota, with the quota's DENIED", async () => {
    await createProject(admin, 'small');
    await admin.ok('PATCH', '/api/v1/projects/small', { storageQuota: 20_000 });
    await createRepository(admin, 'small', 'cache', { remote: { url: proxy.url } });
    const image = await pushToUpstream(upstream.url, 'quota/app', 'v1', 50_000);
    const manifest = await adminFetch(`${registry.url}/v2/small/cache/quota/app/manifests/v1`, {
      headers: { accept: types.ociManifest },
    });
    expect(manifest.status).toBe(200);
    const layer = await adminFetch(`${registry.url}/v2/small/cache/quota/app/blobs/${image.blobs[1]}`);
    expect(layer.status).toBe(403);
    const body = (await layer.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe('DENIED');
    expect(body.errors[0]?.message).toMatch(/storage quota exceeded: project small/);
    expect(await blobStored(registry.dataDir, image.blobs[1] as string)).toBe(false);
  });

  it('applies cleanup policies, and the collector then frees the cached bytes', async () => {
    await createRepository(admin, 'cached', 'cleaned', {
      remote: { url: proxy.url },
      cleanupPolicies: [{ name: 'all', action: { type: 'Delete' }, condition: { tagState: 'any' } }],
      cleanupDryRun: false,
    });
    const image = await pushToUpstream(upstream.url, 'lifecycle/app', 'v2', 12_000);
    await pullWhole('cached/cleaned/lifecycle/app', 'v2', image);
    expect((await admin.ok('GET', '/api/v1/projects/cached/repositories/cleaned')).usage.logicalBytes).toBe(
      cachedBytes(image),
    );

    const run = await admin.ok('POST', '/api/v1/projects/cached/repositories/cleaned/cleanup', {}, 200);
    expect(run.deleted).toBe(1);
    await collectThroughApi(registry.url);
    expect((await admin.ok('GET', '/api/v1/projects/cached/repositories/cleaned')).usage.logicalBytes).toBe(
      0,
    );
    // The layer only this repository held is gone from disk; pulling again fetches it afresh.
    expect(await blobStored(registry.dataDir, image.blobs[1] as string)).toBe(false);
    await pullWhole('cached/cleaned/lifecycle/app', 'v2', image);
    expect(proxy.count(`/blobs/${image.blobs[1]}`, 'GET')).toBe(2);
  });
});
