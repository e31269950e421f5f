import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  adminClient,
  createProject,
  createRepository,
  createUser,
  expectApiError,
  grant,
  pushImageAs,
} from '../support/api-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
let admin: ApiClient;
let bob: ApiClient;
const base = '/api/v1/projects/store/repositories';

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: false });
  admin = await adminClient(registry.url);
  bob = await createUser(admin, 'bob@example.com');
  await createProject(admin, 'store');
});
afterAll(() => registry.close());

describe('creating repositories', () => {
  it('creates a repository with its settings and returns it', async () => {
    const created = await createRepository(admin, 'store', 'backend', {
      displayName: 'Backend',
      description: 'Services',
      scanning: true,
      immutableTags: true,
    });
    expect(created).toEqual({
      project: 'store',
      id: 'backend',
      name: 'store/backend',
      displayName: 'Backend',
      description: 'Services',
      scanning: true,
      immutableTags: true,
      cleanupPolicies: [],
      cleanupDryRun: true,
      usage: { logicalBytes: 0, uniqueBytes: 0 },
      createdAt: expect.any(String),
      updatedAt: created.createdAt,
    });
    expect(await admin.ok('GET', `${base}/backend`)).toEqual(created);
  });

  it('defaults scanning and immutable tags to off', async () => {
    const created = await createRepository(admin, 'store', 'plain');
    expect(created).toMatchObject({
      scanning: false,
      immutableTags: false,
      displayName: '',
      description: '',
    });
  });

  it('generates an ID from the display name, or a random one, when none is given', async () => {
    const named = await admin.ok('POST', base, { displayName: 'Front End Apps!' });
    expect(named.id).toBe('front-end-apps');
    const again = await admin.ok('POST', base, { displayName: 'Front End Apps!' });
    expect(again.id).toMatch(/^front-end-apps-[a-z0-9]{8}$/);
    const anonymous = await admin.ok('POST', base, {});
    expect(anonymous.id).toMatch(/^repo-[a-z0-9]{8}$/);
    const digitsOnly = await admin.ok('POST', base, { displayName: '2024' });
    expect(digitsOnly.id).toMatch(/^repo-[a-z0-9]{8}$/);
  });

  it('refuses a taken ID with ALREADY_EXISTS', async () => {
    await createRepository(admin, 'store', 'dup');
    expectApiError(await admin.post(base, { repositoryId: 'dup' }), 409, 'ALREADY_EXISTS', /store\/dup/);
  });

  it.each([
    [{ repositoryId: 'Back' }, /field "repositoryId"/],
    [{ repositoryId: 'back_end' }, /field "repositoryId"/],
    [{ repositoryId: '-x' }, /field "repositoryId"/],
    [{ scanning: 'yes' }, /field "scanning": invalid input: expected boolean/],
    [{ immutableTags: 1 }, /field "immutableTags"/],
    [{ description: 'x'.repeat(3000) }, /field "description": must be at most 2048/],
    [{ repositoryId: 'ok', owner: 'me' }, /field "owner": is not a known field/],
    [[], /request body: invalid input: expected object/],
  ])('refuses the body %j', async (body, message) => {
    expectApiError(await admin.post(base, body), 400, 'INVALID_ARGUMENT', message);
  });

  it('refuses a repository in a missing project with NAME_UNKNOWN', async () => {
    const response = await admin.post('/api/v1/projects/ghost/repositories', { repositoryId: 'x' });
    expectApiError(response, 404, 'NAME_UNKNOWN', /project ghost/);
  });

  it('needs artifactstore.owner on the project, directly or from the organization', async () => {
    const carol = await createUser(admin, 'carol@example.com');
    await createProject(admin, 'owned');
    expectApiError(
      await carol.post('/api/v1/projects/owned/repositories', { repositoryId: 'a' }),
      404,
      'NAME_UNKNOWN',
    );
    await grant(admin, '/api/v1/projects/owned', 'user:carol@example.com', 'artifactstore.editor');
    expectApiError(
      await carol.post('/api/v1/projects/owned/repositories', { repositoryId: 'a' }),
      403,
      'DENIED',
    );
    await grant(admin, '/api/v1/projects/owned', 'user:carol@example.com', 'artifactstore.owner');
    expect((await carol.ok('POST', '/api/v1/projects/owned/repositories', { repositoryId: 'a' })).id).toBe(
      'a',
    );
  });
});

