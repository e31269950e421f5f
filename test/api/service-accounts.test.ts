import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  adminClient,
  authorization,
  basic,
  createProject,
  createRepository,
  createUser,
  expectApiError,
  grant,
} from '../support/api-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
let admin: ApiClient;
const accounts = '/api/v1/projects/ci/serviceAccounts';

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: false });
  admin = await adminClient(registry.url);
  await createProject(admin, 'ci');
  await createRepository(admin, 'ci', 'builds');
});
afterAll(() => registry.close());

const keyCredentials = (keyFile: unknown) =>
  basic('_json_key_base64', Buffer.from(JSON.stringify(keyFile)).toString('base64'));

describe('service accounts', () => {
  it('creates an account named ID@PROJECT.iam.mistrive and reads it by email or ID', async () => {
    const created = await admin.ok('POST', accounts, { accountId: 'builder', displayName: 'Builder' });
    expect(created).toEqual({
      email: 'builder@ci.iam.mistrive',
      accountId: 'builder',
      project: 'ci',
      displayName: 'Builder',
      createdAt: expect.any(String),
    });
    expect(await admin.ok('GET', `${accounts}/builder@ci.iam.mistrive`)).toEqual(created);
    expect(await admin.ok('GET', `${accounts}/builder`)).toEqual(created);
    expectApiError(await admin.post(accounts, { accountId: 'builder' }), 409, 'ALREADY_EXISTS');
    expectApiError(
      await admin.post(accounts, { accountId: 'Builder' }),
      400,
      'INVALID_ARGUMENT',
      /"accountId"/,
    );
  });

  it('does not show an account through another project', async () => {
    await createProject(admin, 'other');
    await admin.ok('POST', accounts, { accountId: 'mine' });
    expectApiError(
      await admin.get('/api/v1/projects/other/serviceAccounts/mine@ci.iam.mistrive'),
      404,
      'NOT_FOUND',
    );
  });

  it('lists the accounts of a project with pagination', async () => {
    await createProject(admin, 'crowd');
    for (const id of ['sa-a', 'sa-b', 'sa-c']) {
      await admin.ok('POST', '/api/v1/projects/crowd/serviceAccounts', { accountId: id });
    }
    const first = await admin.ok('GET', '/api/v1/projects/crowd/serviceAccounts?pageSize=2');
    const second = await admin.ok(
      'GET',
      `/api/v1/projects/crowd/serviceAccounts?pageSize=2&pageToken=${first.nextPageToken}`,
    );
    expect(
      [...first.serviceAccounts, ...second.serviceAccounts].map((a: { accountId: string }) => a.accountId),
    ).toEqual(['sa-a', 'sa-b', 'sa-c']);
    expect(second.nextPageToken).toBeUndefined();
  });

  it('needs artifactstore.owner on the project', async () => {
    const lena = await createUser(admin, 'lena@example.com');
    expectApiError(await lena.get(accounts), 404, 'NAME_UNKNOWN');
    await grant(admin, '/api/v1/projects/ci', 'user:lena@example.com', 'artifactstore.editor');
    expectApiError(await lena.get(accounts), 403, 'DENIED');
    expectApiError(await lena.post(accounts, { accountId: 'lenas' }), 403, 'DENIED');
    await grant(admin, '/api/v1/projects/ci', 'user:lena@example.com', 'artifactstore.owner');
    expect((await lena.ok('POST', accounts, { accountId: 'lenas' })).email).toBe('lenas@ci.iam.mistrive');
  });
});

