import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import {
  type ApiClient,
  adminClient,
  createProject,
  createRepository,
  createUser,
  expectApiError,
  grant,
} from '../support/api-client.js';
import { imageManifest, putManifest, sha256, types } from '../support/oci-client.js';
import { queryTestMetadata } from '../support/postgres.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { tempDir } from '../support/temp.js';
import { pushUniqueImage, type UniqueImage } from '../support/unique-images.js';

let registry: TestRegistry;
let admin: ApiClient;

beforeAll(async () => {
  registry = await startTestRegistry({ cleanup: { interval: '0s' } });
  admin = await adminClient(registry.url);
});
afterAll(() => registry.close());

const usageOf = async (path: string) => (await admin.ok('GET', `/api/v1/projects/${path}`)).usage;

describe('storage usage', () => {
  const shared = randomBytes(3000);
  let a1: UniqueImage;
  let a2: UniqueImage;
  let b1: UniqueImage;
  let c1: UniqueImage;

  beforeAll(async () => {
    await createProject(admin, 'usage');
    await createProject(admin, 'other');
    await createRepository(admin, 'usage', 'a');
    await createRepository(admin, 'usage', 'b');
    await createRepository(admin, 'other', 'c');
    a1 = await pushUniqueImage(registry.url, 'usage/a/app', 'v1', { layerBytes: 1000, shared: [shared] });
    a2 = await pushUniqueImage(registry.url, 'usage/a/tool', 'v1', { layerBytes: 2000, shared: [shared] });
    b1 = await pushUniqueImage(registry.url, 'usage/b/app', 'v1', { layerBytes: 1500, shared: [shared] });
    c1 = await pushUniqueImage(registry.url, 'other/c/app', 'v1', { layerBytes: 700 });
  });

  it('counts a layer shared by two images of a repository once, and not as unique when another repository holds it', async () => {
    expect(await usageOf('usage/repositories/a')).toEqual({
      logicalBytes: a1.ownBytes + a2.ownBytes + shared.length,
      uniqueBytes: a1.ownBytes + a2.ownBytes,
    });
    expect(await usageOf('usage/repositories/b')).toEqual({
      logicalBytes: b1.ownBytes + shared.length,
      uniqueBytes: b1.ownBytes,
    });
  });

  it('counts the layer as unique to the project that alone holds it', async () => {
    const logical = a1.ownBytes + a2.ownBytes + b1.ownBytes + shared.length;
    expect(await usageOf('usage')).toEqual({ logicalBytes: logical, uniqueBytes: logical });
    expect(await usageOf('other')).toEqual({ logicalBytes: c1.ownBytes, uniqueBytes: c1.ownBytes });
  });

  it('shows each repository’s usage in the list', async () => {
    const list = await admin.ok('GET', '/api/v1/projects/usage/repositories');
    expect(list.repositories.map((r: { id: string; usage: object }) => [r.id, r.usage])).toEqual([
      ['a', await usageOf('usage/repositories/a')],
      ['b', await usageOf('usage/repositories/b')],
    ]);
  });

  it('reports the whole instance to the administrator only', async () => {
    const instance = await admin.ok('GET', '/api/v1/usage');
    const own = a1.ownBytes + a2.ownBytes + b1.ownBytes + c1.ownBytes;
    expect(instance).toMatchObject({
      logicalBytes: own + 2 * shared.length,
      storedBytes: own + shared.length,
      // A manifest, a config and a layer of each image, and the shared layer once.
      digests: 4 * 3 + 1,
    });
    expect(instance.projects).toContainEqual({ project: 'other', usage: await usageOf('other') });
    const dave = await createUser(admin, 'dave@example.com');
    expectApiError(await dave.get('/api/v1/usage'), 403, 'DENIED', /administrator/);
  });
});

