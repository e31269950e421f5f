import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  type ApiResponse,
  adminClient,
  authorization,
  basic,
  bearer,
  type Credentials,
  createProject,
  createRepository,
  expectApiError,
  grant,
  noCredentials,
  type PushedImage,
  pushImageAs,
  putManifestAs,
} from '../support/api-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

/**
 * Every role at every level, the special principals and no binding at all, against every action, over
 * real HTTP: the registry (/v2/) and the management API must answer as DESIGN §3 and §4 say.
 * Each row gets its own project and repository (with an image tagged v1 and one tagged del); the
 * row's binding is the only one naming its caller. Special principals are bound no higher than a
 * project here: one on the shared organization would open every row's repository.
 */

type Level = 'repository' | 'project' | 'organization';
type Caller = 'user' | 'anonymous' | 'bad-token';

interface Row {
  readonly name: string;
  readonly caller: Caller;
  /** What is bound, where; the member is the row's own user unless a special principal is named. */
  readonly binding?: {
    level: Level;
    role: 'viewer' | 'editor' | 'owner';
    member?: 'allUsers' | 'allAuthenticatedUsers';
  };
  /** Expected outcome of each action, in the order of `actions`. */
  readonly expect: readonly Outcome[];
}

/** `ok`: the action succeeds; a number: the refusal's status (401 UNAUTHORIZED, 403 DENIED, 404 NAME_UNKNOWN). */
type Outcome = 'ok' | 401 | 403 | 404;

const actions = [
  'pull',
  'push',
  'delete',
  'list tags',
  'list images',
  'read policy',
  'set policy',
  'create repository',
] as const;
type ActionName = (typeof actions)[number];

const ok = 'ok';
const role = (
  level: Level,
  name: 'viewer' | 'editor' | 'owner',
  member?: 'allUsers' | 'allAuthenticatedUsers',
) => ({
  level,
  role: name,
  ...(member ? { member } : {}),
});

// biome-ignore format: one row per line reads as a table
const rows: Row[] = [
  //                                                                                                                 pull push del  tags images get  set  create
  { name: 'viewer on the repository', caller: 'user', binding: role('repository', 'viewer'),                         expect: [ok, 403, 403, ok, ok, 403, 403, 403] },
  { name: 'editor on the repository', caller: 'user', binding: role('repository', 'editor'),                         expect: [ok, ok, 403, ok, ok, 403, 403, 403] },
  { name: 'owner on the repository', caller: 'user', binding: role('repository', 'owner'),                           expect: [ok, ok, ok, ok, ok, ok, ok, 403] },
  { name: 'artifactstore.viewer on the project', caller: 'user', binding: role('project', 'viewer'),                 expect: [ok, 403, 403, ok, ok, 403, 403, 403] },
  { name: 'artifactstore.editor on the project', caller: 'user', binding: role('project', 'editor'),                 expect: [ok, ok, 403, ok, ok, 403, 403, 403] },
  { name: 'artifactstore.owner on the project', caller: 'user', binding: role('project', 'owner'),                   expect: [ok, ok, ok, ok, ok, ok, ok, ok] },
  { name: 'artifactstore.viewer on the organization', caller: 'user', binding: role('organization', 'viewer'),       expect: [ok, 403, 403, ok, ok, 403, 403, 403] },
  { name: 'artifactstore.editor on the organization', caller: 'user', binding: role('organization', 'editor'),       expect: [ok, ok, 403, ok, ok, 403, 403, 403] },
  { name: 'artifactstore.owner on the organization', caller: 'user', binding: role('organization', 'owner'),         expect: [ok, ok, ok, ok, ok, ok, ok, ok] },
  { name: 'allUsers on the repository, anonymous', caller: 'anonymous', binding: role('repository', 'viewer', 'allUsers'), expect: [ok, 401, 401, ok, ok, 401, 401, 401] },
  { name: 'allUsers on the repository, signed in', caller: 'user', binding: role('repository', 'viewer', 'allUsers'), expect: [ok, 403, 403, ok, ok, 403, 403, 403] },
  { name: 'allUsers on the project, anonymous', caller: 'anonymous', binding: role('project', 'viewer', 'allUsers'),  expect: [ok, 401, 401, ok, ok, 401, 401, 401] },
  { name: 'allAuthenticatedUsers on the repository, signed in', caller: 'user', binding: role('repository', 'viewer', 'allAuthenticatedUsers'), expect: [ok, 403, 403, ok, ok, 403, 403, 403] },
  { name: 'allAuthenticatedUsers on the project, signed in', caller: 'user', binding: role('project', 'viewer', 'allAuthenticatedUsers'), expect: [ok, 403, 403, ok, ok, 403, 403, 403] },
  { name: 'allAuthenticatedUsers on the repository, anonymous', caller: 'anonymous', binding: role('repository', 'viewer', 'allAuthenticatedUsers'), expect: [401, 401, 401, 401, 401, 401, 401, 401] },
  { name: 'no binding, signed in', caller: 'user',                                                                   expect: [404, 404, 404, 404, 404, 404, 404, 404] },
  { name: 'no binding, anonymous', caller: 'anonymous',                                                              expect: [401, 401, 401, 401, 401, 401, 401, 401] },
  { name: 'a public repository, invalid token', caller: 'bad-token', binding: role('repository', 'viewer', 'allUsers'), expect: [401, 401, 401, 401, 401, 401, 401, 401] },
];

const successStatus: Record<ActionName, number> = {
  pull: 200,
  push: 201,
  delete: 202,
  'list tags': 200,
  'list images': 200,
  'read policy': 200,
  'set policy': 200,
  'create repository': 201,
};

