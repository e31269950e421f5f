import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  adminClient,
  basic,
  createProject,
  createRepository,
  createUser,
  expectApiError,
  grant,
  noCredentials,
  revoke,
} from '../support/api-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
let admin: ApiClient;
let erin: ApiClient;

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: false });
  admin = await adminClient(registry.url);
  erin = await createUser(admin, 'erin@example.com');
  await createUser(admin, 'frank@example.com');
  await createProject(admin, 'team');
  await createRepository(admin, 'team', 'api');
  await admin.ok('POST', '/api/v1/projects/team/serviceAccounts', { accountId: 'deployer' });
});
afterAll(() => registry.close());

/** One resource per level, with the role names its bindings use. */
const levels = [
  {
    level: 'organization',
    path: '/api/v1/organizations/default',
    resource: 'organizations/default',
    viewer: 'artifactstore.viewer',
    editor: 'artifactstore.editor',
    owner: 'artifactstore.owner',
  },
  {
    level: 'project',
    path: '/api/v1/projects/team',
    resource: 'projects/team',
    viewer: 'artifactstore.viewer',
    editor: 'artifactstore.editor',
    owner: 'artifactstore.owner',
  },
  {
    level: 'repository',
    path: '/api/v1/projects/team/repositories/api',
    resource: 'projects/team/repositories/api',
    viewer: 'viewer',
    editor: 'editor',
    owner: 'owner',
  },
] as const;

