import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import { adminApi, type HttpSession, postConsoleForm, signInOverHttp } from '../support/console.js';
import { type PushedImage, pushImage } from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry, testAdminPassword } from '../support/registry.js';

/** What keeps the console safe: CSRF tokens on every change, escaping, the CSP, and refusals that hide. */
describe('the web console over HTTP', () => {
  let registry: TestRegistry;
  let admin: HttpSession;
  let image: PushedImage;
  const hostile = '<script>alert(1)</script>';

  const api = (path: string, method: string, body: unknown) => adminApi(registry.url)(path, method, body);

  beforeAll(async () => {
    registry = await startTestRegistry();
    expect((await api('/projects', 'POST', { projectId: 'shop' })).status).toBe(201);
    const created = await api('/projects/shop/repositories', 'POST', {
      repositoryId: 'backend',
      description: hostile,
    });
    expect(created.status).toBe(201);
    image = await pushImage(registry.url, 'shop/backend/api', 'v1', [512], {
      annotations: { 'org.example.note': `"><img src=x onerror=alert(2)>${hostile}` },
    });
    admin = await signInOverHttp(registry.url, 'admin', testAdminPassword);
  });

  afterAll(async () => {
    await registry?.close();
  });

  const pages = () => [
    '/',
    '/projects/shop',
    '/projects/shop/permissions',
    '/projects/shop/service-accounts',
    '/projects/shop/repositories/backend',
    '/projects/shop/repositories/backend/permissions',
    '/projects/shop/repositories/backend/settings',
    '/projects/shop/repositories/backend/setup',
    '/projects/shop/repositories/backend/images/api',
    `/projects/shop/repositories/backend/images/api/digests/${image.digest}`,
    `/projects/shop/repositories/backend/images/api/digests/${image.digest}/delete`,
    '/projects/shop/repositories/backend/images/api/tags/v1/delete',
    '/organizations/default/permissions',
    '/admin/users',
    '/projects/nothing',
  ];

  it('sends a strict Content-Security-Policy with every page, signed in or not', async () => {
    for (const path of pages()) {
      for (const cookie of [admin.cookie, undefined]) {
        const response = await fetch(`${registry.url}${path}`, { headers: cookie ? { Cookie: cookie } : {} });
        const policy = response.headers.get('content-security-policy') ?? '';
        expect(response.headers.get('content-type'), path).toBe('text/html; charset=utf-8');
        expect(policy, path).toContain("default-src 'none'");
        expect(policy, path).toContain("script-src 'self'");
        expect(policy, path).toContain("style-src 'self'");
        expect(policy, path).toContain("frame-ancestors 'none'");
        expect(policy, path).not.toContain('unsafe');
        expect(response.headers.get('x-frame-options'), path).toBe('DENY');
        const body = await response.text();
        // No inline script or style anywhere: the only script is the same-origin file.
        expect(body.match(/<script/g)?.length ?? 0, path).toBeLessThanOrEqual(1);
        expect(body, path).not.toMatch(/<script>|style="|\son[a-z]+="/);
      }
    }
  });

  it('serves its stylesheet and script from this origin, cacheable for good', async () => {
    const home = await (await fetch(`${registry.url}/`)).text();
    for (const asset of home.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)) {
      const response = await fetch(`${registry.url}${asset[1]}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toContain('immutable');
    }
    expect([...home.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)]).toHaveLength(2);
  });

  it('shows a description and an annotation holding markup as text', async () => {
    const repository = await (
      await fetch(`${registry.url}/projects/shop/repositories/backend`, { headers: { Cookie: admin.cookie } })
    ).text();
    expect(repository).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(repository).not.toContain(hostile);
    const digest = await (
      await fetch(`${registry.url}/projects/shop/repositories/backend/images/api/digests/${image.digest}`, {
        headers: { Cookie: admin.cookie },
      })
    ).text();
    expect(digest).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&lt;script&gt;');
    expect(digest).not.toContain('<img');
    expect(digest).not.toContain(hostile);
  });

  it('refuses a forged form post: no token, a wrong token, or no session', async () => {
    const target = `${registry.url}/projects`;
    for (const csrf of [false, 'A'.repeat(43)] as const) {
      const forged = await postConsoleForm(target, admin, { projectId: 'forged' }, { csrf });
      expect(forged.status).toBe(403);
      expect(await forged.text()).toContain('This form has expired or was not sent from this site');
    }
    const anonymous = await fetch(target, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ projectId: 'forged', csrf_token: admin.csrfToken }),
    });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/login?next=%2Fprojects');
    expect((await adminFetch(`${registry.url}/api/v1/projects/forged`)).status).toBe(404);

    const genuine = await postConsoleForm(target, admin, { projectId: 'genuine' });
    expect(genuine.status).toBe(303);
    expect(genuine.headers.get('location')).toBe('/projects/genuine?done=project-created');
  });

  it('answers 401 with a sign-in link, 403 naming the role, and 404 for what one may not see', async () => {
    const anonymous = await fetch(`${registry.url}/projects/shop/repositories/backend`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).toContain(
      'href="/login?next=%2Fprojects%2Fshop%2Frepositories%2Fbackend"',
    );

    expect((await api('/users', 'POST', { login: 'bob@example.com', password: 'long enough' })).status).toBe(
      201,
    );
    expect((await api('/users', 'POST', { login: 'eve@example.com', password: 'long enough' })).status).toBe(
      201,
    );
    const grant = await api('/projects/shop/repositories/backend/iamPolicy/bindings', 'POST', {
      member: 'user:bob@example.com',
      role: 'viewer',
    });
    expect(grant.status, await grant.text()).toBe(200);
    const bob = await signInOverHttp(registry.url, 'bob@example.com', 'long enough');
    const refused = await postConsoleForm(
      `${registry.url}/projects/shop/repositories/backend/images/api/tags/v1/delete`,
      bob,
      {},
    );
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('this needs the owner role on repository shop/backend');

    const eve = await signInOverHttp(registry.url, 'eve@example.com', 'long enough');
    for (const path of ['/projects/shop/repositories/backend', '/projects/shop/repositories/absent']) {
      const response = await fetch(`${registry.url}${path}`, { headers: { Cookie: eve.cookie } });
      expect(response.status, path).toBe(404);
    }
    const hiddenPost = await postConsoleForm(
      `${registry.url}/projects/shop/repositories/backend/images/api/tags/v1/delete`,
      eve,
      {},
    );
    expect(hiddenPost.status).toBe(404);
  });
});
