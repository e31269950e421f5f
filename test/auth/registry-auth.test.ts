import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import type { MetadataStore } from '../../src/db/metadata.js';
import { adminFetch } from '../support/admin-session.js';
import { errorCode, pushImage, rawError, rawHttp, sha256 } from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

/** Registry-side authentication: challenges, the token endpoint, and the three refusals of DESIGN §4. */

let registry: TestRegistry;
let metadata: MetadataStore;

const basic = (login: string, password: string) =>
  `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`;

async function addUser(login: string, password: string) {
  await metadata.users.create({
    login,
    passwordHash: await hashPassword(password),
    admin: false,
    disabled: false,
    createdAt: new Date(),
  });
}

async function tokenFor(scope: string, authorization?: string) {
  const response = await fetch(
    `${registry.url}/auth/token?service=mistrive&scope=${encodeURIComponent(scope)}`,
    {
      headers: authorization ? { authorization } : {},
    },
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as { token: string; access_token: string; expires_in: number };
  expect(body.access_token).toBe(body.token);
  return body.token;
}

function claimsOf(token: string): { access: { name: string; actions: string[] }[]; sub: string } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

beforeAll(async () => {
  registry = await startTestRegistry();
  metadata = registry.registry.context.metadata;
  const now = new Date();
  for (const [project, repository] of [
    ['team', 'private'],
    ['team', 'public'],
    ['other', 'secret'],
  ] as const) {
    await metadata.catalog.ensureRepository(project, repository, now);
  }
  await metadata.iam.add({ kind: 'repository', id: 'team/public' }, { member: 'allUsers', role: 'viewer' });
  await addUser('viewer@example.com', 'viewer-password');
  await addUser('editor@example.com', 'editor-password');
  await metadata.iam.add(
    { kind: 'repository', id: 'team/private' },
    { member: 'user:viewer@example.com', role: 'viewer' },
  );
  await metadata.iam.add(
    { kind: 'project', id: 'team' },
    { member: 'user:editor@example.com', role: 'artifactstore.editor' },
  );
  await pushImage(registry.url, 'team/private/app', 'v1', [64]);
  await pushImage(registry.url, 'team/public/app', 'v1', [64]);
  await pushImage(registry.url, 'other/secret/app', 'v1', [64]);
});

afterAll(() => registry.close());

describe('GET /v2/', () => {
  it('challenges a caller without credentials to fetch a token', async () => {
    const response = await fetch(`${registry.url}/v2/`);
    expect(response.status).toBe(401);
    expect(await errorCode(response)).toBe('UNAUTHORIZED');
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain(`realm="${registry.url}/auth/token"`);
    expect(challenge).toContain('service="mistrive"');
  });

  it('answers 200 {} to valid Basic credentials, as curl -u sends them', async () => {
    const response = await fetch(`${registry.url}/v2/`, {
      headers: { authorization: basic('viewer@example.com', 'viewer-password') },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
  });

  it.each([
    ['a wrong password', basic('viewer@example.com', 'nope')],
    ['an unknown user', basic('ghost@example.com', 'viewer-password')],
    ['a malformed header', 'Basic !!!'],
    ['a forged bearer token', 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJl'],
  ])('refuses %s with 401 and a challenge', async (_, authorization) => {
    const response = await fetch(`${registry.url}/v2/`, { headers: { authorization } });
    expect(response.status).toBe(401);
    expect(await errorCode(response)).toBe('UNAUTHORIZED');
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
  });

  it('takes an OAuth access token directly as a Bearer token', async () => {
    const response = await adminFetch(`${registry.url}/v2/team/private/app/tags/list`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: 'team/private/app', tags: ['v1'] });
  });
});

describe('the Host header', () => {
  it.each([
    ['quotes and commas that would inject challenge parameters', 'evil.com"/x,a="b'],
    ['a comma', 'evil.com,realm=x'],
    ['a path', 'evil.com/x'],
    ['a space', 'evil com'],
    ['a port out of range', 'registry.example:99999'],
    ['an empty value', ''],
  ])('refuses a Host with %s with 400 and an OCI error body', async (_, host) => {
    for (const path of ['/v2/', '/v2/some/repo/app/manifests/v1', '/login']) {
      const response = await rawHttp(
        registry.url,
        `GET ${path} HTTP/1.1\nHost: ${host}\nAuthorization: Bearer not-a-token`,
      );
      expect(response.status, response.body).toBe(400);
      expect(rawError(response)?.code).toBe('INVALID_ARGUMENT');
      expect(rawError(response)?.message).toMatch(/invalid Host header/);
      expect(response.headers['www-authenticate']).toBeUndefined();
    }
  });

  it('builds the challenge realm from a valid Host, every value inside its quotes', async () => {
    for (const host of ['registry.example:5000', 'my_registry', '[::1]:5000', '10.0.0.7']) {
      const response = await rawHttp(
        registry.url,
        `GET /v2/ HTTP/1.1\nHost: ${host}\nAuthorization: Bearer not-a-token`,
      );
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe(
        `Bearer realm="http://${host}/auth/token",service="mistrive"`,
      );
    }
  });
});

describe('the token endpoint', () => {
  it('grants an anonymous caller pull on a public repository and nothing more', async () => {
    const token = await tokenFor('repository:team/public/app:pull,push');
    expect(claimsOf(token).access).toEqual([
      { type: 'repository', name: 'team/public/app', actions: ['pull'] },
    ]);
    const pull = await fetch(`${registry.url}/v2/team/public/app/manifests/v1`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(pull.status).toBe(200);
    const push = await fetch(`${registry.url}/v2/team/public/app/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(push.status).toBe(401);
    expect(push.headers.get('www-authenticate')).toContain('scope="repository:team/public/app:pull,push"');
  });

  it('grants a viewer only the subset of the requested actions it holds', async () => {
    const token = await tokenFor(
      'repository:team/private/app:pull,push,delete',
      basic('viewer@example.com', 'viewer-password'),
    );
    expect(claimsOf(token)).toMatchObject({
      sub: 'user:viewer@example.com',
      access: [{ type: 'repository', name: 'team/private/app', actions: ['pull'] }],
    });
  });

  it('grants nothing on a repository the caller may not see, without revealing it exists', async () => {
    const existing = await tokenFor(
      'repository:other/secret/app:pull',
      basic('viewer@example.com', 'viewer-password'),
    );
    const missing = await tokenFor(
      'repository:other/missing/app:pull',
      basic('viewer@example.com', 'viewer-password'),
    );
    expect(claimsOf(existing).access).toEqual([]);
    expect(claimsOf(missing).access).toEqual([]);
  });

  it('inherits project roles: an Artifact Store Editor on the project may push to its repositories', async () => {
    const token = await tokenFor(
      'repository:team/private/app:pull,push',
      basic('editor@example.com', 'editor-password'),
    );
    expect(claimsOf(token).access).toEqual([
      { type: 'repository', name: 'team/private/app', actions: ['pull', 'push'] },
    ]);
    const bytes = Buffer.from('pushed by an editor');
    const response = await fetch(
      `${registry.url}/v2/team/private/app/blobs/uploads/?digest=${sha256(bytes)}`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: bytes,
      },
    );
    expect(response.status).toBe(201);
  });

  it('answers the OAuth2 form POST that Docker sends with a password', async () => {
    const response = await fetch(`${registry.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        username: 'viewer@example.com',
        password: 'viewer-password',
        service: 'mistrive',
        scope: 'repository:team/private/app:pull',
        client_id: 'docker',
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe('Bearer');
    expect(claimsOf(body.access_token).access).toEqual([
      { type: 'repository', name: 'team/private/app', actions: ['pull'] },
    ]);
  });

  it('refuses bad credentials with 401', async () => {
    const response = await fetch(`${registry.url}/auth/token?scope=repository:team/public/app:pull`, {
      headers: { authorization: basic('viewer@example.com', 'wrong') },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="mistrive"');
    expect(await errorCode(response)).toBe('UNAUTHORIZED');
  });

  it('says how to authenticate on every 401 of the token endpoint (RFC 7235 §3.1)', async () => {
    const malformed = await fetch(`${registry.url}/auth/token`, { headers: { authorization: 'Digest x' } });
    expect(malformed.status).toBe(401);
    expect(malformed.headers.get('www-authenticate')).toBe('Basic realm="mistrive"');
    const badToken = await fetch(`${registry.url}/auth/token`, { headers: { authorization: 'Bearer nope' } });
    expect(badToken.status).toBe(401);
    expect(badToken.headers.get('www-authenticate')).toBe('Basic realm="mistrive"');
    const form = await fetch(`${registry.url}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'nope', client_id: 'docker' }),
    });
    expect(form.status).toBe(401);
    expect(form.headers.get('www-authenticate')).toBe('Basic realm="mistrive"');
  });
});

describe('what a client sees when access fails', () => {
  it('a Viewer pushing gets 403 DENIED, naming the role it takes and the repository', async () => {
    const response = await fetch(`${registry.url}/v2/team/private/app/blobs/uploads/`, {
      method: 'POST',
      headers: { authorization: basic('viewer@example.com', 'viewer-password') },
    });
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({
      errors: [
        {
          code: 'DENIED',
          message:
            'access forbidden: pushing to team/private/app needs the editor role on repository team/private (you have viewer)',
          detail: { requiredRole: 'editor', repository: 'team/private', role: 'viewer' },
        },
      ],
    });
  });

  it('a Viewer pushing with a token it was granted gets 403 DENIED', async () => {
    const token = await tokenFor(
      'repository:team/private/app:pull,push',
      basic('viewer@example.com', 'viewer-password'),
    );
    const response = await fetch(`${registry.url}/v2/team/private/app/manifests/v2`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
      },
      body: '{}',
    });
    expect(response.status).toBe(403);
    const body = (await response.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe('DENIED');
    expect(body.errors[0]?.message).toMatch(
      /^access forbidden: pushing to team\/private\/app needs the editor role/,
    );
  });

  it.each([
    ['a repository the caller may not see', 'other/secret/app'],
    ['a repository that does not exist', 'other/missing/app'],
    ['a project that does not exist', 'nowhere/repo/app'],
  ])('a signed-in caller asking for %s gets 404 NAME_UNKNOWN', async (_, name) => {
    const response = await fetch(`${registry.url}/v2/${name}/manifests/v1`, {
      headers: { authorization: basic('viewer@example.com', 'viewer-password') },
    });
    expect(response.status).toBe(404);
    expect(await errorCode(response)).toBe('NAME_UNKNOWN');
  });

  it.each([
    ['a private repository', 'team/private/app'],
    ['a repository that does not exist', 'other/missing/app'],
  ])('an anonymous caller asking for %s gets 401 with a challenge for its scope', async (_, name) => {
    const response = await fetch(`${registry.url}/v2/${name}/manifests/v1`);
    expect(response.status).toBe(401);
    expect(await errorCode(response)).toBe('UNAUTHORIZED');
    expect(response.headers.get('www-authenticate')).toContain(`scope="repository:${name}:pull"`);
  });

  it('nobody, not even the administrator, may push anonymously to a public repository', async () => {
    const response = await fetch(`${registry.url}/v2/team/public/app/blobs/uploads/`, { method: 'POST' });
    expect(response.status).toBe(401);
  });

  it('lists in the catalog only what the caller may see', async () => {
    const asViewer = await fetch(`${registry.url}/v2/_catalog`, {
      headers: { authorization: basic('viewer@example.com', 'viewer-password') },
    });
    expect(await asViewer.json()).toEqual({ repositories: ['team/private/app', 'team/public/app'] });
    const anonymous = await fetch(`${registry.url}/v2/_catalog`);
    expect(await anonymous.json()).toEqual({ repositories: ['team/public/app'] });
    const asAdmin = await adminFetch(`${registry.url}/v2/_catalog`);
    expect(await asAdmin.json()).toEqual({
      repositories: ['other/secret/app', 'team/private/app', 'team/public/app'],
    });
  });

  it('mounts a blob only from a repository the caller may read', async () => {
    const secret = await pushImage(registry.url, 'other/secret/mounted', 'v1', [32]);
    const layer = secret.layers[0] ?? '';
    const token = await tokenFor(
      'repository:team/private/app:pull,push',
      basic('editor@example.com', 'editor-password'),
    );
    const response = await fetch(
      `${registry.url}/v2/team/private/app/blobs/uploads/?mount=${layer}&from=other/secret/mounted`,
      { method: 'POST', headers: { authorization: `Bearer ${token}` } },
    );
    // Not mounted: a new upload session instead, so the editor learns nothing about other/secret.
    expect(response.status).toBe(202);
    const head = await adminFetch(`${registry.url}/v2/team/private/app/blobs/${layer}`, { method: 'HEAD' });
    expect(head.status).toBe(404);
  });

  it('mounts with a registry token only from a source the token grants pull on', async () => {
    const source = await pushImage(registry.url, 'team/public/mountable', 'v1', [48]);
    const layer = source.layers[0] ?? '';
    const editor = basic('editor@example.com', 'editor-password');
    const mount = (token: string) =>
      fetch(`${registry.url}/v2/team/private/app/blobs/uploads/?mount=${layer}&from=team/public/mountable`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
    // The caller may read the source, but this token was issued for the target alone.
    const narrow = await mount(await tokenFor('repository:team/private/app:pull,push', editor));
    expect(narrow.status).toBe(202);
    const head = () => adminFetch(`${registry.url}/v2/team/private/app/blobs/${layer}`, { method: 'HEAD' });
    expect((await head()).status).toBe(404);
    // Docker and skopeo ask for pull on the source beside the target's scope: then it mounts.
    const both = await mount(
      await tokenFor('repository:team/private/app:pull,push repository:team/public/mountable:pull', editor),
    );
    expect(both.status).toBe(201);
    expect((await head()).status).toBe(200);
  });
});