describe.each(levels)('the IAM policy of an $level', ({ path, resource, viewer, editor, owner }) => {
  it('adds bindings, groups members by role, and removes them', async () => {
    expect(await admin.ok('GET', `${path}/iamPolicy`)).toEqual({ resource, bindings: [] });
    await admin.ok(
      'POST',
      `${path}/iamPolicy/bindings`,
      { member: 'user:frank@example.com', role: editor },
      200,
    );
    const policy = await admin.ok(
      'POST',
      `${path}/iamPolicy/bindings`,
      { member: 'user:erin@example.com', role: editor },
      200,
    );
    expect(policy).toEqual({
      resource,
      bindings: [{ role: editor, members: ['user:erin@example.com', 'user:frank@example.com'] }],
    });
    const again = await admin.ok(
      'POST',
      `${path}/iamPolicy/bindings`,
      { member: 'user:erin@example.com', role: editor },
      200,
    );
    expect(again).toEqual(policy);
    const query = new URLSearchParams({ member: 'user:erin@example.com', role: editor });
    const removed = await admin.ok('DELETE', `${path}/iamPolicy/bindings?${query}`, undefined, 200);
    expect(removed.bindings).toEqual([{ role: editor, members: ['user:frank@example.com'] }]);
    expectApiError(await admin.delete(`${path}/iamPolicy/bindings?${query}`), 404, 'NOT_FOUND', /no binding/);
    const frank = new URLSearchParams({ member: 'user:frank@example.com', role: editor });
    await admin.ok('DELETE', `${path}/iamPolicy/bindings?${frank}`, undefined, 200);
  });

  it('binds service accounts and the special principals as viewers', async () => {
    for (const member of ['serviceAccount:deployer@team.iam.mistrive', 'allUsers', 'allAuthenticatedUsers']) {
      await admin.ok('POST', `${path}/iamPolicy/bindings`, { member, role: viewer }, 200);
    }
    const policy = await admin.ok('GET', `${path}/iamPolicy`);
    expect(policy.bindings).toEqual([
      {
        role: viewer,
        members: ['allAuthenticatedUsers', 'allUsers', 'serviceAccount:deployer@team.iam.mistrive'],
      },
    ]);
    for (const member of ['serviceAccount:deployer@team.iam.mistrive', 'allUsers', 'allAuthenticatedUsers']) {
      await admin.ok(
        'DELETE',
        `${path}/iamPolicy/bindings?${new URLSearchParams({ member, role: viewer })}`,
        undefined,
        200,
      );
    }
  });

  it.each(['allUsers', 'allAuthenticatedUsers'])('refuses any role but viewer for %s', async (member) => {
    for (const role of [editor, owner]) {
      const response = await admin.post(`${path}/iamPolicy/bindings`, { member, role });
      expectApiError(
        response,
        400,
        'INVALID_ARGUMENT',
        new RegExp(`${member} can only be granted the viewer role`),
      );
      expect(response.body.errors[0].message).toMatch(/public access stays read-only/);
    }
    expect((await admin.ok('GET', `${path}/iamPolicy`)).bindings).toEqual([]);
  });

  it.each([
    [{ member: 'erin@example.com', role: 'viewer' }, /invalid member "erin@example.com"/],
    [{ member: 'group:devs@example.com', role: 'viewer' }, /invalid member/],
    [{ member: 'user:nobody@example.com', role: 'viewer' }, /user:nobody@example.com does not exist/],
    [{ member: 'serviceAccount:ghost@team.iam.mistrive', role: 'viewer' }, /does not exist/],
    [{ member: 'user:erin@example.com', role: 'admin' }, /unknown role "admin"/],
    [{ member: 'user:erin@example.com' }, /field "role": is required/],
    [{ member: 'user:erin@example.com', role: 'viewer', condition: 'x' }, /field "condition"/],
  ])('refuses the binding %j', async (body, message) => {
    const role = (body as { role?: string }).role;
    const fixed = { ...body, ...(role === undefined ? {} : { role: role === 'viewer' ? viewer : role }) };
    expectApiError(await admin.post(`${path}/iamPolicy/bindings`, fixed), 400, 'INVALID_ARGUMENT', message);
  });

  it('names the role names of the level when the role is wrong', async () => {
    const wrong = viewer === 'viewer' ? 'artifactstore.viewer' : 'viewer';
    const response = await admin.post(`${path}/iamPolicy/bindings`, {
      member: 'user:erin@example.com',
      role: wrong,
    });
    expectApiError(
      response,
      400,
      'INVALID_ARGUMENT',
      new RegExp(`use one of ${viewer}, ${editor}, ${owner}`),
    );
  });

  it('needs the owner role to read or change the policy', async () => {
    expectApiError(
      await erin.get(`${path}/iamPolicy`),
      404,
      path.includes('organizations') ? 'NOT_FOUND' : 'NAME_UNKNOWN',
    );
    expectApiError(await admin.as(noCredentials).get(`${path}/iamPolicy`), 401, 'UNAUTHORIZED');
    await grant(admin, path, 'user:erin@example.com', editor);
    expectApiError(await erin.get(`${path}/iamPolicy`), 403, 'DENIED');
    expectApiError(
      await erin.post(`${path}/iamPolicy/bindings`, { member: 'user:erin@example.com', role: owner }),
      403,
      'DENIED',
    );
    await grant(admin, path, 'user:erin@example.com', owner);
    expect((await erin.ok('GET', `${path}/iamPolicy`)).resource).toBe(resource);
    await erin.ok(
      'POST',
      `${path}/iamPolicy/bindings`,
      { member: 'user:frank@example.com', role: viewer },
      200,
    );
    await revoke(admin, path, 'user:erin@example.com', editor);
    await revoke(admin, path, 'user:erin@example.com', owner);
    await revoke(admin, path, 'user:frank@example.com', viewer);
    expectApiError(
      await erin.get(`${path}/iamPolicy`),
      404,
      path.includes('organizations') ? 'NOT_FOUND' : 'NAME_UNKNOWN',
    );
  });
});

describe('IAM policies of resources that do not exist', () => {
  it.each([
    ['/api/v1/organizations/elsewhere', 'NOT_FOUND'],
    ['/api/v1/projects/nothing', 'NAME_UNKNOWN'],
    ['/api/v1/projects/team/repositories/nothing', 'NAME_UNKNOWN'],
  ])('answers 404 for %s', async (path, code) => {
    expectApiError(await admin.get(`${path}/iamPolicy`), 404, code);
    expectApiError(
      await admin.post(`${path}/iamPolicy/bindings`, { member: 'allUsers', role: 'viewer' }),
      404,
      code,
    );
  });
});

