import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import { type ApiClient, createRepository, expectApiError } from '../support/api-client.js';
import { errorCode, imageManifest, sha256, types } from '../support/oci-client.js';
import type { TestRegistry } from '../support/registry.js';
import { blobStored } from '../support/stored-blobs.js';
import {
  type CacheFixture,
  type CountingProxy,
  pushToUpstream,
  startCacheFixture,
  type UpstreamRegistry,
} from '../support/upstream-registry.js';

let cache: CacheFixture;
let upstream: UpstreamRegistry;
let proxy: CountingProxy;
let registry: TestRegistry;
let admin: ApiClient;

beforeAll(async () => {
  cache = await startCacheFixture('mirror');
  ({ upstream, registry, admin } = cache);
  proxy = await cache.proxy();
});
afterAll(() => cache?.close());

/** A fresh remote repository of the counting proxy's upstream, with the prefix `library/`. */
function remoteRepository(remote: object = {}): Promise<string> {
  return cache.remoteRepository({ url: proxy.url, prefix: 'library/', ...remote });
}

/** An image pushed to the upstream as `library/NAME:TAG`. */
function pushUpstream(name: string, tag: string, layerBytes = 4096) {
  return pushToUpstream(upstream.url, `library/${name}`, tag, layerBytes);
}

async function getManifest(name: string, reference: string) {
  const response = await adminFetch(`${registry.url}/v2/${name}/manifests/${reference}`, {
    headers: { accept: types.ociManifest },
  });
  return {
    status: response.status,
    digest: response.headers.get('docker-content-digest'),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

async function getBlob(name: string, digest: string): Promise<Buffer> {
  const response = await adminFetch(`${registry.url}/v2/${name}/blobs/${digest}`);
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

describe('pulling through a remote repository', () => {
  it('fetches a tag and its blobs from upstream, stores them verbatim and serves them from the cache after', async () => {
    const repo = await remoteRepository();
    const image = await pushUpstream('alpine', '3.20');
    const pulled = await getManifest(`${repo}/alpine`, '3.20');
    expect(pulled.status).toBe(200);
    expect(pulled.digest).toBe(image.digest);
    expect(pulled.body.equals(image.manifest)).toBe(true);
    for (const digest of image.blobs) {
      expect(sha256(await getBlob(`${repo}/alpine`, digest))).toBe(digest);
    }
    const tags = await adminFetch(`${registry.url}/v2/${repo}/alpine/tags/list`);
    expect(await tags.json()).toEqual({ name: `${repo}/alpine`, tags: ['3.20'] });

    const [layer] = image.blobs.slice(1);
    const before = proxy.count(`/blobs/${layer}`, 'GET');
    expect(before).toBe(1);
    await getBlob(`${repo}/alpine`, layer as string);
    await getManifest(`${repo}/alpine`, image.digest);
    expect(proxy.count(`/blobs/${layer}`, 'GET')).toBe(1);
    expect(proxy.count(`/manifests/${image.digest}`)).toBe(0);
  });

  it('fetches one missing blob once for concurrent pulls', async () => {
    const repo = await remoteRepository();
    const image = await pushUpstream('busybox', 'latest', 2 * 1024 * 1024);
    await getManifest(`${repo}/busybox`, 'latest');
    const layer = image.blobs[1] as string;
    const bodies = await Promise.all(Array.from({ length: 6 }, () => getBlob(`${repo}/busybox`, layer)));
    for (const body of bodies) expect(sha256(body)).toBe(layer);
    expect(proxy.count(`/blobs/${layer}`, 'GET')).toBe(1);
  });

  it('caches an index by tag, then its platform manifests by digest as they are pulled', async () => {
    const repo = await remoteRepository();
    const amd64 = await pushUpstream('multi', 'amd64');
    const arm64 = await pushUpstream('multi', 'arm64');
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: types.ociIndex,
        manifests: [amd64, arm64].map((image, i) => ({
          mediaType: types.ociManifest,
          digest: image.digest,
          size: image.manifest.length,
          platform: { os: 'linux', architecture: i === 0 ? 'amd64' : 'arm64' },
        })),
      }),
    );
    const put = await fetch(`${upstream.url}/v2/library/multi/manifests/2.0`, {
      method: 'PUT',
      headers: { 'content-type': types.ociIndex },
      body: index,
    });
    expect(put.status).toBe(201);
    const pulled = await adminFetch(`${registry.url}/v2/${repo}/multi/manifests/2.0`, {
      headers: { accept: `${types.ociIndex}, ${types.ociManifest}` },
    });
    expect(pulled.status).toBe(200);
    expect(pulled.headers.get('content-type')).toBe(types.ociIndex);
    expect(Buffer.from(await pulled.arrayBuffer()).equals(index)).toBe(true);
    const child = await getManifest(`${repo}/multi`, arm64.digest);
    expect(child.status).toBe(200);
    expect(child.body.equals(arm64.manifest)).toBe(true);
    expect(sha256(await getBlob(`${repo}/multi`, arm64.blobs[1] as string))).toBe(arm64.blobs[1]);
  });

  it('fetches one missing manifest once for concurrent pulls of its tag', async () => {
    const repo = await remoteRepository();
    const image = await pushUpstream('crowd', 'busy');
    const pulls = await Promise.all(Array.from({ length: 6 }, () => getManifest(`${repo}/crowd`, 'busy')));
    for (const pulled of pulls) expect(pulled.digest).toBe(image.digest);
    expect(proxy.count('/library/crowd/manifests/busy', 'GET')).toBe(1);
  });

  it('caches nothing from an upstream whose bytes do not match the digest, and cuts the client off', async () => {
    const corrupting = await cache.proxy({ corruptBlobs: true });
    {
      const repo = await remoteRepository({ url: corrupting.url });
      const image = await pushUpstream('broken', 'v1', 300_000);
      expect((await getManifest(`${repo}/broken`, 'v1')).status).toBe(200);
      const layer = image.blobs[1] as string;
      for (let attempt = 1; attempt <= 2; attempt++) {
        const response = await adminFetch(`${registry.url}/v2/${repo}/broken/blobs/${layer}`);
        expect(response.status).toBe(200);
        await expect(response.arrayBuffer()).rejects.toThrow();
        expect(await blobStored(registry.dataDir, layer)).toBe(false);
        expect(corrupting.count(`/blobs/${layer}`, 'GET')).toBe(attempt);
      }
    }
  });

  it('refuses pushes with DENIED, naming the upstream', async () => {
    const repo = await remoteRepository();
    const blob = randomBytes(64);
    const response = await adminFetch(
      `${registry.url}/v2/${repo}/app/blobs/uploads/?digest=${sha256(blob)}`,
      {
        method: 'POST',
        body: blob,
      },
    );
    expect(response.status).toBe(403);
    const body = (await response.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe('DENIED');
    expect(body.errors[0]?.message).toBe(
      `repository ${repo} is a pull-through cache of ${proxy.url}; push to a local repository`,
    );
    const manifest = imageManifest({ digest: sha256(blob), size: 64 }, []);
    const put = await adminFetch(`${registry.url}/v2/${repo}/app/manifests/v1`, {
      method: 'PUT',
      headers: { 'content-type': types.ociManifest },
      body: manifest,
    });
    expect(put.status).toBe(403);
    expect(await errorCode(put)).toBe('DENIED');
  });

  it('answers MANIFEST_UNKNOWN for what the upstream does not have either', async () => {
    const repo = await remoteRepository();
    const response = await getManifest(`${repo}/nothing-here`, 'latest');
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body.toString()).errors[0].code).toBe('MANIFEST_UNKNOWN');
  });
});