describe('service account keys', () => {
  it('hands out the key file once; the server keeps only the public key', async () => {
    await admin.ok('POST', accounts, { accountId: 'pusher' });
    const response = await admin.request('POST', `${accounts}/pusher/keys`);
    expect(response.status, response.text).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const { key, keyFile } = response.body;
    expect(key).toEqual({
      id: keyFile.private_key_id,
      serviceAccount: 'pusher@ci.iam.mistrive',
      disabled: false,
      createdAt: expect.any(String),
    });
    expect(keyFile).toMatchObject({
      type: 'service_account',
      client_email: 'pusher@ci.iam.mistrive',
      project_id: 'ci',
      token_uri: `${registry.url}/oauth/token`,
    });
    expect(keyFile.private_key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const listed = await admin.ok('GET', `${accounts}/pusher/keys`);
    expect(listed).toEqual({ keys: [key] });
    expect(JSON.stringify(listed)).not.toContain('PRIVATE');
    // What the server stores verifies, but cannot recreate, the private key.
    const stored = await registry.registry.context.metadata.serviceAccounts.findKey(key.id);
    const jwk = JSON.parse(stored?.publicKey ?? '{}');
    expect(jwk.d).toBeUndefined();
    expect(createPublicKey({ key: jwk, format: 'jwk' }).asymmetricKeyType).toBe('ec');
  });

  it('authenticates with the key file, and stops once the key is disabled or deleted', async () => {
    await admin.ok('POST', accounts, { accountId: 'robot' });
    await grant(
      admin,
      '/api/v1/projects/ci/repositories/builds',
      'serviceAccount:robot@ci.iam.mistrive',
      'editor',
    );
    const { key, keyFile } = await admin.ok('POST', `${accounts}/robot/keys`);
    const robot = admin.as(keyCredentials(keyFile));
    expect((await robot.ok('GET', '/api/v1/projects/ci/repositories/builds')).id).toBe('builds');
    expectApiError(await robot.get('/api/v1/projects/ci/repositories/builds/iamPolicy'), 403, 'DENIED');

    const disabled = await admin.ok('PATCH', `${accounts}/robot/keys/${key.id}`, { disabled: true });
    expect(disabled.disabled).toBe(true);
    expectApiError(await robot.get('/api/v1/projects/ci/repositories/builds'), 401, 'UNAUTHORIZED');
    await admin.ok('PATCH', `${accounts}/robot/keys/${key.id}`, { disabled: false });
    expect((await robot.get('/api/v1/projects/ci/repositories/builds')).status).toBe(200);

    await admin.ok('DELETE', `${accounts}/robot/keys/${key.id}`);
    expectApiError(await robot.get('/api/v1/projects/ci/repositories/builds'), 401, 'UNAUTHORIZED');
    expectApiError(await admin.delete(`${accounts}/robot/keys/${key.id}`), 404, 'NOT_FOUND');
    expect((await admin.ok('GET', `${accounts}/robot/keys`)).keys).toEqual([]);
  });

  it('does not reach a key through another account', async () => {
    await admin.ok('POST', accounts, { accountId: 'first' });
    await admin.ok('POST', accounts, { accountId: 'second' });
    const { key } = await admin.ok('POST', `${accounts}/first/keys`);
    expectApiError(
      await admin.patch(`${accounts}/second/keys/${key.id}`, { disabled: true }),
      404,
      'NOT_FOUND',
    );
    expectApiError(await admin.delete(`${accounts}/second/keys/${key.id}`), 404, 'NOT_FOUND');
  });

  it('deleting an account removes its keys and every binding naming it', async () => {
    await admin.ok('POST', accounts, { accountId: 'temp' });
    const member = 'serviceAccount:temp@ci.iam.mistrive';
    await grant(admin, '/api/v1/projects/ci', member, 'artifactstore.viewer');
    await grant(admin, '/api/v1/projects/ci/repositories/builds', member, 'owner');
    const { keyFile } = await admin.ok('POST', `${accounts}/temp/keys`);
    await admin.ok('DELETE', `${accounts}/temp`);
    expectApiError(await admin.get(`${accounts}/temp`), 404, 'NOT_FOUND');
    expectApiError(await admin.as(keyCredentials(keyFile)).get('/api/v1/projects'), 401, 'UNAUTHORIZED');
    for (const path of ['/api/v1/projects/ci', '/api/v1/projects/ci/repositories/builds']) {
      const policy = await admin.ok('GET', `${path}/iamPolicy`);
      expect(JSON.stringify(policy)).not.toContain(member);
    }
    // An account created again under the same name starts with no access.
    await admin.ok('POST', accounts, { accountId: 'temp' });
    const { keyFile: fresh } = await admin.ok('POST', `${accounts}/temp/keys`);
    expectApiError(await admin.as(keyCredentials(fresh)).get('/api/v1/projects/ci'), 404, 'NAME_UNKNOWN');
  });

  it('a registry token of a deleted account does not come back to life with an account of the same name', async () => {
    const member = 'serviceAccount:phoenix@ci.iam.mistrive';
    await admin.ok('POST', accounts, { accountId: 'phoenix' });
    await grant(admin, '/api/v1/projects/ci/repositories/builds', member, 'viewer');
    const { keyFile } = await admin.ok('POST', `${accounts}/phoenix/keys`);
    const scope = encodeURIComponent('repository:ci/builds/app:pull');
    const issued = await fetch(`${registry.url}/auth/token?service=mistrive&scope=${scope}`, {
      headers: authorization(keyCredentials(keyFile)),
    });
    const { token } = (await issued.json()) as { token: string };
    const tagList = () =>
      fetch(`${registry.url}/v2/ci/builds/app/tags/list`, { headers: { Authorization: `Bearer ${token}` } });
    expect((await tagList()).status).toBe(404); // allowed in, and no such image yet

    await admin.ok('DELETE', `${accounts}/phoenix`);
    // Token times are in whole seconds: the new account must be created in a later one.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await admin.ok('POST', accounts, { accountId: 'phoenix' });
    await grant(admin, '/api/v1/projects/ci/repositories/builds', member, 'viewer');
    const refused = await tagList();
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('UNAUTHORIZED');
  });
});
