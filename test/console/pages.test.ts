import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import { launchChromium } from '../support/browser.js';
import { adminApi, shoot, signInWithBrowser } from '../support/console.js';
import { descriptor, emptyJson, manifestBytes, pushBlob, pushManifest } from '../support/oci-client.js';
import { buildImage, buildIndex, tarGzLayer } from '../support/oci-layout.js';
import { type TestRegistry, testAdminPassword } from '../support/registry.js';
import { pushBuiltImage, pushBuiltIndex, startScanningRegistry, waitForScan } from '../support/scanning.js';
import { installStandin, type Standin } from '../support/trivy-standin.js';

/**
 * Every console page, in real Chromium, at a phone's and a desktop's width, in light and dark
 * mode: each is shot (test-results/console/) and must fit the phone's width without scrolling sideways.
 */
describe('every console page', { timeout: 240_000 }, () => {
  let standin: Standin;
  let registry: TestRegistry;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const digests: Record<string, string> = {};

  const api = (path: string, method: string, body: unknown) => adminApi(registry.url)(path, method, body);

  beforeAll(async () => {
    standin = await installStandin({ report: 'alpine-310.json', version: '0.58.1' });
    registry = await startScanningRegistry(standin);
    const ok = async (response: Promise<Response>) => {
      const answer = await response;
      if (answer.status >= 300) throw new Error(`${answer.status} ${await answer.text()}`);
    };
    await ok(
      api('/projects', 'POST', {
        projectId: 'shop',
        displayName: 'Shop',
        description: 'Everything the shop runs',
      }),
    );
    await ok(api('/projects', 'POST', { projectId: 'tools', displayName: 'Internal tools' }));
    await ok(
      api('/projects/shop/repositories', 'POST', {
        repositoryId: 'backend',
        displayName: 'Backend services',
        description: 'APIs behind the storefront',
        scanning: true,
      }),
    );
    await ok(
      api('/projects/shop/repositories', 'POST', {
        repositoryId: 'web',
        displayName: 'Web',
        immutableTags: true,
      }),
    );
    await ok(
      api('/projects/shop/repositories/web/iamPolicy/bindings', 'POST', {
        member: 'allUsers',
        role: 'viewer',
      }),
    );
    await ok(api('/users', 'POST', { login: 'bob@example.com', password: 'long enough' }));
    await ok(
      api('/projects/shop/iamPolicy/bindings', 'POST', {
        member: 'user:bob@example.com',
        role: 'artifactstore.editor',
      }),
    );
    await ok(api('/projects/shop/serviceAccounts', 'POST', { accountId: 'ci', displayName: 'CI pipeline' }));

    const base = await tarGzLayer({
      'etc/alpine-release': '3.10.2\n',
      'lib/apk/db/installed': 'P:musl\nV:1.1.22-r3\n',
    });
    for (const tag of ['1.0', '1.1', 'untagged']) {
      const image = buildImage([base, await tarGzLayer({ 'app/bin': randomBytes(40 * 1024) })]);
      digests[tag] = await pushBuiltImage(
        registry.url,
        'shop/backend/api',
        tag === 'untagged' ? image.manifest.descriptor.digest : tag,
        image,
      );
    }
    const index = buildIndex([
      {
        image: buildImage([base], { os: 'linux', architecture: 'amd64' }),
        platform: { os: 'linux', architecture: 'amd64' },
      },
      {
        image: buildImage([base], { os: 'linux', architecture: 'arm64', variant: 'v8' }),
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      },
    ]);
    digests.index = await pushBuiltIndex(registry.url, 'shop/backend/worker', 'latest', index);
    await pushBuiltImage(registry.url, 'shop/web/site', 'v1', buildImage([base]));
    const next = buildImage([base, await tarGzLayer({ 'site/index.html': '<h1>next</h1>' })]);
    digests.nextSite = await pushBuiltImage(
      registry.url,
      'shop/web/site',
      next.manifest.descriptor.digest,
      next,
    );

    // A signature referring to 1.0, with annotations.
    const layer = Buffer.from('signature bytes');
    await pushBlob(registry.url, 'shop/backend/api', emptyJson);
    await pushBlob(registry.url, 'shop/backend/api', layer);
    const target = await adminFetch(`${registry.url}/v2/shop/backend/api/manifests/1.0`, { method: 'HEAD' });
    const signature = manifestBytes({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      config: descriptor('application/vnd.oci.empty.v1+json', emptyJson),
      layers: [descriptor('application/vnd.dev.cosign.simplesigning.v1+json', layer)],
      subject: {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: digests['1.0'],
        size: Number(target.headers.get('content-length')),
      },
      annotations: {
        'org.opencontainers.image.created': '2026-11-30T10:00:00Z',
        'dev.cosignproject.cosign/signature': 'MEUCIQ…',
      },
    });
    digests.signature = await pushManifest(registry.url, 'shop/backend/api', 'sha256-signature', signature);
    for (const tag of ['1.0', '1.1', 'untagged'])
      await waitForScan(registry.registry.scans, digests[tag] as string);

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await registry?.close();
    await standin?.remove();
  });

  const visit = async (path: string, status = 200) => {
    const response = await page.goto(`${registry.url}${path}`);
    expect(response?.status(), path).toBe(status);
    expect(await page.locator('h1').count(), path).toBeGreaterThan(0);
  };

  const asAdmin = async () => {
    await page.goto(`${registry.url}/`);
    if ((await page.locator('.account strong').count()) === 0) {
      await signInWithBrowser(page, registry.url, 'admin', testAdminPassword);
    }
  };

  const check = async (name: string) => {
    const { overflow } = await shoot(page, name);
    expect(overflow.phone, `${name} fits a phone`).toBeLessThanOrEqual(0);
    expect(overflow.desktop, `${name} fits a desktop`).toBeLessThanOrEqual(0);
  };

  it('the pages anyone may see: public projects, and the refusals', async () => {
    await visit('/');
    expect(await page.locator('main table').textContent()).toContain('shop');
    await check('anonymous-projects');
    await visit('/projects/shop/repositories/web');
    expect(await page.locator('.badge.public').textContent()).toBe('Public');
    await check('anonymous-public-repository');
    await visit('/projects/shop/repositories/backend', 401);
    await check('sign-in-required');
  });

  it.each([
    ['projects', '/'],
    ['project', '/projects/shop'],
    ['project-permissions', '/projects/shop/permissions'],
    ['organization-permissions', '/organizations/default/permissions'],
    ['repository', '/projects/shop/repositories/backend'],
    ['repository-settings', '/projects/shop/repositories/backend/settings'],
    ['repository-setup-page', '/projects/shop/repositories/backend/setup'],
    ['repository-permissions-page', '/projects/shop/repositories/web/permissions'],
    ['image-page', '/projects/shop/repositories/backend/images/api'],
    ['image-untagged', '/projects/shop/repositories/backend/images/api?tags=untagged&order=oldest'],
    ['index', '/projects/shop/repositories/backend/images/worker'],
    ['service-accounts', '/projects/shop/service-accounts'],
    ['users-page', '/admin/users'],
  ])('%s (%s)', async (name, path) => {
    if (!(await page.locator('.account strong').count()))
      await signInWithBrowser(page, registry.url, 'admin', testAdminPassword);
    await visit(path);
    await check(name);
  });

  it('the digest page of an image with a signature and of an index', async () => {
    await asAdmin();
    await visit(`/projects/shop/repositories/backend/images/api/digests/${digests['1.0']}`);
    expect(await page.locator('main').textContent()).toContain(
      'application/vnd.dev.cosign.artifact.sig.v1+json',
    );
    expect(await page.locator('#findings tbody tr').count()).toBe(4);
    await check('digest-page');
    await visit(`/projects/shop/repositories/backend/images/api/digests/${digests.signature}`);
    expect(await page.locator('main').textContent()).toContain('dev.cosignproject.cosign/signature');
    await check('digest-signature');
    await visit(`/projects/shop/repositories/backend/images/worker/digests/${digests.index}`);
    expect(await page.locator('main').textContent()).toContain('linux/arm64/v8');
    await check('digest-index');
  });

  it('digest deletion names the tags that go with it', async () => {
    await asAdmin();
    await visit(`/projects/shop/repositories/backend/images/api/digests/${digests['1.1']}/delete`);
    expect(await page.locator('main .card').textContent()).toContain('with the tags that point at it: 1.1');
    await check('delete-digest');
    await Promise.all([
      page.waitForURL(/done=digest-deleted/),
      page.getByRole('button', { name: 'Delete digest and 1 tag' }).click(),
    ]);
    expect(await page.locator('main table').textContent()).not.toContain('1.1');
  });

  it('creates a service-account key that downloads once', async () => {
    await asAdmin();
    await visit('/projects/shop/service-accounts/ci%40shop.iam.mistrive');
    expect(await page.locator('main').textContent()).toContain('cannot show the file again');
    await check('service-account');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Create key and download it' }).click(),
    ]);
    const key = JSON.parse(await readFile((await download.path()) as string, 'utf8')) as Record<
      string,
      string
    >;
    expect(key.type).toBe('service_account');
    expect(key.client_email).toBe('ci@shop.iam.mistrive');
    expect(key.private_key).toContain('PRIVATE KEY');
    await page.reload();
    expect(await page.locator('main table tbody tr').count()).toBe(1);
    expect(await page.locator('main table').textContent()).toContain(key.private_key_id);
    await Promise.all([
      page.waitForURL(/done=key-disabled/),
      page.getByRole('button', { name: 'Disable' }).click(),
    ]);
    expect(await page.locator('main table').textContent()).toContain('Disabled');
  });

  it('moves a tag, and refuses moving one in a repository with immutable tags', async () => {
    await asAdmin();
    await visit('/projects/shop/repositories/backend/images/api');
    await page.getByRole('textbox', { name: 'Tag', exact: true }).fill('1.0');
    await page.getByRole('combobox', { name: 'Digest' }).fill(digests.untagged as string);
    await Promise.all([
      page.waitForURL(/done=tag-set/),
      page.getByRole('button', { name: 'Save tag' }).click(),
    ]);
    const moved = page.locator('main table tbody tr', { hasText: (digests.untagged as string).slice(7, 19) });
    expect(await moved.locator('.tag').textContent()).toContain('1.0');
    await visit('/projects/shop/repositories/web/images/site');
    const [site] = await page
      .locator('a[title^="sha256:"]')
      .evaluateAll((links) => links.map((link) => link.getAttribute('title')));
    await page.getByRole('textbox', { name: 'Tag', exact: true }).fill('v1');
    await page.getByRole('combobox', { name: 'Digest' }).fill(site as string);
    await page.getByRole('button', { name: 'Save tag' }).click();
    await page.waitForSelector('.alert');
    expect(await page.locator('.alert').textContent()).toMatch(/immutable/);
    expect(await page.getByRole('textbox', { name: 'Tag', exact: true }).inputValue()).toBe('v1');
  });

  it('disables and enables a user', async () => {
    await asAdmin();
    await visit('/admin/users');
    const row = page.locator('tr', { hasText: 'bob@example.com' });
    await Promise.all([
      page.waitForURL(/done=user-disabled/),
      row.getByRole('button', { name: 'Disable' }).click(),
    ]);
    expect(await row.textContent()).toContain('Disabled');
    await Promise.all([
      page.waitForURL(/done=user-enabled/),
      row.getByRole('button', { name: 'Enable' }).click(),
    ]);
    expect(await row.textContent()).toContain('Active');
  });

  it("resets a user's password, and deletes a user only once the login is typed", async () => {
    await asAdmin();
    const created = await api('/users', 'POST', { login: 'carol@example.com', password: 'first password' });
    expect(created.status).toBe(201);
    await visit('/admin/users');
    const row = page.locator('tr', { hasText: 'carol@example.com' });
    await row.getByText('Password or delete').click();
    await row.getByLabel('New password for carol@example.com').fill('second password');
    await Promise.all([
      page.waitForURL(/done=password-reset/),
      row.getByRole('button', { name: 'Reset password' }).click(),
    ]);
    const signIn = (password: string) =>
      fetch(`${registry.url}/v2/`, {
        headers: {
          Authorization: `Basic ${Buffer.from(`carol@example.com:${password}`).toString('base64')}`,
        },
      });
    expect((await signIn('first password')).status).toBe(401);
    expect((await signIn('second password')).status).toBe(200);

    await row.getByText('Password or delete').click();
    const confirm = row.getByLabel('Type carol@example.com to delete');
    const remove = row.getByRole('button', { name: 'Delete user' });
    await confirm.fill('carol');
    expect(await remove.isDisabled()).toBe(true);
    await confirm.fill('carol@example.com');
    await Promise.all([page.waitForURL(/done=user-deleted/), remove.click()]);
    expect(await page.locator('main table').textContent()).not.toContain('carol@example.com');
    expect((await signIn('second password')).status).toBe(401);
  });

  it('saves settings, and deletes a repository only once its ID is typed', async () => {
    await asAdmin();
    await visit('/projects/shop/repositories/web/settings');
    await page.getByLabel('Description').fill('The storefront');
    await Promise.all([
      page.waitForURL(/done=repository-updated/),
      page.getByRole('button', { name: 'Save' }).click(),
    ]);
    expect(await page.locator('.page-head .sub').textContent()).toContain('The storefront');
    const confirm = page.getByLabel('Type web to confirm');
    const remove = page.getByRole('button', { name: 'Delete repository' });
    await confirm.fill('we');
    expect(await remove.isDisabled()).toBe(true);
    await confirm.fill('web');
    await Promise.all([page.waitForURL(/\/projects\/shop\?done=repository-deleted/), remove.click()]);
    expect(await page.locator('main table').textContent()).not.toContain('web');
    expect((await page.goto(`${registry.url}/projects/shop/repositories/web`))?.status()).toBe(404);
  });
});