describe('reading, changing and deleting repositories', () => {
  it('updates settings, keeping what the body leaves out, and moves updatedAt', async () => {
    const created = await createRepository(admin, 'store', 'settings', { displayName: 'Keep me' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const updated = await admin.ok('PATCH', `${base}/settings`, { scanning: true, immutableTags: true });
    expect(updated).toMatchObject({ displayName: 'Keep me', scanning: true, immutableTags: true });
    expect(updated.createdAt).toBe(created.createdAt);
    expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
    const back = await admin.ok('PATCH', `${base}/settings`, { immutableTags: false });
    expect(back).toMatchObject({ scanning: true, immutableTags: false });
    expectApiError(await admin.patch(`${base}/missing`, { scanning: true }), 404, 'NAME_UNKNOWN');
  });

  it('lists every repository to project members, and only bound ones to repository members', async () => {
    await createProject(admin, 'mixed');
    for (const id of ['one', 'two', 'three']) await createRepository(admin, 'mixed', id);
    await grant(admin, '/api/v1/projects/mixed/repositories/two', 'user:bob@example.com', 'viewer');
    const forBob = await bob.ok('GET', '/api/v1/projects/mixed/repositories');
    expect(forBob.repositories.map((r: { id: string }) => r.id)).toEqual(['two']);
    const forAdmin = await admin.ok('GET', '/api/v1/projects/mixed/repositories');
    expect(forAdmin.repositories.map((r: { id: string }) => r.id)).toEqual(['one', 'three', 'two']);
    expectApiError(await bob.get('/api/v1/projects/mixed/repositories/one'), 404, 'NAME_UNKNOWN');
    expect((await bob.ok('GET', '/api/v1/projects/mixed/repositories/two')).id).toBe('two');
    expectApiError(await bob.get('/api/v1/projects/store/repositories'), 404, 'NAME_UNKNOWN');
  });

  it('pages through repositories', async () => {
    await createProject(admin, 'many');
    const ids = ['r-a', 'r-b', 'r-c', 'r-d', 'r-e', 'r-f', 'r-g'];
    for (const id of ids) await createRepository(admin, 'many', id);
    const seen: string[] = [];
    let token = '';
    for (;;) {
      const page = await admin.ok('GET', `/api/v1/projects/many/repositories?pageSize=3&pageToken=${token}`);
      seen.push(...page.repositories.map((r: { id: string }) => r.id));
      if (!page.nextPageToken) break;
      expect(page.repositories).toHaveLength(3);
      token = page.nextPageToken;
    }
    expect(seen).toEqual(ids);
  });

  it('pages through a filtered list without gaps or repeats', async () => {
    await createProject(admin, 'sparse');
    const ids = Array.from({ length: 9 }, (_, index) => `s-${index}`);
    for (const id of ids) await createRepository(admin, 'sparse', id);
    const visible = ['s-1', 's-4', 's-5', 's-8'];
    for (const id of visible) {
      await grant(admin, `/api/v1/projects/sparse/repositories/${id}`, 'user:bob@example.com', 'viewer');
    }
    const first = await bob.ok('GET', '/api/v1/projects/sparse/repositories?pageSize=2');
    expect(first.repositories.map((r: { id: string }) => r.id)).toEqual(['s-1', 's-4']);
    const second = await bob.ok(
      'GET',
      `/api/v1/projects/sparse/repositories?pageSize=2&pageToken=${first.nextPageToken}`,
    );
    expect(second.repositories.map((r: { id: string }) => r.id)).toEqual(['s-5', 's-8']);
    expect(second.nextPageToken).toBeUndefined();
  });

  it('deletes a repository with its images and its bindings', async () => {
    await createRepository(admin, 'store', 'gone');
    await pushImageAs(registry.url, 'store/gone/app', 'v1', admin.credentials);
    await grant(admin, `${base}/gone`, 'user:bob@example.com', 'owner');
    expect((await bob.ok('GET', `${base}/gone/images`)).images).toHaveLength(1);
    await bob.ok('DELETE', `${base}/gone`);
    expectApiError(await admin.get(`${base}/gone`), 404, 'NAME_UNKNOWN');
    // A repository created again under the same ID starts empty, with no bindings.
    await createRepository(admin, 'store', 'gone');
    expect((await admin.ok('GET', `${base}/gone/images`)).images).toEqual([]);
    expect((await admin.ok('GET', `${base}/gone/iamPolicy`)).bindings).toEqual([]);
    expectApiError(await bob.get(`${base}/gone`), 404, 'NAME_UNKNOWN');
  });

  it('lets a repository editor read it but not change its settings or delete it', async () => {
    await createRepository(admin, 'store', 'edited');
    await grant(admin, `${base}/edited`, 'user:bob@example.com', 'editor');
    expect((await bob.ok('GET', `${base}/edited`)).id).toBe('edited');
    expectApiError(
      await bob.patch(`${base}/edited`, { scanning: true }),
      403,
      'DENIED',
      /owner role on repository/,
    );
    expectApiError(await bob.delete(`${base}/edited`), 403, 'DENIED');
  });
});
