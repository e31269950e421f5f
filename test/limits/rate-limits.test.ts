import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SettingsChange } from '../../src/policies/settings-changes.js';
import {
  type ApiClient,
  adminClient,
  authorization,
  basic,
  type Credentials,
  createProject,
  createRepository,
  createUser,
  expectApiError,
  grant,
  noCredentials,
  pushImageAs,
} from '../support/api-client.js';
import { FakeClock } from '../support/fake-clock.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

const clock = new FakeClock();
const changes: SettingsChange[] = [];
let registry: TestRegistry;
let admin: ApiClient;
const alice = basic('alice@example.com', 'user-password-1');
const bob = basic('bob@example.com', 'user-password-1');
const carol = basic('carol@example.com', 'user-password-1');

beforeAll(async () => {
  registry = await startTestRegistry(
    {
      rateLimits: {
        pull: '3/min',
        push: '1000/min',
        repositoryPull: '8/min',
        api: '1000/min',
      },
    },
    { clock, onSettingsChanged: (change) => changes.push(change) },
  );
  admin = await adminClient(registry.url);
  for (const login of ['alice@example.com', 'bob@example.com', 'carol@example.com']) {
    await createUser(admin, login);
  }
  for (const project of ['shop', 'busy']) {
    await createProject(admin, project);
    await createRepository(admin, project, 'web');
    await createRepository(admin, project, 'api');
    await grant(admin, `/api/v1/projects/${project}`, 'allUsers', 'artifactstore.viewer');
    await grant(admin, `/api/v1/projects/${project}`, 'user:carol@example.com', 'artifactstore.editor');
  }
  await pushImageAs(registry.url, 'shop/web/app', 'v1', carol);
  await pushImageAs(registry.url, 'shop/api/app', 'v1', carol);
  await pushImageAs(registry.url, 'busy/web/app', 'v1', carol);
});
afterAll(() => registry.close());

function headManifest(name: string, credentials: Credentials, reference = 'v1'): Promise<Response> {
  return fetch(`${registry.url}/v2/${name}/manifests/${reference}`, {
    method: 'HEAD',
    headers: authorization(credentials),
  });
}

/** A full window's wait: every bucket is full again. */
function refill(): void {
  clock.advance(60_000);
}

