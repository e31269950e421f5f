import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServeConfig } from '../../src/config/config.js';
import { startRegistry } from '../../src/server/app.js';
import { passwordTokens, type TokenSet, tokenRequest } from '../oauth/support/flows.js';
import { WebClient } from '../oauth/support/http.js';
import { type ClockedRegistry, cliClientId, startClockedRegistry } from '../oauth/support/oauth-registry.js';
import {
  ApiClient,
  authorization,
  basic,
  bearer,
  createProject,
  createRepository,
  createUser,
  expectApiError,
  grant,
  noCredentials,
} from '../support/api-client.js';
import { FakeClock } from '../support/fake-clock.js';
import { testMetadata } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';

/**
 * User accounts over the real HTTP stack: changing and resetting passwords, deleting users, what
 * each of them and a disable revoke, and logins that are one account whatever their case.
 */

let registry: ClockedRegistry;
let admin: ApiClient;
const password = 'user-password-1';

beforeAll(async () => {
  registry = await startClockedRegistry();
  admin = new ApiClient(registry.url, bearer((await passwordTokens(registry.url)).access_token));
  await createProject(admin, 'team');
  await createRepository(admin, 'team', 'api');
});
afterAll(() => registry.close());

/** A fresh sign-in (access and refresh token) with the CLI's password grant. */
const signIn = (login: string, secret = password): Promise<TokenSet> =>
  passwordTokens(registry.url, secret, login);

const refresh = (tokens: TokenSet) =>
  tokenRequest(registry.url, {
    grant_type: 'refresh_token',
    client_id: cliClientId,
    refresh_token: tokens.refresh_token,
  });

