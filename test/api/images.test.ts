import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  adminClient,
  authorization,
  createProject,
  createRepository,
  createUser,
  expectApiError,
  grant,
  type PushedImage,
  pushImageAs,
  pushIndexAs,
  putManifestAs,
} from '../support/api-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
let admin: ApiClient;
const repo = '/api/v1/projects/media/repositories/video';
const api = `${repo}/images/backend%2Fapi`;
let amd64: PushedImage;
let arm64: PushedImage;
let index: PushedImage;

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: false });
  admin = await adminClient(registry.url);
  await createProject(admin, 'media');
  await createRepository(admin, 'media', 'video');
  amd64 = await pushImageAs(registry.url, 'media/video/backend/api', 'amd64', admin.credentials);
  arm64 = await pushImageAs(registry.url, 'media/video/backend/api', undefined, admin.credentials, {
    architecture: 'arm64',
    os: 'linux',
  });
  index = await pushIndexAs(
    registry.url,
    'media/video/backend/api',
    'v1',
    [
      { image: amd64, platform: { architecture: 'amd64', os: 'linux' } },
      { image: arm64, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
    ],
    admin.credentials,
  );
  await pushImageAs(registry.url, 'media/video/worker', 'latest', admin.credentials);
});
afterAll(() => registry.close());

const pull = (name: string, reference: string) =>
  fetch(`${registry.url}/v2/${name}/manifests/${reference}`, {
    headers: {
      ...authorization(admin.credentials),
      Accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json',
    },
  });

describe('images', () => {
  it('lists the images of a repository with their digests and tags', async () => {
    const { images, nextPageToken } = await admin.ok('GET', `${repo}/images`);
    expect(nextPageToken).toBeUndefined();
    expect(images.map((image: { name: string }) => image.name)).toEqual(['backend/api', 'worker']);
    const [backend] = images;
    expect(backend).toMatchObject({ name: 'backend/api', fullName: 'media/video/backend/api' });
    expect(backend.digests).toHaveLength(3);
    const byDigest = Object.fromEntries(backend.digests.map((d: { digest: string }) => [d.digest, d]));
    expect(byDigest[index.digest]).toMatchObject({
      mediaType: 'application/vnd.oci.image.index.v1+json',
      tags: ['v1'],
    });
    expect(byDigest[amd64.digest].tags).toEqual(['amd64']);
    expect(byDigest[arm64.digest].tags).toEqual([]);
    expect(Date.parse(backend.updatedAt)).toBeGreaterThanOrEqual(Date.parse(backend.createdAt));
  });

  it("lists each digest's size, and for platform images their platform and the index listing them", async () => {
    const { images } = await admin.ok('GET', `${repo}/images`);
    const byDigest = Object.fromEntries(
      images[0].digests.map((d: { digest: string }) => [d.digest, d]),
    ) as Record<string, { size: number; platform?: unknown; indexes?: string[] }>;
    // The same sizes as the digest resource: an image's manifest, config and layers; an index's own
    // bytes and its platform images'.
    for (const pushed of [amd64, arm64, index]) {
      const digest = await admin.ok('GET', `${api}/digests/${pushed.digest}`);
      expect(byDigest[pushed.digest]?.size).toBe(digest.size);
    }
    expect(byDigest[amd64.digest]?.size).toBe(amd64.size);
    expect(byDigest[index.digest]?.size).toBe(index.manifest.length + amd64.size + arm64.size);
    expect(byDigest[arm64.digest]).toMatchObject({
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      indexes: [index.digest],
    });
    expect(byDigest[amd64.digest]).toMatchObject({
      platform: { os: 'linux', architecture: 'amd64' },
      indexes: [index.digest],
    });
    expect(byDigest[index.digest]?.platform).toBeUndefined();
    expect(byDigest[index.digest]?.indexes).toBeUndefined();
  });

  it('gets one image by its percent-encoded name', async () => {
    const image = await admin.ok('GET', api);
    expect(image.fullName).toBe('media/video/backend/api');
    expectApiError(await admin.get(`${repo}/images/backend%2Fnothing`), 404, 'NOT_FOUND', /backend\/nothing/);
    expectApiError(
      await admin.get(`${repo}/images/Backend`),
      400,
      'INVALID_ARGUMENT',
      /path parameter "image"/,
    );
    expectApiError(await admin.get(`${repo}/images/a%2F%2Fb`), 400, 'INVALID_ARGUMENT', /"image"/);
    expectApiError(await admin.get(`${repo}/images/%E0%A4%A`), 400, 'INVALID_ARGUMENT', /percent-encoding/);
  });

  it('pages through images', async () => {
    await createRepository(admin, 'media', 'paged');
    for (const name of ['a', 'b', 'c'])
      await pushImageAs(registry.url, `media/paged/${name}`, 'v1', admin.credentials);
    const first = await admin.ok('GET', '/api/v1/projects/media/repositories/paged/images?pageSize=2');
    expect(first.images.map((i: { name: string }) => i.name)).toEqual(['a', 'b']);
    const second = await admin.ok(
      'GET',
      `/api/v1/projects/media/repositories/paged/images?pageSize=2&pageToken=${first.nextPageToken}`,
    );
    expect(second.images.map((i: { name: string }) => i.name)).toEqual(['c']);
    expect(second.nextPageToken).toBeUndefined();
  });

  it('does not mix in images of a repository whose name starts the same', async () => {
    await createRepository(admin, 'media', 'video-extra');
    await pushImageAs(registry.url, 'media/video-extra/backend/api', 'v1', admin.credentials);
    const { images } = await admin.ok('GET', `${repo}/images`);
    expect(images.map((i: { fullName: string }) => i.fullName)).toEqual([
      'media/video/backend/api',
      'media/video/worker',
    ]);
  });

  it('deletes a whole image', async () => {
    await createRepository(admin, 'media', 'scratch');
    await pushImageAs(registry.url, 'media/scratch/tmp', 'v1', admin.credentials);
    await admin.ok('DELETE', '/api/v1/projects/media/repositories/scratch/images/tmp');
    expectApiError(
      await admin.get('/api/v1/projects/media/repositories/scratch/images/tmp'),
      404,
      'NOT_FOUND',
    );
    expect((await pull('media/scratch/tmp', 'v1')).status).toBe(404);
  });
});