async function pushBlob(name: string, bytes: Buffer): Promise<Response> {
  return adminFetch(`${registry.url}/v2/${name}/blobs/uploads/?digest=${sha256(bytes)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: bytes,
  });
}

async function expectQuotaRefusal(response: Response, quota: RegExp) {
  expect(response.status).toBe(403);
  const body = (await response.json()) as { errors: { code: string; message: string }[] };
  expect(body.errors[0]?.code).toBe('DENIED');
  expect(body.errors[0]?.message).toMatch(/^storage quota exceeded: project [a-z-]+ has a quota of/);
  expect(body.errors[0]?.message).toMatch(quota);
  expect(body.errors[0]?.message).toMatch(/and holds [\d.]+ (B|KiB)/);
}

describe('storage quotas', () => {
  beforeAll(async () => {
    await createProject(admin, 'quota');
    await createRepository(admin, 'quota', 'repo');
    await createRepository(admin, 'quota', 'second');
  });

  it('only the administrator sets a quota, not the project’s owner', async () => {
    const erin = await createUser(admin, 'erin@example.com');
    await grant(admin, '/api/v1/projects/quota', 'user:erin@example.com', 'artifactstore.owner');
    expectApiError(
      await erin.patch('/api/v1/projects/quota', { storageQuota: 1 }),
      403,
      'DENIED',
      /administrator/,
    );
    expectApiError(
      await admin.patch('/api/v1/projects/quota', { storageQuota: -5 }),
      400,
      'INVALID_ARGUMENT',
      /storageQuota/,
    );
    const updated = await admin.ok('PATCH', '/api/v1/projects/quota', { storageQuota: 10_000 });
    expect(updated).toMatchObject({ storageQuota: 10_000, usage: { logicalBytes: 0, uniqueBytes: 0 } });
  });

  it('refuses a blob upload that would go over, with 403 DENIED giving the quota and the usage', async () => {
    await admin.ok('PATCH', '/api/v1/projects/quota', { storageQuota: 10_000 });
    const first = await pushUniqueImage(registry.url, 'quota/repo/app', 'v1', { layerBytes: 4000 });
    expect((await usageOf('quota')).logicalBytes).toBe(first.ownBytes);
    const tooBig = randomBytes(10_000 - first.ownBytes + 1);
    await expectQuotaRefusal(await pushBlob('quota/repo/app', tooBig), /quota of 9.77 KiB/);
    expect((await usageOf('quota')).logicalBytes).toBe(first.ownBytes);

    // Exactly up to the quota is allowed; a digest the project already holds adds nothing.
    const fits = randomBytes(10_000 - first.ownBytes);
    expect((await pushBlob('quota/repo/app', fits)).status).toBe(201);
    expect((await usageOf('quota')).logicalBytes).toBe(10_000);
    expect((await pushBlob('quota/second/copy', fits)).status).toBe(201);
  });

  it('refuses a chunked upload at its last PUT, and a cross-repository mount', async () => {
    const bytes = randomBytes(50);
    const start = await adminFetch(`${registry.url}/v2/quota/repo/app/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location') ?? '', registry.url);
    location.searchParams.set('digest', sha256(bytes));
    await expectQuotaRefusal(
      await adminFetch(location.href, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: bytes,
      }),
      /quota of/,
    );
    await createProject(admin, 'free');
    await createRepository(admin, 'free', 'repo');
    const elsewhere = randomBytes(64);
    expect((await pushBlob('free/repo/app', elsewhere)).status).toBe(201);
    const mount = await adminFetch(
      `${registry.url}/v2/quota/repo/app/blobs/uploads/?mount=${sha256(elsewhere)}&from=free/repo/app`,
      { method: 'POST' },
    );
    await expectQuotaRefusal(mount, /quota of/);
  });

  it('refuses a manifest PUT whose own bytes would go over', async () => {
    await createProject(admin, 'tight');
    await createRepository(admin, 'tight', 'repo');
    const config = Buffer.from(
      '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}',
    );
    const layer = randomBytes(500);
    for (const blob of [config, layer]) expect((await pushBlob('tight/repo/app', blob)).status).toBe(201);
    const held = (await usageOf('tight')).logicalBytes;
    await admin.ok('PATCH', '/api/v1/projects/tight', { storageQuota: held });
    const manifest = imageManifest({ digest: sha256(config), size: config.length }, [
      { digest: sha256(layer), size: layer.length },
    ]);
    await expectQuotaRefusal(
      await putManifest(registry.url, 'tight/repo/app', 'v1', manifest, types.ociManifest),
      /quota of/,
    );
    // Without a quota the same push goes through.
    const cleared = await admin.ok('PATCH', '/api/v1/projects/tight', { storageQuota: null });
    expect(cleared.storageQuota).toBeUndefined();
    expect(
      (await putManifest(registry.url, 'tight/repo/app', 'v1', manifest, types.ociManifest)).status,
    ).toBe(201);
  });
});