const errorCodes = { 401: 'UNAUTHORIZED', 403: 'DENIED', 404: 'NAME_UNKNOWN' } as const;

const roleNames: Record<Level, (role: string) => string> = {
  repository: (role) => role,
  project: (role) => `artifactstore.${role}`,
  organization: (role) => `artifactstore.${role}`,
};

interface Fixture {
  readonly project: string;
  readonly credentials: Credentials;
  readonly v1: PushedImage;
  readonly doomed: PushedImage;
}

let registry: TestRegistry;
let admin: ApiClient;
const fixtures = new Map<string, Fixture>();

beforeAll(async () => {
  registry = await startTestRegistry();
  admin = await adminClient(registry.url);
  await admin.ok('POST', '/api/v1/users', { login: 'bystander@example.com', password: 'bystander-password' });
  for (const [index, row] of rows.entries()) {
    const project = `matrix-${index}`;
    await createProject(admin, project);
    await createRepository(admin, project, 'repo');
    const v1 = await pushImageAs(registry.url, `${project}/repo/app`, 'v1', admin.credentials);
    const doomed = await pushImageAs(registry.url, `${project}/repo/app`, 'del', admin.credentials);
    let credentials: Credentials = noCredentials;
    if (row.caller === 'user') {
      const login = `caller-${index}@example.com`;
      await admin.ok('POST', '/api/v1/users', { login, password: `password-${index}` });
      credentials = basic(login, `password-${index}`);
    } else if (row.caller === 'bad-token') {
      credentials = bearer('not-a-valid-token');
    }
    if (row.binding) {
      const { level, role, member } = row.binding;
      const path =
        level === 'organization'
          ? '/api/v1/organizations/default'
          : level === 'project'
            ? `/api/v1/projects/${project}`
            : `/api/v1/projects/${project}/repositories/repo`;
      await grant(admin, path, member ?? `user:caller-${index}@example.com`, roleNames[level](role));
    }
    fixtures.set(row.name, { project, credentials, v1, doomed });
  }
});
afterAll(() => registry.close());

async function perform(action: ActionName, fixture: Fixture): Promise<ApiResponse> {
  const { project, credentials } = fixture;
  const caller = admin.as(credentials);
  const v2 = async (method: string, path: string): Promise<ApiResponse> => {
    const response = await fetch(`${registry.url}/v2/${project}/repo/app/${path}`, {
      method,
      headers: { ...authorization(credentials), Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    const text = await response.text();
    const json =
      response.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : undefined;
    return { status: response.status, headers: response.headers, text, body: json };
  };
  const repository = `/api/v1/projects/${project}/repositories/repo`;
  switch (action) {
    case 'pull':
      return v2('GET', 'manifests/v1');
    case 'push': {
      const response = await putManifestAs(
        registry.url,
        `${project}/repo/app`,
        'pushed',
        fixture.v1.manifest,
        credentials,
      );
      const text = await response.text();
      return {
        status: response.status,
        headers: response.headers,
        text,
        body: text ? JSON.parse(text) : undefined,
      };
    }
    case 'delete':
      return v2('DELETE', `manifests/${fixture.doomed.digest}`);
    case 'list tags':
      return v2('GET', 'tags/list');
    case 'list images':
      return caller.get(`${repository}/images`);
    case 'read policy':
      return caller.get(`${repository}/iamPolicy`);
    case 'set policy':
      return caller.post(`${repository}/iamPolicy/bindings`, {
        member: 'user:bystander@example.com',
        role: 'viewer',
      });
    case 'create repository':
      return caller.post(`/api/v1/projects/${project}/repositories`, { repositoryId: 'created' });
  }
}

const cases = rows.flatMap((row) =>
  actions.map((action, index) => ({ row: row.name, action, outcome: row.expect[index] as Outcome })),
);

describe('access by role, level and principal', () => {
  it('has an expectation for every action of every row', () => {
    for (const row of rows) expect(row.expect, row.name).toHaveLength(actions.length);
    expect(cases).toHaveLength(rows.length * actions.length);
  });

  it.each(cases)('$row: $action → $outcome', async ({ row, action, outcome }) => {
    const fixture = fixtures.get(row) as Fixture;
    const response = await perform(action, fixture);
    if (outcome === 'ok') {
      expect(response.status, response.text).toBe(successStatus[action]);
    } else {
      expectApiError(response, outcome, errorCodes[outcome]);
    }
  });

  it('left nothing behind where an action was refused', async () => {
    for (const row of rows) {
      const { project, doomed } = fixtures.get(row.name) as Fixture;
      const allowed = (action: ActionName) => row.expect[actions.indexOf(action)] === 'ok';
      const tags = await admin.ok('GET', `/api/v1/projects/${project}/repositories/repo/images/app/tags`);
      const names = tags.tags.map((tag: { name: string }) => tag.name);
      expect(names.includes('pushed'), `${row.name}: push`).toBe(allowed('push'));
      expect(names.includes('del'), `${row.name}: delete`).toBe(!allowed('delete'));
      const digests = await admin.ok(
        'GET',
        `/api/v1/projects/${project}/repositories/repo/images/app/digests`,
      );
      expect(
        digests.digests.some((d: { digest: string }) => d.digest === doomed.digest),
        `${row.name}: delete`,
      ).toBe(!allowed('delete'));
      const policy = await admin.ok('GET', `/api/v1/projects/${project}/repositories/repo/iamPolicy`);
      expect(JSON.stringify(policy).includes('bystander'), `${row.name}: set policy`).toBe(
        allowed('set policy'),
      );
      const created = await admin.get(`/api/v1/projects/${project}/repositories/created`);
      expect(created.status, `${row.name}: create repository`).toBe(allowed('create repository') ? 200 : 404);
    }
  });
});
