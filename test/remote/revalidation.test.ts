import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import { capturingLogger } from '../support/captured-log.js';
import { types } from '../support/oci-client.js';
import type { TestRegistry } from '../support/registry.js';
import {
  type CacheFixture,
  type CountingProxy,
  pushToUpstream,
  startCacheFixture,
  type UpstreamRegistry,
} from '../support/upstream-registry.js';

/** Cached tags are checked against the upstream once their TTL has passed, and served when it cannot answer. */

const { logger, lines } = capturingLogger();

let cache: CacheFixture;
let upstream: UpstreamRegistry;
let registry: TestRegistry;

beforeAll(async () => {
  cache = await startCacheFixture('mirror', {}, { logger });
  ({ upstream, registry } = cache);
});
afterAll(() => cache?.close());

/** A remote repository behind its own counting proxy, so each test can count and cut its upstream alone. */
async function remoteRepository(ttl: string): Promise<{ repo: string; proxy: CountingProxy }> {
  const proxy = await cache.proxy();
  return { repo: await cache.remoteRepository({ url: proxy.url, ttl }), proxy };
}

async function pulledDigest(name: string, reference: string): Promise<string | null> {
  const response = await adminFetch(`${registry.url}/v2/${name}/manifests/${reference}`, {
    headers: { accept: types.ociManifest },
  });
  expect(response.status, await response.clone().text()).toBe(200);
  await response.arrayBuffer();
  return response.headers.get('docker-content-digest');
}

describe('tag revalidation', () => {
  it('serves a cached tag without asking the upstream until the TTL has passed', async () => {
    const { repo, proxy } = await remoteRepository('10m');
    const first = await pushToUpstream(upstream.url, 'fresh/app', 'v1');
    expect(await pulledDigest(`${repo}/fresh/app`, 'v1')).toBe(first.digest);
    await pushToUpstream(upstream.url, 'fresh/app', 'v1');
    expect(await pulledDigest(`${repo}/fresh/app`, 'v1')).toBe(first.digest);
    expect(proxy.count('/manifests/v1')).toBe(1);
  });

  it('checks with a HEAD once the TTL has passed, and follows a tag the upstream moved', async () => {
    const { repo, proxy } = await remoteRepository('0s');
    const first = await pushToUpstream(upstream.url, 'moving/app', 'latest');
    expect(await pulledDigest(`${repo}/moving/app`, 'latest')).toBe(first.digest);
    expect(await pulledDigest(`${repo}/moving/app`, 'latest')).toBe(first.digest);
    expect(proxy.count('/manifests/latest', 'HEAD')).toBe(1);
    expect(proxy.count('/manifests/latest', 'GET')).toBe(1);

    const second = await pushToUpstream(upstream.url, 'moving/app', 'latest');
    expect(await pulledDigest(`${repo}/moving/app`, 'latest')).toBe(second.digest);
    expect(proxy.count('/manifests/latest', 'GET')).toBe(2);
    // The earlier manifest stays cached by digest; the tag moved.
    expect(await pulledDigest(`${repo}/moving/app`, first.digest)).toBe(first.digest);
  });

  it('serves the cached copy when the upstream is unreachable, and logs why', async () => {
    const { repo, proxy } = await remoteRepository('0s');
    const image = await pushToUpstream(upstream.url, 'offline/app', 'stable');
    expect(await pulledDigest(`${repo}/offline/app`, 'stable')).toBe(image.digest);
    for (const blob of image.blobs) {
      expect((await adminFetch(`${registry.url}/v2/${repo}/offline/app/blobs/${blob}`)).status).toBe(200);
    }
    await proxy.down();
    expect(await pulledDigest(`${repo}/offline/app`, 'stable')).toBe(image.digest);
    for (const blob of image.blobs) {
      const response = await adminFetch(`${registry.url}/v2/${repo}/offline/app/blobs/${blob}`);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    const warning = lines.find(
      (line) =>
        line.msg === 'serving a cached tag its upstream could not confirm' &&
        line.image === `${repo}/offline/app`,
    );
    expect(warning).toMatchObject({ tag: 'stable', upstream: proxy.url, digest: image.digest });
    expect(String(warning?.reason)).toMatch(/cannot reach/);

    // What was never cached cannot be served: a clear 502, not a 500.
    const missing = await adminFetch(`${registry.url}/v2/${repo}/offline/other/manifests/latest`);
    expect(missing.status).toBe(502);
    expect(((await missing.json()) as { errors: { message: string }[] }).errors[0]?.message).toMatch(
      /pull-through cache of .* could not be read: cannot reach/,
    );
  });

  it('serves the cached copy when the upstream no longer has the tag', async () => {
    const { repo } = await remoteRepository('0s');
    const image = await pushToUpstream(upstream.url, 'removed/app', 'old');
    expect(await pulledDigest(`${repo}/removed/app`, 'old')).toBe(image.digest);
    const deleted = await fetch(`${upstream.url}/v2/removed/app/manifests/${image.digest}`, {
      method: 'DELETE',
    });
    expect(deleted.status).toBe(202);
    expect(await pulledDigest(`${repo}/removed/app`, 'old')).toBe(image.digest);
    const warning = lines.find((line) => line.image === `${repo}/removed/app`);
    expect(warning).toMatchObject({ reason: 'the upstream no longer has the tag' });
  });
});