describe('inherited roles', () => {
  it('gives a project owner the owner role on every repository of the project', async () => {
    await createProject(admin, 'inherit');
    await createRepository(admin, 'inherit', 'one');
    await grant(admin, '/api/v1/projects/inherit', 'user:frank@example.com', 'artifactstore.owner');
    const frank = admin.as(basic('frank@example.com', 'user-password-1'));
    expect((await frank.ok('GET', '/api/v1/projects/inherit/repositories/one/iamPolicy')).bindings).toEqual(
      [],
    );
    await frank.ok('PATCH', '/api/v1/projects/inherit/repositories/one', { scanning: true });
  });
});

describe('members a caller cannot see', () => {
  /**
   * The answer to adding a binding, with the member's name taken out: all that could tell one case
   * from another. The binding is removed again, so that each answer starts from the same policy.
   */
  async function answer(owner: ApiClient, path: string, member: string) {
    const response = await owner.post(`${path}/iamPolicy/bindings`, { member, role: 'viewer' });
    if (response.status === 200) await revoke(owner, path, member, 'viewer');
    return { status: response.status, text: response.text.replaceAll(member, 'MEMBER') };
  }

  it('answers the same whether or not they exist, and checks existence where the caller can see it', async () => {
    await createProject(admin, 'secret');
    await admin.ok('POST', '/api/v1/projects/secret/serviceAccounts', { accountId: 'bot' });
    await createProject(admin, 'gwens');
    await createRepository(admin, 'gwens', 'one');
    await createUser(admin, 'gwen@example.com');
    await grant(admin, '/api/v1/projects/gwens', 'user:gwen@example.com', 'artifactstore.owner');
    const gwen = admin.as(basic('gwen@example.com', 'user-password-1'));
    const repository = '/api/v1/projects/gwens/repositories/one';

    // A service account of a project Gwen cannot see, and one that does not exist there.
    const existing = await answer(gwen, repository, 'serviceAccount:bot@secret.iam.mistrive');
    const missing = await answer(gwen, repository, 'serviceAccount:ghost@secret.iam.mistrive');
    expect(existing.status).toBe(200);
    expect(missing).toEqual(existing);
    // Users are for the administrator to see: an existing login and an unknown one answer alike.
    const user = await answer(gwen, repository, 'user:frank@example.com');
    const nobody = await answer(gwen, repository, 'user:nobody@example.com');
    expect(user.status).toBe(200);
    expect(nobody).toEqual(user);

    // Where Gwen could list the accounts anyway (her own project), a missing one is told.
    expectApiError(
      await gwen.post(`${repository}/iamPolicy/bindings`, {
        member: 'serviceAccount:ghost@gwens.iam.mistrive',
        role: 'viewer',
      }),
      400,
      'INVALID_ARGUMENT',
      /does not exist/,
    );
    // An email that no service account of this registry can have is malformed, whoever asks.
    expectApiError(
      await gwen.post(`${repository}/iamPolicy/bindings`, {
        member: 'serviceAccount:bot@example.com',
        role: 'viewer',
      }),
      400,
      'INVALID_ARGUMENT',
      /ID@PROJECT\.iam\.mistrive/,
    );
  });

  it('lets a binding made before its account exists take effect once it does', async () => {
    await createProject(admin, 'early');
    await createRepository(admin, 'early', 'one');
    await createUser(admin, 'hank@example.com');
    await grant(admin, '/api/v1/projects/early', 'user:hank@example.com', 'artifactstore.owner');
    const hank = admin.as(basic('hank@example.com', 'user-password-1'));
    await grant(hank, '/api/v1/projects/early/repositories/one', 'user:Later@Example.com', 'viewer');
    const later = await createUser(admin, 'later@example.com');
    expect((await later.ok('GET', '/api/v1/projects/early/repositories/one')).id).toBe('one');
  });
});
