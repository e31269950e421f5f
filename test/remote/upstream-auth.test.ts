import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import {
  type ApiClient,
  adminClient,
  createProject,
  createRepository,
  grant,
} from '../support/api-client.js';
import { capturingLogger } from '../support/captured-log.js';
import { sha256, types } from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry, testAdminPassword } from '../support/registry.js';
import { pushUniqueImage } from '../support/unique-images.js';
import {
  type CacheFixture,
  pushToUpstream,
  startCacheFixture,
  type UpstreamRegistry,
} from '../support/upstream-registry.js';

/** How the cache signs in to its upstream, who may pull through it, and what a leaving client does not stop. */

const log = capturingLogger('debug');

let cache: CacheFixture;
let distribution: UpstreamRegistry;
let registry: TestRegistry;
let admin: ApiClient;

beforeAll(async () => {
  cache = await startCacheFixture('mirror', { logLevel: 'debug' }, { logger: log.logger });
  ({ upstream: distribution, registry, admin } = cache);
});
afterAll(() => cache?.close());

async function manifestThrough(name: string, reference: string, headers: Record<string, string> = {}) {
  const response = await (headers.authorization === undefined && !('anonymous' in headers)
    ? adminFetch
    : fetch)(`${registry.url}/v2/${name}/manifests/${reference}`, {
    headers: { accept: types.ociManifest, ...headers },
  });
  return {
    status: response.status,
    digest: response.headers.get('docker-content-digest'),
    text: await response.text(),
  };
}

describe('signing in to the upstream', () => {
  it('uses Basic credentials when the upstream asks for them', async () => {
    const proxy = await cache.proxy({ basic: { username: 'puller', password: 'basic-pw-1' } });
    const image = await pushToUpstream(distribution.url, 'basic/app', 'v1');
    await createRepository(admin, 'mirror', 'basic-ok', {
      remote: { url: proxy.url, username: 'puller', password: 'basic-pw-1' },
    });
    const pulled = await manifestThrough('mirror/basic-ok/basic/app', 'v1');
    expect(pulled.status).toBe(200);
    expect(pulled.digest).toBe(image.digest);
    // The first request learnt that Basic is wanted; later ones send it straight away.
    const refused = proxy.seen.filter((r) => r.status === 401).length;
    const blob = await adminFetch(`${registry.url}/v2/mirror/basic-ok/basic/app/blobs/${image.blobs[1]}`);
    expect(sha256(Buffer.from(await blob.arrayBuffer()))).toBe(image.blobs[1]);
    expect(proxy.seen.filter((r) => r.status === 401).length).toBe(refused);

    await createRepository(admin, 'mirror', 'basic-wrong', {
      remote: { url: proxy.url, username: 'puller', password: 'not-it' },
    });
    const wrong = await manifestThrough('mirror/basic-wrong/basic/app', 'v1');
    expect(wrong.status).toBe(502);
    expect(wrong.text).toMatch(/refused the remote repository's credentials/);
    await createRepository(admin, 'mirror', 'basic-none', { remote: { url: proxy.url } });
    const none = await manifestThrough('mirror/basic-none/basic/app', 'v1');
    expect(none.status).toBe(502);
    expect(none.text).toMatch(/asks for credentials and the remote repository has none/);
  });

  it('follows the Docker token flow of an upstream Mistrive with authentication', async () => {
    const upstream = await startTestRegistry();
    try {
      const upstreamAdmin = await adminClient(upstream.url);
      await createProject(upstreamAdmin, 'up');
      await createRepository(upstreamAdmin, 'up', 'base');
      const image = await pushUniqueImage(upstream.url, 'up/base/tool', 'v2', { layerBytes: 300_000 });
      await createRepository(admin, 'mirror', 'token', {
        remote: { url: upstream.url, username: 'admin', password: testAdminPassword, prefix: 'up/base/' },
      });
      const pulled = await manifestThrough('mirror/token/tool', 'v2');
      expect(pulled.status, pulled.text).toBe(200);
      expect(pulled.digest).toBe(image.digest);
      const layer = JSON.parse(image.manifest.toString()).layers[0].digest as string;
      const blob = await adminFetch(`${registry.url}/v2/mirror/token/tool/blobs/${layer}`);
      expect(blob.status).toBe(200);
      expect(sha256(Buffer.from(await blob.arrayBuffer()))).toBe(layer);

      await createRepository(admin, 'mirror', 'token-wrong', {
        remote: { url: upstream.url, username: 'admin', password: 'wrong-password', prefix: 'up/base/' },
      });
      const wrong = await manifestThrough('mirror/token-wrong/tool', 'v2');
      expect(wrong.status).toBe(502);
      expect(wrong.text).toMatch(/token service of .* answered 401/);
    } finally {
      await upstream.close();
    }
    // Neither password was ever logged, at any level.
    expect(log.text()).not.toContain(testAdminPassword);
    expect(log.text()).not.toContain('basic-pw-1');
  });
});

describe('who may pull through', () => {
  it('needs the reader role, as for any repository; allUsers makes it anonymous', async () => {
    const proxy = await cache.proxy();
    const image = await pushToUpstream(distribution.url, 'public/app', 'v1');
    await createRepository(admin, 'mirror', 'iam', { remote: { url: proxy.url } });
    const anonymous = await fetch(`${registry.url}/v2/mirror/iam/public/app/manifests/v1`);
    expect(anonymous.status).toBe(401);
    expect(proxy.seen).toHaveLength(0);
    await grant(admin, '/api/v1/projects/mirror/repositories/iam', 'allUsers', 'viewer');
    const opened = await fetch(`${registry.url}/v2/mirror/iam/public/app/manifests/v1`, {
      headers: { accept: types.ociManifest },
    });
    expect(opened.status).toBe(200);
    expect(opened.headers.get('docker-content-digest')).toBe(image.digest);
  });
});

describe('a client that leaves mid-blob', () => {
  it('does not stop the fill: the blob is cached whole and fetched from upstream once', async () => {
    const proxy = await cache.proxy();
    const image = await pushToUpstream(distribution.url, 'big/app', 'v1', 24 * 1024 * 1024);
    await createRepository(admin, 'mirror', 'leaving', { remote: { url: proxy.url } });
    expect((await manifestThrough('mirror/leaving/big/app', 'v1')).status).toBe(200);
    const layer = image.blobs[1] as string;
    // A client that reads the headers, then nothing, then hangs up.
    await new Promise<void>((resolve, reject) => {
      const req = request(`${registry.url}/v2/mirror/leaving/big/app/blobs/${layer}`, {
        headers: { authorization: `Bearer ${registry.adminToken}` },
      });
      req.on('response', (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-length']).toBe(String(24 * 1024 * 1024));
        res.pause();
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 50);
      });
      req.on('error', () => undefined);
      req.on('close', () => resolve());
      req.once('error', reject);
      req.end();
    });
    const again = await adminFetch(`${registry.url}/v2/mirror/leaving/big/app/blobs/${layer}`);
    expect(again.status).toBe(200);
    expect(sha256(Buffer.from(await again.arrayBuffer()))).toBe(layer);
    expect(proxy.count(`/blobs/${layer}`, 'GET')).toBe(1);
  });
});
