import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  adminClient,
  createProject,
  createRepository,
  createUser,
  expectApiError,
  grant,
  noCredentials,
  pushImageAs,
  revoke,
} from '../support/api-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
let admin: ApiClient;
let alice: ApiClient;

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: false });
  admin = await adminClient(registry.url);
  alice = await createUser(admin, 'alice@example.com');
});
afterAll(() => registry.close());

describe('organizations', () => {
  it('shows the default organization to the administrator', async () => {
    const organization = await admin.ok('GET', '/api/v1/organizations/default');
    expect(organization).toEqual({
      id: 'default',
      displayName: 'Default organization',
      createdAt: expect.any(String),
    });
  });

  it('hides an organization from a user with no role in it, and one that does not exist', async () => {
    expectApiError(
      await alice.get('/api/v1/organizations/default'),
      404,
      'NOT_FOUND',
      /organization default/,
    );
    expectApiError(await admin.get('/api/v1/organizations/nowhere'), 404, 'NOT_FOUND');
  });

  it('shows the organization to whoever can see something inside it', async () => {
    const gus = await createUser(admin, 'gus@example.com');
    await createProject(admin, 'org-member');
    await grant(admin, '/api/v1/projects/org-member', 'user:gus@example.com', 'artifactstore.viewer');
    expect((await gus.ok('GET', '/api/v1/organizations/default')).id).toBe('default');
    expectApiError(await gus.get('/api/v1/organizations/default/iamPolicy'), 403, 'DENIED');
  });

  it('asks an anonymous caller to sign in', async () => {
    expectApiError(await admin.as(noCredentials).get('/api/v1/organizations/default'), 401, 'UNAUTHORIZED');
  });
});