describe('remote repository settings', () => {
  it('shows the upstream without the password, and keeps the password encrypted at rest', async () => {
    const password = `s3cret-${randomBytes(8).toString('hex')}`;
    const created = await admin.ok('POST', '/api/v1/projects/mirror/repositories', {
      repositoryId: 'with-creds',
      remote: { url: `${proxy.url}/`, username: 'puller', password, prefix: 'library', ttl: '5m' },
    });
    expect(created.remote).toEqual({
      url: proxy.url,
      username: 'puller',
      hasPassword: true,
      prefix: 'library/',
      ttl: '5m',
    });
    const described = await admin.get('/api/v1/projects/mirror/repositories/with-creds');
    expect(described.text).not.toContain(password);
    const database = await readFile(join(registry.dataDir, 'metadata.db'));
    expect(database.includes(Buffer.from(password))).toBe(false);

    const updated = await admin.ok('PATCH', '/api/v1/projects/mirror/repositories/with-creds', {
      remote: { ttl: '1h', username: null },
    });
    expect(updated.remote).toEqual({ url: proxy.url, hasPassword: false, prefix: 'library/', ttl: '1h' });
  });

  it('says how to recover when a stored password cannot be decrypted (the instance key was replaced)', async () => {
    const repo = await remoteRepository({ username: 'puller', password: 'sealed-with-another-key' });
    const database = new Database(join(registry.dataDir, 'metadata.db'));
    try {
      database
        .prepare('UPDATE remote_repositories SET sealed_password = ? WHERE repository_id = ?')
        .run(`v1:${randomBytes(40).toString('base64')}`, repo.split('/')[1]);
    } finally {
      database.close();
    }
    const pulled = await getManifest(`${repo}/app`, 'v1');
    expect(pulled.status).toBe(502);
    expect(pulled.body.toString()).toMatch(
      /cannot be read with this instance's secret key .* --remote-password-stdin/,
    );
  });

  it('refuses a URL with a path or credentials, and upstream settings on a local repository', async () => {
    expectApiError(
      await admin.request('POST', '/api/v1/projects/mirror/repositories', {
        repositoryId: 'bad-url',
        remote: { url: 'https://user:pw@example.com/' },
      }),
      400,
      'INVALID_ARGUMENT',
      /must not hold credentials/,
    );
    expectApiError(
      await admin.request('POST', '/api/v1/projects/mirror/repositories', {
        repositoryId: 'bad-url',
        remote: { url: 'ftp://example.com' },
      }),
      400,
      'INVALID_ARGUMENT',
      /https:\/\//,
    );
    await createRepository(admin, 'mirror', 'plain');
    expectApiError(
      await admin.request('PATCH', '/api/v1/projects/mirror/repositories/plain', { remote: { ttl: '1m' } }),
      409,
      'FAILED_PRECONDITION',
      /local repository/,
    );
  });
});
