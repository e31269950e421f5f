import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  accessToken,
  adminClient,
  basic,
  bearer,
  createProject,
  createUser,
  expectApiError,
  grant,
  noCredentials,
} from '../support/api-client.js';
import { startTestRegistry, type TestRegistry, testAdminPassword } from '../support/registry.js';

let registry: TestRegistry;
let admin: ApiClient;

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: false });
  admin = await adminClient(registry.url);
});
afterAll(() => registry.close());

describe('users', () => {
  it('creates a user who can then sign in with the password', async () => {
    const created = await admin.ok('POST', '/api/v1/users', {
      login: 'gina@example.com',
      password: 'correct horse',
    });
    expect(created).toEqual({
      login: 'gina@example.com',
      admin: false,
      disabled: false,
      createdAt: expect.any(String),
    });
    expect(JSON.stringify(created)).not.toMatch(/horse|scrypt/);
    const gina = admin.as(basic('gina@example.com', 'correct horse'));
    expect((await gina.ok('GET', '/api/v1/projects')).projects).toEqual([]);
    expectApiError(
      await admin.as(basic('gina@example.com', 'wrong horse')).get('/api/v1/projects'),
      401,
      'UNAUTHORIZED',
    );
  });

  it('refuses a login that is taken', async () => {
    await createUser(admin, 'henry@example.com');
    const response = await admin.post('/api/v1/users', {
      login: 'henry@example.com',
      password: 'another-one',
    });
    expectApiError(response, 409, 'ALREADY_EXISTS', /henry@example.com/);
  });

  it.each([
    [{ login: 'not-an-email', password: 'long enough' }, /field "login": must be an email address/],
    [{ login: 'ivy@example.com', password: 'short' }, /field "password": must be at least 8 characters/],
    [{ login: 'ivy@example.com' }, /field "password": is required/],
    [
      { login: 'ivy@example.com', password: 'long enough', admin: true },
      /field "admin": is not a known field/,
    ],
  ])('refuses the body %j', async (body, message) => {
    expectApiError(await admin.post('/api/v1/users', body), 400, 'INVALID_ARGUMENT', message);
  });

  it('lists users with pagination, the administrator included', async () => {
    for (const login of ['u1@example.com', 'u2@example.com', 'u3@example.com'])
      await createUser(admin, login);
    const all = (await admin.ok('GET', '/api/v1/users')).users.map((u: { login: string }) => u.login);
    expect(all).toEqual([...all].sort());
    expect(all).toEqual(
      expect.arrayContaining(['admin', 'u1@example.com', 'u2@example.com', 'u3@example.com']),
    );
    const paged: string[] = [];
    let token = '';
    do {
      const page = await admin.ok('GET', `/api/v1/users?pageSize=2&pageToken=${token}`);
      paged.push(...page.users.map((u: { login: string }) => u.login));
      token = page.nextPageToken ?? '';
    } while (token);
    expect(paged).toEqual(all);
    expect((await admin.ok('GET', '/api/v1/users/admin')).admin).toBe(true);
  });

  it('disables and enables a user; a disabled user cannot sign in, and its earlier tokens stay dead', async () => {
    const jack = await createUser(admin, 'jack@example.com');
    const token = await accessToken(registry.url, 'jack@example.com', 'user-password-1');
    const disabled = await admin.ok('PATCH', '/api/v1/users/jack@example.com', { disabled: true });
    expect(disabled.disabled).toBe(true);
    expectApiError(await jack.get('/api/v1/projects'), 401, 'UNAUTHORIZED');
    expectApiError(await jack.as(bearer(token)).get('/api/v1/projects'), 401, 'UNAUTHORIZED');
    await admin.ok('PATCH', '/api/v1/users/jack@example.com', { disabled: false });
    expect((await jack.get('/api/v1/projects')).status).toBe(200);
    expectApiError(await jack.as(bearer(token)).get('/api/v1/projects'), 401, 'UNAUTHORIZED');
  });

  it('refuses to disable the administrator, and answers NOT_FOUND for unknown users', async () => {
    expectApiError(await admin.patch('/api/v1/users/admin', { disabled: true }), 409, 'FAILED_PRECONDITION');
    expectApiError(
      await admin.patch('/api/v1/users/nobody@example.com', { disabled: true }),
      404,
      'NOT_FOUND',
    );
    expectApiError(await admin.get('/api/v1/users/nobody@example.com'), 404, 'NOT_FOUND');
  });

  it('is for the administrator only', async () => {
    const kate = await createUser(admin, 'kate@example.com');
    await createProject(admin, 'kates');
    await grant(admin, '/api/v1/organizations/default', 'user:kate@example.com', 'artifactstore.owner');
    expectApiError(await kate.get('/api/v1/users'), 403, 'DENIED', /instance administrator/);
    expectApiError(
      await kate.post('/api/v1/users', { login: 'x@example.com', password: '12345678' }),
      403,
      'DENIED',
    );
    expectApiError(await kate.patch('/api/v1/users/kate@example.com', { disabled: false }), 403, 'DENIED');
    expectApiError(await kate.as(noCredentials).get('/api/v1/users'), 401, 'UNAUTHORIZED');
  });
});

describe('authentication', () => {
  it('accepts an OAuth access token as Bearer, and as Basic with oauth2accesstoken', async () => {
    const token = await accessToken(registry.url, 'admin', testAdminPassword);
    expect((await admin.as(bearer(token)).get('/api/v1/users')).status).toBe(200);
    expect((await admin.as(basic('oauth2accesstoken', token)).get('/api/v1/users')).status).toBe(200);
  });

  it.each([
    ['a Bearer token that is no access token', { Authorization: 'Bearer not-a-token' }],
    ['Basic oauth2accesstoken with garbage', { Authorization: `Basic ${btoa('oauth2accesstoken:garbage')}` }],
    ['a malformed Authorization header', { Authorization: 'Negotiate abc' }],
    ['Basic without a colon', { Authorization: `Basic ${btoa('justauser')}` }],
    ['a bad service-account key', { Authorization: `Basic ${btoa('_json_key_base64:e30=')}` }],
  ])('refuses %s with 401 and a Bearer challenge', async (_, headers) => {
    const response = await admin.as(noCredentials).request('GET', '/api/v1/projects', undefined, headers);
    expectApiError(response, 401, 'UNAUTHORIZED');
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="mistrive"');
  });

  it('serves anonymous callers only what is public', async () => {
    const anonymous = admin.as(noCredentials);
    expect((await anonymous.ok('GET', '/api/v1/projects')).projects).toEqual([]);
    await createProject(admin, 'public-stuff');
    await admin.ok('POST', '/api/v1/projects/public-stuff/repositories', { repositoryId: 'open' });
    await grant(admin, '/api/v1/projects/public-stuff/repositories/open', 'allUsers', 'viewer');
    expect((await anonymous.ok('GET', '/api/v1/projects')).projects.map((p: { id: string }) => p.id)).toEqual(
      ['public-stuff'],
    );
    expect((await anonymous.ok('GET', '/api/v1/projects/public-stuff/repositories/open')).id).toBe('open');
    expectApiError(
      await anonymous.patch('/api/v1/projects/public-stuff/repositories/open', {}),
      401,
      'UNAUTHORIZED',
    );
    expectApiError(await anonymous.get('/api/v1/projects/kates'), 401, 'UNAUTHORIZED');
  });
});