describe('projects', () => {
  it('creates a project in the default organization and reads it back', async () => {
    const created = await createProject(admin, 'shop', { displayName: 'Shop', description: 'The web shop' });
    expect(created).toEqual({
      id: 'shop',
      organization: 'default',
      displayName: 'Shop',
      description: 'The web shop',
      usage: { logicalBytes: 0, uniqueBytes: 0 },
      createdAt: expect.any(String),
      updatedAt: created.createdAt,
    });
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);
    expect(await admin.ok('GET', '/api/v1/projects/shop')).toEqual(created);
  });

  it('refuses a taken project ID with ALREADY_EXISTS', async () => {
    await createProject(admin, 'taken');
    expectApiError(
      await admin.post('/api/v1/projects', { projectId: 'taken' }),
      409,
      'ALREADY_EXISTS',
      /taken/,
    );
  });

  it.each([
    [{ projectId: 'Shop' }, /field "projectId"/],
    [{ projectId: '1shop' }, /field "projectId": must be .*starting with a letter/],
    [{ projectId: 'shop-' }, /field "projectId".*not ending with a hyphen/],
    [{ projectId: 'a'.repeat(64) }, /field "projectId"/],
    [{}, /field "projectId": is required/],
    [{ projectId: 'okay', displayName: 7 }, /field "displayName": invalid input: expected string/],
    [{ projectId: 'okay', colour: 'red' }, /field "colour": is not a known field/],
    [{ projectId: 'okay', organization: 'nowhere-org' }, /organization nowhere-org not found/],
  ])('refuses the body %j with a message naming the field', async (body, message) => {
    const response = await admin.post('/api/v1/projects', body);
    expect(response.status, response.text).toBeGreaterThanOrEqual(400);
    expect(response.body.errors[0].message).toMatch(message);
  });

  it('lets only the administrator or an organization owner create projects', async () => {
    expectApiError(await alice.post('/api/v1/projects', { projectId: 'alice-own' }), 404, 'NOT_FOUND');
    expectApiError(
      await admin.as(noCredentials).post('/api/v1/projects', { projectId: 'anon' }),
      401,
      'UNAUTHORIZED',
    );
    await grant(admin, '/api/v1/organizations/default', 'user:alice@example.com', 'artifactstore.viewer');
    expectApiError(await alice.post('/api/v1/projects', { projectId: 'alice-own' }), 403, 'DENIED');
    await grant(admin, '/api/v1/organizations/default', 'user:alice@example.com', 'artifactstore.owner');
    expect((await alice.ok('POST', '/api/v1/projects', { projectId: 'alice-own' })).id).toBe('alice-own');
    for (const role of ['artifactstore.viewer', 'artifactstore.owner']) {
      await revoke(admin, '/api/v1/organizations/default', 'user:alice@example.com', role);
    }
  });

  it('updates the display name and description, and only those', async () => {
    await createProject(admin, 'editable', { displayName: 'Before', description: 'kept' });
    const updated = await admin.ok('PATCH', '/api/v1/projects/editable', { displayName: 'After' });
    expect(updated).toMatchObject({ id: 'editable', displayName: 'After', description: 'kept' });
    expectApiError(
      await admin.patch('/api/v1/projects/editable', { id: 'other' }),
      400,
      'INVALID_ARGUMENT',
      /"id"/,
    );
    expectApiError(await admin.patch('/api/v1/projects/missing', { displayName: 'x' }), 404, 'NAME_UNKNOWN');
  });

  it('lets a project viewer read but not change or delete the project', async () => {
    await createProject(admin, 'viewed');
    await grant(admin, '/api/v1/projects/viewed', 'user:alice@example.com', 'artifactstore.viewer');
    expect((await alice.ok('GET', '/api/v1/projects/viewed')).id).toBe('viewed');
    expectApiError(await alice.patch('/api/v1/projects/viewed', { displayName: 'x' }), 403, 'DENIED');
    expectApiError(await alice.delete('/api/v1/projects/viewed'), 403, 'DENIED', /artifactstore\.owner/);
  });

  it('answers NAME_UNKNOWN alike for a missing project and one the caller may not see', async () => {
    await createProject(admin, 'secret');
    const hidden = await alice.get('/api/v1/projects/secret');
    const missing = await alice.get('/api/v1/projects/no-such-project');
    expectApiError(hidden, 404, 'NAME_UNKNOWN');
    expectApiError(missing, 404, 'NAME_UNKNOWN');
    expect(hidden.body.errors[0].message.replace('secret', 'X')).toBe(
      missing.body.errors[0].message.replace('no-such-project', 'X'),
    );
  });

  it('lists only the projects the caller can see, through any level', async () => {
    await createProject(admin, 'listed-direct');
    await createProject(admin, 'listed-via-repo');
    await createRepository(admin, 'listed-via-repo', 'app');
    await createProject(admin, 'not-listed');
    await grant(admin, '/api/v1/projects/listed-direct', 'user:alice@example.com', 'artifactstore.editor');
    await grant(
      admin,
      '/api/v1/projects/listed-via-repo/repositories/app',
      'user:alice@example.com',
      'viewer',
    );
    const ids = (await alice.ok('GET', '/api/v1/projects')).projects.map((p: { id: string }) => p.id);
    expect(ids).toContain('listed-direct');
    expect(ids).toContain('listed-via-repo');
    expect(ids).toContain('viewed');
    expect(ids).not.toContain('not-listed');
    expect(ids).not.toContain('secret');
    expect((await alice.ok('GET', '/api/v1/projects/listed-via-repo')).id).toBe('listed-via-repo');
    expect((await admin.ok('GET', '/api/v1/projects')).projects.map((p: { id: string }) => p.id)).toContain(
      'not-listed',
    );
  });

  it('pages through projects with pageSize and pageToken', async () => {
    for (const id of ['page-a', 'page-b', 'page-c', 'page-d', 'page-e']) {
      await createProject(admin, id);
      await grant(admin, `/api/v1/projects/${id}`, 'user:alice@example.com', 'artifactstore.viewer');
    }
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const query = `pageSize=2${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`;
      const page = await alice.ok('GET', `/api/v1/projects?${query}`);
      expect(page.projects.length).toBeLessThanOrEqual(2);
      seen.push(...page.projects.map((p: { id: string }) => p.id));
      token = page.nextPageToken;
      pages++;
    } while (token);
    const all = (await alice.ok('GET', '/api/v1/projects?pageSize=1000')).projects.map(
      (p: { id: string }) => p.id,
    );
    expect(seen).toEqual(all);
    expect(all).toEqual(expect.arrayContaining(['page-a', 'page-b', 'page-c', 'page-d', 'page-e']));
    expect(pages).toBe(Math.ceil(all.length / 2));
  });

  it.each([
    ['pageSize=0', /"pageSize"/],
    ['pageSize=1001', /"pageSize"/],
    ['pageSize=ten', /"pageSize"/],
    ['pageToken=garbage', /"pageToken"/],
  ])('refuses the query %s', async (query, message) => {
    expectApiError(await admin.get(`/api/v1/projects?${query}`), 400, 'INVALID_ARGUMENT', message);
  });

  it('refuses a page token of another listing', async () => {
    await createProject(admin, 'tokens');
    for (const id of ['r1', 'r2']) await createRepository(admin, 'tokens', id);
    const page = await admin.ok('GET', '/api/v1/projects/tokens/repositories?pageSize=1');
    expect(page.nextPageToken).toEqual(expect.any(String));
    const response = await admin.get(`/api/v1/projects?pageToken=${page.nextPageToken}`);
    expectApiError(response, 400, 'INVALID_ARGUMENT', /pageToken/);
  });

  it('deletes a project with its repositories, images, bindings and service accounts', async () => {
    await createProject(admin, 'doomed');
    await createRepository(admin, 'doomed', 'app');
    await pushImageAs(registry.url, 'doomed/app/web', 'v1', admin.credentials);
    await grant(admin, '/api/v1/projects/doomed', 'user:alice@example.com', 'artifactstore.viewer');
    const account = await admin.ok('POST', '/api/v1/projects/doomed/serviceAccounts', { accountId: 'ci' });
    await createProject(admin, 'bystander');
    await grant(
      admin,
      '/api/v1/projects/bystander',
      `serviceAccount:${account.email}`,
      'artifactstore.viewer',
    );

    await admin.ok('DELETE', '/api/v1/projects/doomed');

    expectApiError(await admin.get('/api/v1/projects/doomed'), 404, 'NAME_UNKNOWN');
    const pull = await fetch(`${registry.url}/v2/doomed/app/web/manifests/v1`, {
      headers: { Authorization: `Bearer ${(admin.credentials as { token: string }).token}` },
    });
    expect(pull.status).toBe(404);
    const bystander = await admin.ok('GET', '/api/v1/projects/bystander/iamPolicy');
    expect(bystander.bindings).toEqual([]);
    // Recreated under the same ID, nothing of the old project comes back.
    await createProject(admin, 'doomed');
    expect((await admin.ok('GET', '/api/v1/projects/doomed/iamPolicy')).bindings).toEqual([]);
    expect((await admin.ok('GET', '/api/v1/projects/doomed/repositories')).repositories).toEqual([]);
    expect((await admin.ok('GET', '/api/v1/projects/doomed/serviceAccounts')).serviceAccounts).toEqual([]);
    expectApiError(await admin.delete('/api/v1/projects/never-was'), 404, 'NAME_UNKNOWN');
  });
});
