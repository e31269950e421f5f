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
} from '../support/api-client.js';
import { blobFiles } from '../support/data-dir.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { pushReferrer } from '../support/transfer.js';

/**
 * `POST …/images/{image}/copy`: a copy within the instance, blobs linked and never written again,
 * manifests byte-identical; reader on the source and writer on the destination.
 */

let registry: TestRegistry;
let admin: ApiClient;
let amd64: PushedImage;
let arm64: PushedImage;
let index: PushedImage;
let referrer: string;
const copyInto = (project: string, repository: string, image: string) =>
  `/api/v1/projects/${project}/repositories/${repository}/images/${encodeURIComponent(image)}/copy`;
const source = { project: 'media', repository: 'video', image: 'backend/api' };

const accept = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json';
async function manifest(name: string, reference: string) {
  const response = await fetch(`${registry.url}/v2/${name}/manifests/${reference}`, {
    headers: { ...authorization(admin.credentials), Accept: accept },
  });
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
}

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: false });
  admin = await adminClient(registry.url);
  await createProject(admin, 'media');
  await createRepository(admin, 'media', 'video');
  await createRepository(admin, 'media', 'releases');
  amd64 = await pushImageAs(registry.url, 'media/video/backend/api', undefined, admin.credentials);
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
      { image: arm64, platform: { architecture: 'arm64', os: 'linux' } },
    ],
    admin.credentials,
  );
  await admin.ok(
    'PUT',
    '/api/v1/projects/media/repositories/video/images/backend%2Fapi/tags/v2',
    { digest: index.digest },
    200,
  );
  referrer = await pushReferrer(
    registry.url,
    'media/video/backend/api',
    {
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: index.digest,
      size: index.manifest.length,
    },
    '{"sbom":true}',
  );
});
afterAll(() => registry.close());

describe('server-side image copy', () => {
  it('copies an index, its platforms and referrers by linking blobs: nothing is written to the blob store', async () => {
    const before = (await blobFiles(registry.dataDir)).length;
    const result = await admin.ok(
      'POST',
      copyInto('media', 'releases', 'api'),
      { source: { ...source, tag: 'v1' }, withReferrers: true },
      200,
    );
    expect(result.images).toEqual([
      { tag: 'v1', digest: index.digest, mediaType: 'application/vnd.oci.image.index.v1+json' },
    ]);
    expect(result.blobsMounted).toBeGreaterThanOrEqual(4);
    expect(result.manifests.map((m: { digest: string }) => m.digest).sort()).toEqual(
      [amd64.digest, arm64.digest, index.digest, referrer].sort(),
    );
    const copied = await manifest('media/releases/api', 'v1');
    expect(copied.bytes.equals(index.manifest)).toBe(true);
    expect((await manifest('media/releases/api', referrer)).status).toBe(200);
    // The copy stored one more manifest file at most (none: manifests are content-addressed too).
    expect((await blobFiles(registry.dataDir)).length).toBe(before);

    const again = await admin.ok(
      'POST',
      copyInto('media', 'releases', 'api'),
      { source: { ...source, tag: 'v1' } },
      200,
    );
    expect(again.manifests.filter((m: { action: string }) => m.action === 'skipped').length).toBe(2);
  });

  it('copies every tag, or one platform', async () => {
    const all = await admin.ok('POST', copyInto('media', 'releases', 'all'), { source, allTags: true }, 200);
    expect(all.images.map((image: { tag: string }) => image.tag).sort()).toEqual(['v1', 'v2']);
    const one = await admin.ok(
      'POST',
      copyInto('media', 'releases', 'arm'),
      { source: { ...source, tag: 'v1' }, platform: 'linux/arm64', tag: 'arm' },
      200,
    );
    expect(one.images[0].digest).toBe(arm64.digest);
    expect((await manifest('media/releases/arm', 'arm')).bytes.equals(arm64.manifest)).toBe(true);
  });

  it('needs the viewer role on the source and the editor role on the destination', async () => {
    const viewer = await createUser(admin, 'copy-viewer@example.com');
    await grant(admin, '/api/v1/projects/media/repositories/video', 'user:copy-viewer@example.com', 'viewer');
    await grant(
      admin,
      '/api/v1/projects/media/repositories/releases',
      'user:copy-viewer@example.com',
      'viewer',
    );
    const refused = await viewer.request('POST', copyInto('media', 'releases', 'mine'), {
      source: { ...source, tag: 'v1' },
    });
    expectApiError(refused, 403, 'DENIED');

    const stranger = await createUser(admin, 'copy-stranger@example.com');
    await grant(
      admin,
      '/api/v1/projects/media/repositories/releases',
      'user:copy-stranger@example.com',
      'editor',
    );
    const unseen = await stranger.request('POST', copyInto('media', 'releases', 'mine'), {
      source: { ...source, tag: 'v1' },
    });
    expectApiError(unseen, 404, 'NAME_UNKNOWN', /repository media\/video not found/);
    expect((await manifest('media/releases/mine', 'v1')).status).toBe(404);
  });

  it('refuses what names nothing or says two things', async () => {
    expectApiError(
      await admin.request('POST', copyInto('media', 'releases', 'x'), { source: { ...source, tag: 'nope' } }),
      404,
      'MANIFEST_UNKNOWN',
    );
    expectApiError(
      await admin.request('POST', copyInto('media', 'releases', 'x'), {
        source: { ...source, tag: 'v1' },
        allTags: true,
      }),
      400,
      'INVALID_ARGUMENT',
    );
    expectApiError(
      await admin.request('POST', copyInto('media', 'releases', 'x'), {
        source: { ...source, tag: 'v1' },
        platform: 'linux/s390x',
      }),
      404,
      'MANIFEST_UNKNOWN',
      /no image for linux\/s390x/,
    );
    expectApiError(
      await admin.request('POST', copyInto('media', 'releases', 'x'), { source: 'media/video' }),
      400,
      'INVALID_ARGUMENT',
    );
  });
});