describe('blobs linked before sizes were recorded', () => {
  it('get their sizes from the blob store at start, so usage counts them', async () => {
    const dir = await tempDir('mistrive-usage-backfill-');
    try {
      const first = await startTestRegistry({ dataDir: dir.path, cleanup: { interval: '0s' } });
      const client = await adminClient(first.url);
      await createProject(client, 'old');
      await createRepository(client, 'old', 'repo');
      const image = await pushUniqueImage(first.url, 'old/repo/app', 'v1', { layerBytes: 4321 });
      await first.close();

      await queryTestMetadata(dir.path, 'UPDATE image_blobs SET size = NULL');

      const second = await startTestRegistry({ dataDir: dir.path, cleanup: { interval: '0s' } });
      try {
        const usage = (await (await adminClient(second.url)).ok('GET', '/api/v1/projects/old')).usage;
        expect(usage).toEqual({ logicalBytes: image.ownBytes, uniqueBytes: image.ownBytes });
      } finally {
        await second.close();
      }
    } finally {
      await dir.remove();
    }
  });
});

describe('the per-project counter that quota checks read', () => {
  it('stays equal to the computed logical bytes through pushes, shares and every kind of delete', async () => {
    await createProject(admin, 'counted');
    await createRepository(admin, 'counted', 'one');
    await createRepository(admin, 'counted', 'two');
    const counter = async () => {
      const [row] = await queryTestMetadata(
        registry.dataDir,
        "SELECT logical_bytes FROM project_usage WHERE project_id = 'counted'",
      );
      return Number(row?.logical_bytes ?? 0);
    };
    const expectConsistent = async () =>
      expect(await counter()).toBe((await usageOf('counted')).logicalBytes);
    const shared = randomBytes(2048);
    const a = await pushUniqueImage(registry.url, 'counted/one/a', 'v1', { shared: [shared] });
    await pushUniqueImage(registry.url, 'counted/one/b', 'v1', { shared: [shared] });
    const c = await pushUniqueImage(registry.url, 'counted/two/c', 'v1', { shared: [shared] });
    await expectConsistent();
    expect(await counter()).toBeGreaterThan(0);
    await admin.ok('DELETE', `/api/v1/projects/counted/repositories/one/images/a/digests/${a.digest}`);
    await expectConsistent();
    await admin.ok('DELETE', '/api/v1/projects/counted/repositories/one/images/b');
    await expectConsistent();
    await admin.ok('DELETE', `/api/v1/projects/counted/repositories/two/images/c/digests/${c.digest}`);
    const unlinked = await adminFetch(`${registry.url}/v2/counted/two/c/blobs/${sha256(shared)}`, {
      method: 'DELETE',
    });
    expect(unlinked.status).toBe(202);
    await expectConsistent();
    await admin.ok('DELETE', '/api/v1/projects/counted/repositories/one');
    await admin.ok('DELETE', '/api/v1/projects/counted/repositories/two');
    await expectConsistent();
    expect(await counter()).toBe(0);
  });
});