/** A registry token from the Docker token endpoint, pulling team/api/app. */
async function registryToken(credentials: Parameters<typeof authorization>[0]): Promise<string> {
  const scope = encodeURIComponent('repository:team/api/app:pull');
  const response = await fetch(`${registry.url}/auth/token?service=mistrive&scope=${scope}`, {
    headers: authorization(credentials),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

/** 401 when the registry refuses the token outright; 404 when it lets the caller in (no such image yet). */
async function tagListStatus(token: string): Promise<number> {
  const response = await fetch(`${registry.url}/v2/team/api/app/tags/list`, {
    headers: { Authorization: `Bearer ${token}` },
  });
  await response.arrayBuffer();
  return response.status;
}

const projectsAs = (token: string) => admin.as(bearer(token)).get('/api/v1/projects');

/** Token times are whole seconds: a change revokes what was issued up to the end of its second. */
const nextSecond = () => registry.clock.advance(1000);

async function userWithAccess(login: string): Promise<ApiClient> {
  const user = await createUser(admin, login, password);
  await grant(admin, '/api/v1/projects/team', `user:${login}`, 'artifactstore.viewer');
  return user;
}

describe('disabling a user', () => {
  it('keeps every token issued before the disable dead once the user is enabled again', async () => {
    const lena = await userWithAccess('lena@example.com');
    const tokens = await signIn('lena@example.com');
    const pull = await registryToken(basic('lena@example.com', password));
    expect(await tagListStatus(pull)).toBe(404);

    await admin.ok('PATCH', '/api/v1/users/lena@example.com', { disabled: true });
    await admin.ok('PATCH', '/api/v1/users/lena@example.com', { disabled: false });

    expectApiError(await projectsAs(tokens.access_token), 401, 'UNAUTHORIZED');
    expect(await tagListStatus(pull)).toBe(401);
    const refreshed = await refresh(tokens);
    expect(refreshed.status, refreshed.text).toBe(400);
    expect(refreshed.json.error).toBe('invalid_grant');
    // The password still works, and a sign-in after the change gets tokens that work.
    expect((await lena.get('/api/v1/projects')).status).toBe(200);
    nextSecond();
    expect((await projectsAs((await signIn('lena@example.com')).access_token)).status).toBe(200);
    expect(await tagListStatus(await registryToken(basic('lena@example.com', password)))).toBe(404);
  });

  it('signs the user out of the browser', async () => {
    await userWithAccess('mona@example.com');
    const browser = new WebClient(registry.url);
    await browser.signIn('mona@example.com', password);
    expect((await browser.get('/account')).status).toBe(200);
    await admin.ok('PATCH', '/api/v1/users/mona@example.com', { disabled: true });
    await admin.ok('PATCH', '/api/v1/users/mona@example.com', { disabled: false });
    expect((await browser.get('/account')).status).toBe(303);
  });
});

describe('the administrator resets a password', () => {
  it('sets the given password and revokes every token, refresh token and session of the user', async () => {
    await userWithAccess('nora@example.com');
    const tokens = await signIn('nora@example.com');
    const pull = await registryToken(bearer(tokens.access_token));
    const browser = new WebClient(registry.url);
    await browser.signIn('nora@example.com', password);

    const reset = await admin.ok('PUT', '/api/v1/users/nora@example.com/password', {
      password: 'brand-new-password',
    });
    expect(reset).toEqual({ user: expect.objectContaining({ login: 'nora@example.com' }) });

    expectApiError(await projectsAs(tokens.access_token), 401, 'UNAUTHORIZED');
    expect(await tagListStatus(pull)).toBe(401);
    expect((await refresh(tokens)).status).toBe(400);
    expect((await browser.get('/account')).status).toBe(303);
    expectApiError(
      await admin.as(basic('nora@example.com', password)).get('/api/v1/projects'),
      401,
      'UNAUTHORIZED',
    );
    expect(
      (await admin.as(basic('nora@example.com', 'brand-new-password')).get('/api/v1/projects')).status,
    ).toBe(200);
    nextSecond();
    expect(
      (await projectsAs((await signIn('nora@example.com', 'brand-new-password')).access_token)).status,
    ).toBe(200);
  });

  it('generates a password when none is given, and returns it this once', async () => {
    await createUser(admin, 'olga@example.com', password);
    const reset = await admin.ok('PUT', '/api/v1/users/olga@example.com/password', {});
    expect(reset.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect((await admin.as(basic('olga@example.com', reset.password)).get('/api/v1/projects')).status).toBe(
      200,
    );
    expect(JSON.stringify(await admin.ok('GET', '/api/v1/users/olga@example.com'))).not.toContain(
      reset.password,
    );
  });

  it('is for the administrator only, for users that exist, and not for the administrator’s own password', async () => {
    const pia = await createUser(admin, 'pia@example.com', password);
    expectApiError(
      await pia.put('/api/v1/users/pia@example.com/password', { password: 'not-allowed-1' }),
      403,
      'DENIED',
    );
    expectApiError(
      await admin.put('/api/v1/users/nobody@example.com/password', { password: 'whatever-1' }),
      404,
      'NOT_FOUND',
    );
    expectApiError(
      await admin.put('/api/v1/users/admin/password', { password: 'whatever-1' }),
      409,
      'FAILED_PRECONDITION',
      /auth change-password/,
    );
    expectApiError(
      await admin.put('/api/v1/users/pia@example.com/password', { password: 'short' }),
      400,
      'INVALID_ARGUMENT',
      /at least 8 characters/,
    );
  });
});

describe('a user changes their own password', () => {
  it('keeps the sign-in it was changed from and revokes every other', async () => {
    await userWithAccess('quinn@example.com');
    const current = await signIn('quinn@example.com');
    const other = await signIn('quinn@example.com');
    const browser = new WebClient(registry.url);
    await browser.signIn('quinn@example.com', password);

    const changed = await admin
      .as(bearer(current.access_token))
      .put('/api/v1/account/password', { currentPassword: password, newPassword: 'quinn-new-password' });
    expect(changed.status, changed.text).toBe(204);

    expect((await projectsAs(current.access_token)).status).toBe(200);
    const rotated = await refresh(current);
    expect(rotated.status, rotated.text).toBe(200);
    expect((await projectsAs(rotated.json.access_token as string)).status).toBe(200);

    expectApiError(await projectsAs(other.access_token), 401, 'UNAUTHORIZED');
    expect((await refresh(other)).status).toBe(400);
    expect((await browser.get('/account')).status).toBe(303);
    expectApiError(
      await admin.as(basic('quinn@example.com', password)).get('/api/v1/projects'),
      401,
      'UNAUTHORIZED',
    );
    expect((await signIn('quinn@example.com', 'quinn-new-password')).access_token).toBeTruthy();
  });

  it('refuses a wrong current password, a short new one, service accounts and anonymous callers', async () => {
    const rita = await createUser(admin, 'rita@example.com', password);
    expectApiError(
      await rita.put('/api/v1/account/password', {
        currentPassword: 'not-it-at-all',
        newPassword: 'rita-new-pw-1',
      }),
      400,
      'INVALID_ARGUMENT',
      /currentPassword.*not your current password/,
    );
    expectApiError(
      await rita.put('/api/v1/account/password', { currentPassword: password, newPassword: 'short' }),
      400,
      'INVALID_ARGUMENT',
      /newPassword.*at least 8 characters/,
    );
    expect((await rita.get('/api/v1/projects')).status).toBe(200);

    await admin.ok('POST', '/api/v1/projects/team/serviceAccounts', { accountId: 'ci' });
    const { keyFile } = await admin.ok('POST', '/api/v1/projects/team/serviceAccounts/ci/keys');
    const key = Buffer.from(JSON.stringify(keyFile)).toString('base64');
    expectApiError(
      await admin
        .as(basic('_json_key_base64', key))
        .put('/api/v1/account/password', { currentPassword: 'x', newPassword: 'long-enough-1' }),
      409,
      'FAILED_PRECONDITION',
      /keys, not passwords/,
    );
    expectApiError(
      await admin
        .as(noCredentials)
        .put('/api/v1/account/password', { currentPassword: 'x', newPassword: 'long-enough-1' }),
      401,
      'UNAUTHORIZED',
    );
  });
});

describe('the administrator deletes a user', () => {
  it('removes the user’s bindings, tokens, refresh tokens and sessions; a new user of that login inherits none', async () => {
    await userWithAccess('sam@example.com');
    await grant(admin, '/api/v1/projects/team/repositories/api', 'user:sam@example.com', 'editor');
    const tokens = await signIn('sam@example.com');
    const pull = await registryToken(bearer(tokens.access_token));
    const browser = new WebClient(registry.url);
    await browser.signIn('sam@example.com', password);

    await admin.ok('DELETE', '/api/v1/users/sam@example.com');

    expectApiError(await admin.get('/api/v1/users/sam@example.com'), 404, 'NOT_FOUND');
    const members = async (path: string) =>
      (await admin.ok('GET', `${path}/iamPolicy`)).bindings.flatMap((b: { members: string[] }) => b.members);
    expect(await members('/api/v1/projects/team')).not.toContain('user:sam@example.com');
    expect(await members('/api/v1/projects/team/repositories/api')).not.toContain('user:sam@example.com');
    expectApiError(await projectsAs(tokens.access_token), 401, 'UNAUTHORIZED');
    expect(await tagListStatus(pull)).toBe(401);
    expect((await refresh(tokens)).status).toBe(400);
    expect((await browser.get('/account')).status).toBe(303);

    nextSecond();
    const again = await createUser(admin, 'sam@example.com', 'another-password');
    expectApiError(await projectsAs(tokens.access_token), 401, 'UNAUTHORIZED');
    expect((await refresh(tokens)).status).toBe(400);
    expect((await again.ok('GET', '/api/v1/projects')).projects).toEqual([]);
  });

  it('refuses to delete the administrator or a user that does not exist, and is for the administrator only', async () => {
    const tess = await createUser(admin, 'tess@example.com', password);
    expectApiError(await admin.delete('/api/v1/users/admin'), 409, 'FAILED_PRECONDITION');
    expectApiError(await admin.delete('/api/v1/users/nobody@example.com'), 404, 'NOT_FOUND');
    expectApiError(await tess.delete('/api/v1/users/tess@example.com'), 403, 'DENIED');
  });
});

describe('logins are one account whatever their case', () => {
  it('folds the login at creation and refuses the same login in another case', async () => {
    const created = await admin.ok('POST', '/api/v1/users', { login: 'Uma.Case@Example.COM', password });
    expect(created.login).toBe('uma.case@example.com');
    expectApiError(
      await admin.post('/api/v1/users', { login: 'uma.case@example.com', password }),
      409,
      'ALREADY_EXISTS',
    );
    expect((await admin.ok('GET', '/api/v1/users/UMA.CASE@example.com')).login).toBe('uma.case@example.com');
  });

  it('signs in with any case: Basic, the token endpoint, the password grant and the login page', async () => {
    await createUser(admin, 'vic@example.com', password);
    await grant(admin, '/api/v1/projects/team/repositories/api', 'user:VIC@Example.com', 'viewer');
    const policy = await admin.ok('GET', '/api/v1/projects/team/repositories/api/iamPolicy');
    expect(policy.bindings).toContainEqual({
      role: 'viewer',
      members: expect.arrayContaining(['user:vic@example.com']),
    });

    const vic = admin.as(basic('Vic@EXAMPLE.com', password));
    expect((await vic.ok('GET', '/api/v1/projects')).projects.map((p: { id: string }) => p.id)).toEqual([
      'team',
    ]);
    expect(await tagListStatus(await registryToken(basic('VIC@example.com', password)))).toBe(404);
    const tokens = await signIn('vIc@example.com');
    expect((await projectsAs(tokens.access_token)).status).toBe(200);
    const browser = new WebClient(registry.url);
    await browser.signIn('VIC@EXAMPLE.COM', password);
    expect((await browser.get('/account')).text).toContain('vic@example.com');

    await admin.ok(
      'DELETE',
      `/api/v1/projects/team/repositories/api/iamPolicy/bindings?${new URLSearchParams({ member: 'user:Vic@example.com', role: 'viewer' })}`,
      undefined,
      200,
    );
    expect((await vic.ok('GET', '/api/v1/projects')).projects).toEqual([]);
  });

  it('counts failed sign-ins of every spelling against one account', async () => {
    await createUser(admin, 'wes@example.com', password);
    const spellings = ['wes@example.com', 'Wes@example.com', 'WES@example.com', 'wEs@example.com'];
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      const response = await admin
        .as(basic(spellings[attempt % spellings.length] as string, 'wrong-password'))
        .get('/api/v1/projects');
      statuses.push(response.status);
    }
    expect(statuses).toContain(429);
  });
});

describe('the administrator’s password set by MISTRIVE_ADMIN_PASSWORD', () => {
  it('revokes what was issued under the old one when it changes', async () => {
    const dir = await tempDir();
    const clock = new FakeClock();
    const metadata = await testMetadata(dir.path);
    const start = (adminPassword: string) =>
      startRegistry(
        loadServeConfig(
          undefined,
          { port: 0, logLevel: 'silent', dataDir: dir.path, metadata },
          { MISTRIVE_ADMIN_PASSWORD: adminPassword },
        ),
        { clock },
      );
    try {
      const first = await start('first-admin-password');
      const tokens = await passwordTokens(first.url, 'first-admin-password');
      await first.close();

      const second = await start('second-admin-password');
      try {
        const api = new ApiClient(second.url);
        expectApiError(await api.as(bearer(tokens.access_token)).get('/api/v1/users'), 401, 'UNAUTHORIZED');
        const refreshed = await tokenRequest(second.url, {
          grant_type: 'refresh_token',
          client_id: cliClientId,
          refresh_token: tokens.refresh_token,
        });
        expect(refreshed.status).toBe(400);
        clock.advance(1000);
        const fresh = await passwordTokens(second.url, 'second-admin-password');
        expect((await api.as(bearer(fresh.access_token)).get('/api/v1/users')).status).toBe(200);
      } finally {
        await second.close();
      }
    } finally {
      await dir.remove();
    }
  });
});