describe('rate limits on the distribution API', () => {
  it('answers every request with the RateLimit-Policy and RateLimit headers', async () => {
    refill();
    const response = await headManifest('shop/web/app', alice);
    expect(response.status).toBe(200);
    expect(response.headers.get('ratelimit-policy')).toBe('"pull";q=3;w=60, "repository-pull";q=8;w=60');
    expect(response.headers.get('ratelimit')).toBe('"pull";r=2;t=20, "repository-pull";r=7;t=8');
  });

  it('refuses a burst beyond the limit with 429 TOOMANYREQUESTS and Retry-After, then lets the caller in again', async () => {
    refill();
    for (let i = 0; i < 3; i++) expect((await headManifest('shop/web/app', alice)).status).toBe(200);
    const refused = await fetch(`${registry.url}/v2/shop/web/app/manifests/v1`, {
      headers: authorization(alice),
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('20');
    expect(refused.headers.get('ratelimit')).toBe('"pull";r=0;t=60, "repository-pull";r=5;t=23');
    const body = (await refused.json()) as { errors: { code: string; message: string }[] };
    expect(body.errors[0]?.code).toBe('TOOMANYREQUESTS');
    expect(body.errors[0]?.message).toMatch(
      /the pull limit of user:alice@example.com is 3 requests per 60 s; retry in 20 s/,
    );

    clock.advance(19_000);
    expect((await headManifest('shop/web/app', alice)).status).toBe(429);
    clock.advance(1_000);
    const again = await headManifest('shop/web/app', alice);
    expect(again.status).toBe(200);
    expect(again.headers.get('ratelimit')).toMatch(/^"pull";r=0;t=60/);
  });

  it('keeps one allowance per principal, and anonymous callers one per client address', async () => {
    refill();
    for (let i = 0; i < 3; i++) expect((await headManifest('shop/web/app', alice)).status).toBe(200);
    expect((await headManifest('shop/web/app', alice)).status).toBe(429);
    expect((await headManifest('shop/web/app', bob)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await headManifest('shop/api/app', noCredentials)).status).toBe(200);
    const anonymous = await headManifest('shop/api/app', noCredentials);
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get('ratelimit')).toMatch(/^"pull";r=0;/);
    const refused = await fetch(`${registry.url}/v2/shop/api/app/tags/list`);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0]?.message).toMatch(
      /client:127\.0\.0\.1/,
    );
  });

  it('limits a repository for every principal together', async () => {
    refill();
    const callers = [alice, bob, carol, noCredentials];
    let allowed = 0;
    const refusals: string[] = [];
    for (const caller of callers) {
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${registry.url}/v2/shop/web/app/manifests/v1`, {
          headers: authorization(caller),
        });
        const body = await response.text();
        if (response.status === 200) allowed++;
        else refusals.push(body);
      }
    }
    expect(allowed).toBe(8);
    expect(refusals).toHaveLength(4);
    expect(refusals[0]).toMatch(/repository-pull limit of repository shop\/web is 8 requests per 60 s/);
    // Another repository has its own allowance.
    expect((await headManifest('shop/api/app', carol)).status).toBe(200);
  });

  it('refuses a push when it starts: no upload session, no manifest', async () => {
    refill();
    const patched = await admin.patch('/api/v1/projects/busy/rate-limits', { push: '1/min' });
    expect(patched.status).toBe(200);
    const first = await fetch(`${registry.url}/v2/busy/web/app/blobs/uploads/`, {
      method: 'POST',
      headers: authorization(carol),
    });
    expect(first.status).toBe(202);
    const manifest = Buffer.from('{"schemaVersion":2}');
    const refused = await fetch(`${registry.url}/v2/busy/web/app/manifests/v2`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json', ...authorization(carol) },
      body: manifest,
    });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('ratelimit-policy')).toBe('"push";q=1;w=60');
    expect(((await refused.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe(
      'TOOMANYREQUESTS',
    );
    expect((await headManifest('busy/web/app', alice, 'v2')).status).toBe(404);
    await admin.ok('PATCH', '/api/v1/projects/busy/rate-limits', { push: null });
  });
});

describe('per-project overrides', () => {
  it('shows the instance defaults and what the project overrides', async () => {
    const view = await admin.ok('GET', '/api/v1/projects/shop/rate-limits');
    expect(view).toEqual({
      project: 'shop',
      enabled: true,
      overrides: {},
      effective: {
        pull: '3/min',
        push: '1000/min',
        repositoryPull: '8/min',
        repositoryPush: 'unlimited',
      },
    });
  });

  it('lets the administrator raise a project rate, and applies it to that project only', async () => {
    refill();
    changes.length = 0;
    const updated = await admin.ok('PATCH', '/api/v1/projects/busy/rate-limits', {
      pull: '600/min',
      repositoryPull: 'unlimited',
    });
    expect(updated.overrides).toEqual({ pull: '600/min', repositoryPull: 'unlimited' });
    expect(changes).toEqual([
      expect.objectContaining({
        kind: 'rateLimits',
        project: 'busy',
        before: {},
        after: { pull: '600/min', repositoryPull: 'unlimited' },
        actor: expect.objectContaining({ login: 'admin' }),
      }),
    ]);
    for (let i = 0; i < 10; i++) expect((await headManifest('busy/web/app', bob)).status).toBe(200);
    const busy = await headManifest('busy/web/app', bob);
    expect(busy.headers.get('ratelimit-policy')).toBe('"pull";q=600;w=60');
    expect(busy.headers.get('ratelimit')).toBe('"pull";r=589;t=2');
    // The project's own bucket: the default allowance elsewhere is untouched.
    expect((await headManifest('shop/web/app', bob)).headers.get('ratelimit')).toMatch(/^"pull";r=2;/);

    const cleared = await admin.ok('PATCH', '/api/v1/projects/busy/rate-limits', { pull: null });
    expect(cleared.overrides).toEqual({ repositoryPull: 'unlimited' });
    expect(cleared.effective.pull).toBe('3/min');
  });

  it('applies an override another instance wrote (straight to the shared store) within a second', async () => {
    refill();
    expect((await headManifest('busy/web/app', bob)).headers.get('ratelimit-policy')).toMatch(/^"pull";q=3;/);
    const metadata = registry.registry.context.metadata;
    await metadata.policies.setRateLimits('busy', { pull: { quota: 50, windowSeconds: 60 } }, clock.now());
    expect((await headManifest('busy/web/app', bob)).headers.get('ratelimit-policy')).toMatch(/^"pull";q=3;/);
    clock.advance(1000);
    expect((await headManifest('busy/web/app', bob)).headers.get('ratelimit-policy')).toMatch(
      /^"pull";q=50;/,
    );
    await admin.ok('PATCH', '/api/v1/projects/busy/rate-limits', { pull: null });
    expect((await headManifest('busy/api/app', bob)).headers.get('ratelimit-policy')).toMatch(/^"pull";q=3;/);
  });

  it('refuses overrides from anyone but the administrator, and bad rates with a clear message', async () => {
    const owner = admin.as(carol);
    expectApiError(
      await owner.patch('/api/v1/projects/busy/rate-limits', { pull: '1/s' }),
      403,
      'DENIED',
      /only the instance administrator/,
    );
    expectApiError(
      await admin.patch('/api/v1/projects/busy/rate-limits', { pull: 'fast' }),
      400,
      'INVALID_ARGUMENT',
      /"fast" is not a rate such as 600\/min/,
    );
    expectApiError(
      await admin.patch('/api/v1/projects/nowhere/rate-limits', { pull: '1/s' }),
      404,
      'NAME_UNKNOWN',
    );
  });
});

describe('rate limits on the management API', () => {
  it('answers 429 TOOMANYREQUESTS in its own error shape with Retry-After', async () => {
    const limited = await startTestRegistry({ rateLimits: { api: '2/min' } }, { clock });
    try {
      const bobs = await createUser(await adminClient(limited.url), 'bob@example.com');
      expect((await bobs.get('/api/v1/projects')).headers.get('ratelimit')).toBe('"api";r=1;t=30');
      expect((await bobs.get('/api/v1/projects')).status).toBe(200);
      const refused = await bobs.get('/api/v1/projects');
      expectApiError(refused, 429, 'TOOMANYREQUESTS', /the api limit of user:bob@example.com/);
      expect(refused.headers.get('retry-after')).toBe('30');
      clock.advance(30_000);
      expect((await bobs.get('/api/v1/projects')).status).toBe(200);
      // The registry itself is not limited by the API's rate.
      expect(
        (await fetch(`${limited.url}/v2/`, { headers: authorization(bob) })).headers.get('ratelimit'),
      ).toBeNull();
    } finally {
      await limited.close();
    }
  });
});

describe('limits off', () => {
  it('adds no headers when no rate is configured', async () => {
    const open = await startTestRegistry();
    try {
      const response = await fetch(`${open.url}/v2/`);
      expect(response.headers.get('ratelimit-policy')).toBeNull();
      expect(response.headers.get('ratelimit')).toBeNull();
    } finally {
      await open.close();
    }
  });
});