describe('digests', () => {
  it('describes an image manifest: size of the manifest and its blobs, tags, media type', async () => {
    const digest = await admin.ok('GET', `${api}/digests/${amd64.digest}`);
    expect(digest).toEqual({
      digest: amd64.digest,
      image: 'backend/api',
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      tags: ['amd64'],
      size: amd64.size,
      createdAt: expect.any(String),
      // The repository does not scan (test/api/vulnerabilities.test.ts covers scans).
      scan: { status: 'not_scanned' },
    });
  });

  it('describes an index with its platforms and the size of everything below it', async () => {
    const digest = await admin.ok('GET', `${api}/digests/${index.digest}`);
    expect(digest).toMatchObject({
      digest: index.digest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      tags: ['v1'],
      size: index.size,
      platforms: [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
    });
  });

  it('lists digests in digest order, with pagination', async () => {
    const all = await admin.ok('GET', `${api}/digests`);
    const expected = [amd64.digest, arm64.digest, index.digest].sort();
    expect(all.digests.map((d: { digest: string }) => d.digest)).toEqual(expected);
    const first = await admin.ok('GET', `${api}/digests?pageSize=2`);
    const second = await admin.ok('GET', `${api}/digests?pageSize=2&pageToken=${first.nextPageToken}`);
    expect([...first.digests, ...second.digests].map((d: { digest: string }) => d.digest)).toEqual(expected);
  });

  it('answers NOT_FOUND for an unknown digest and INVALID_ARGUMENT for a malformed one', async () => {
    expectApiError(await admin.get(`${api}/digests/sha256:${'0'.repeat(64)}`), 404, 'NOT_FOUND');
    expectApiError(await admin.get(`${api}/digests/sha256:abc`), 400, 'INVALID_ARGUMENT', /"digest"/);
  });

  it('deletes a manifest by digest, with the tags pointing at it', async () => {
    const extra = await pushImageAs(registry.url, 'media/video/backend/api', 'doomed', admin.credentials);
    await admin.ok('DELETE', `${api}/digests/${extra.digest}`);
    expect((await pull('media/video/backend/api', extra.digest)).status).toBe(404);
    expect((await pull('media/video/backend/api', 'doomed')).status).toBe(404);
    expectApiError(await admin.delete(`${api}/digests/${extra.digest}`), 404, 'NOT_FOUND');
  });

  it('refuses to delete a manifest an index lists, naming the index, and keeps both pullable', async () => {
    const refused = await admin.delete(`${api}/digests/${arm64.digest}`);
    expectApiError(refused, 409, 'FAILED_PRECONDITION', new RegExp(`listed by index ${index.digest}`));
    expect((await pull('media/video/backend/api', arm64.digest)).status).toBe(200);
    expect((await pull('media/video/backend/api', index.digest)).status).toBe(200);
  });
});

describe('tags', () => {
  it('lists tags with the digest each points at', async () => {
    const { tags } = await admin.ok('GET', `${api}/tags`);
    expect(tags).toEqual([
      { name: 'amd64', digest: amd64.digest, updatedAt: expect.any(String) },
      { name: 'v1', digest: index.digest, updatedAt: expect.any(String) },
    ]);
  });

  it('adds a tag, moves it, and deletes it; the manifest stays', async () => {
    const added = await admin.ok('PUT', `${api}/tags/stable`, { digest: arm64.digest });
    expect(added).toEqual({ name: 'stable', digest: arm64.digest, updatedAt: expect.any(String) });
    expect((await pull('media/video/backend/api', 'stable')).headers.get('docker-content-digest')).toBe(
      arm64.digest,
    );
    const moved = await admin.ok('PUT', `${api}/tags/stable`, { digest: amd64.digest });
    expect(moved.digest).toBe(amd64.digest);
    expect((await pull('media/video/backend/api', 'stable')).headers.get('docker-content-digest')).toBe(
      amd64.digest,
    );
    await admin.ok('DELETE', `${api}/tags/stable`);
    expect((await pull('media/video/backend/api', 'stable')).status).toBe(404);
    expect((await pull('media/video/backend/api', amd64.digest)).status).toBe(200);
    expectApiError(await admin.delete(`${api}/tags/stable`), 404, 'NOT_FOUND', /stable/);
  });

  it('pages through tags', async () => {
    for (const tag of ['p1', 'p2', 'p3'])
      await admin.ok('PUT', `${api}/tags/${tag}`, { digest: arm64.digest });
    const first = await admin.ok('GET', `${api}/tags?pageSize=3`);
    const second = await admin.ok('GET', `${api}/tags?pageSize=3&pageToken=${first.nextPageToken}`);
    expect([...first.tags, ...second.tags].map((t: { name: string }) => t.name)).toEqual([
      'amd64',
      'p1',
      'p2',
      'p3',
      'v1',
    ]);
    for (const tag of ['p1', 'p2', 'p3']) await admin.ok('DELETE', `${api}/tags/${tag}`);
  });

  it.each([
    [{ digest: 'latest' }, /field "digest": must be a digest/],
    [{}, /field "digest": is required/],
    [{ digest: amd64Placeholder(), force: true }, /field "force": is not a known field/],
  ])('refuses the tag body %j', async (body, message) => {
    expectApiError(await admin.put(`${api}/tags/ok`, body), 400, 'INVALID_ARGUMENT', message);
  });

  it('refuses a malformed tag name and a digest that is not in the image', async () => {
    expectApiError(
      await admin.put(`${api}/tags/.hidden`, { digest: amd64.digest }),
      400,
      'INVALID_ARGUMENT',
      /"tag"/,
    );
    const other = await pushImageAs(registry.url, 'media/video/worker', undefined, admin.credentials);
    expectApiError(
      await admin.put(`${api}/tags/x`, { digest: other.digest }),
      404,
      'NOT_FOUND',
      /not a manifest of/,
    );
  });

  it('lets an editor add and move tags but not delete them', async () => {
    const dana = await createUser(admin, 'dana@example.com');
    await grant(admin, repo, 'user:dana@example.com', 'editor');
    await dana.ok('PUT', `${api}/tags/dana`, { digest: amd64.digest });
    await dana.ok('PUT', `${api}/tags/dana`, { digest: arm64.digest });
    expectApiError(await dana.delete(`${api}/tags/dana`), 403, 'DENIED');
    expectApiError(await dana.delete(`${api}/digests/${arm64.digest}`), 403, 'DENIED');
    expect((await dana.ok('GET', `${api}/tags`)).tags.map((t: { name: string }) => t.name)).toContain('dana');
  });
});

function amd64Placeholder(): string {
  return `sha256:${'a'.repeat(64)}`;
}

describe('immutable tags', () => {
  const locked = '/api/v1/projects/media/repositories/locked';
  const image = `${locked}/images/app`;
  let first: PushedImage;
  let second: PushedImage;

  beforeAll(async () => {
    await createRepository(admin, 'media', 'locked', { immutableTags: true });
    first = await pushImageAs(registry.url, 'media/locked/app', 'v1', admin.credentials);
    second = await pushImageAs(registry.url, 'media/locked/app', undefined, admin.credentials);
  });

  it('lets new tags be added through the API, and re-pointing a tag at its own digest', async () => {
    await admin.ok('PUT', `${image}/tags/v2`, { digest: second.digest });
    await admin.ok('PUT', `${image}/tags/v2`, { digest: second.digest });
  });

  it('refuses to move an existing tag through the API', async () => {
    const response = await admin.put(`${image}/tags/v1`, { digest: second.digest });
    expectApiError(response, 403, 'DENIED', /tag "v1" .* immutable tags/);
    expect((await pull('media/locked/app', 'v1')).headers.get('docker-content-digest')).toBe(first.digest);
  });

  it('refuses to move an existing tag with a manifest PUT on the registry', async () => {
    const response = await putManifestAs(
      registry.url,
      'media/locked/app',
      'v1',
      second.manifest,
      admin.credentials,
    );
    expect(response.status).toBe(403);
    const body = (await response.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe('DENIED');
    expect(body.errors[0]?.message).toMatch(
      /tag "v1" of media\/locked\/app .*immutable tags: push under a new tag/,
    );
    expect((await pull('media/locked/app', 'v1')).headers.get('docker-content-digest')).toBe(first.digest);
    // Pushing the same manifest under the same tag again changes nothing, so it is allowed.
    expect(
      (await putManifestAs(registry.url, 'media/locked/app', 'v1', first.manifest, admin.credentials)).status,
    ).toBe(201);
  });

  it('refuses to delete a tag, through the API and the registry', async () => {
    expectApiError(await admin.delete(`${image}/tags/v1`), 403, 'DENIED', /cannot be deleted/);
    const viaRegistry = await fetch(`${registry.url}/v2/media/locked/app/manifests/v1`, {
      method: 'DELETE',
      headers: authorization(admin.credentials),
    });
    expect(viaRegistry.status).toBe(403);
    expect((await pull('media/locked/app', 'v1')).status).toBe(200);
  });

  it('refuses to delete a tagged manifest, but deletes an untagged one', async () => {
    expectApiError(await admin.delete(`${image}/digests/${first.digest}`), 403, 'DENIED', /is tagged \(v1\)/);
    const viaRegistry = await fetch(`${registry.url}/v2/media/locked/app/manifests/${first.digest}`, {
      method: 'DELETE',
      headers: authorization(admin.credentials),
    });
    expect(viaRegistry.status).toBe(403);
    const untagged = await pushImageAs(registry.url, 'media/locked/app', undefined, admin.credentials);
    await admin.ok('DELETE', `${image}/digests/${untagged.digest}`);
    expectApiError(await admin.delete(`${locked}/images/app`), 403, 'DENIED', /has tags/);
  });

  it('allows moving tags again once the setting is turned off', async () => {
    await createRepository(admin, 'media', 'relaxed', { immutableTags: true });
    const a = await pushImageAs(registry.url, 'media/relaxed/app', 'v1', admin.credentials);
    const b = await pushImageAs(registry.url, 'media/relaxed/app', undefined, admin.credentials);
    const tag = '/api/v1/projects/media/repositories/relaxed/images/app/tags/v1';
    expectApiError(await admin.put(tag, { digest: b.digest }), 403, 'DENIED');
    await admin.ok('PATCH', '/api/v1/projects/media/repositories/relaxed', { immutableTags: false });
    expect((await admin.ok('PUT', tag, { digest: b.digest })).digest).toBe(b.digest);
    expect(a.digest).not.toBe(b.digest);
  });
});
