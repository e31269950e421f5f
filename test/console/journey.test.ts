import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { shoot, signInWithBrowser, signOutWithBrowser } from '../support/console.js';
import { buildImage, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import { type Daemon, startDaemon, testAdminPassword } from '../support/registry.js';
import { pushLayout } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';
import { installStandin, type Standin } from '../support/trivy-standin.js';
import { waitFor } from '../support/wait.js';

/**
 * A person's whole journey through the console, on the real daemon in real Chromium: sign in,
 * create a project and a scanning repository, push with skopeo, read the image, its digests and
 * the vulnerability report, share the repository, and see what others see.
 */
describe('the web console, end to end', { timeout: 240_000 }, () => {
  let standin: Standin;
  let daemon: Daemon;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const dialogs: string[] = [];
  const viewerLogin = 'viewer@example.com';
  const strangerLogin = 'stranger@example.com';
  const userPassword = 'correct horse battery';
  const hostile = '<script>alert("description")</script>';
  let digests: { v1: string; v2: string };

  beforeAll(async () => {
    standin = await installStandin({ report: 'debian-buster.json', version: '0.58.1' });
    work = await tempDir('mistrive-console-');
    const config = join(work.path, 'serve.yaml');
    await writeFile(config, 'scanning:\n  pollInterval: 100ms\n  retryBackoff: 100ms\n');
    daemon = await startDaemon(join(work.path, 'data'), ['--config', config], {
      PATH: `${standin.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    await standin?.remove();
    await work?.remove();
  });

  const url = (path: string) => `${daemon.url}${path}`;

  it('shows an anonymous visitor the projects page with a sign-in link, then signs the administrator in', async () => {
    const response = await page.goto(url('/'));
    expect(response?.status()).toBe(200);
    expect(await page.locator('main').textContent()).toContain('There is no public project');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByLabel('Login').fill('admin');
    await page.getByLabel('Password').fill(testAdminPassword);
    await Promise.all([page.waitForURL(url('/')), page.getByRole('button', { name: 'Sign in' }).click()]);
    expect(await page.locator('.account').textContent()).toContain('Signed in as admin');
  });

  it('creates users from the Users page', async () => {
    await page.goto(url('/admin/users'));
    for (const login of [viewerLogin, strangerLogin]) {
      await page.getByLabel('Email').fill(login);
      await page.getByLabel('Initial password').fill(userPassword);
      await Promise.all([
        page.waitForURL(/done=user-created/),
        page.getByRole('button', { name: 'Create user' }).click(),
      ]);
    }
    const table = await page.locator('table').textContent();
    expect(table).toContain(viewerLogin);
    expect(table).toContain(strangerLogin);
    expect((await shoot(page, 'users')).overflow.phone).toBeLessThanOrEqual(0);
  });

  it('creates a project, then a repository with scanning, checking the ID as it is typed', async () => {
    await page.goto(url('/'));
    await page.getByLabel('Project ID').fill('shop');
    await page.getByLabel('Display name (optional)').fill('Shop');
    await Promise.all([
      page.waitForURL(url('/projects/shop?done=project-created')),
      page.getByRole('button', { name: 'Create project' }).click(),
    ]);
    expect(await page.locator('.notice').textContent()).toBe('Project created.');

    await page.getByLabel('Display name').fill('Backend services');
    const id = page.getByLabel('Repository ID (optional)');
    await id.fill('Backend_');
    expect(await page.locator('#repositoryId-hint').textContent()).toBe(
      'Must start with a lowercase letter.',
    );
    expect(await id.getAttribute('aria-invalid')).toBe('true');
    // The browser's own check of the pattern attribute, which works without the script too.
    const mismatch = "document.getElementById('repositoryId').validity.patternMismatch";
    expect(await page.evaluate(mismatch)).toBe(true);
    await id.fill('backend');
    expect(await page.locator('#repositoryId-hint').textContent()).toBe('backend is a valid ID.');
    expect(await page.evaluate(mismatch)).toBe(false);
    await page.getByLabel('Description (optional)').fill(hostile);
    expect(await page.getByLabel(/Vulnerability scanning/).isChecked()).toBe(true);
    await shoot(page, 'create-repository');
    await Promise.all([
      page.waitForURL(url('/projects/shop/repositories/backend?done=repository-created')),
      page.getByRole('button', { name: 'Create repository' }).click(),
    ]);
    expect(await page.locator('.page-head .sub').textContent()).toContain(hostile);
    expect(await page.locator('main').textContent()).toContain('Scanning on');
    expect(dialogs).toEqual([]);
  });

  it('shows the image, its digests, tags, size and vulnerability summary after a push with skopeo', async () => {
    const base = await tarGzLayer({
      'etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nID=debian\nVERSION_ID="10"\n',
      'var/lib/dpkg/status': 'Package: libidn2-0\nStatus: install ok installed\nVersion: 2.0.5-1\n',
    });
    const v1 = buildImage([base, await tarGzLayer({ 'app/server': randomBytes(48 * 1024) })]);
    const v2 = buildImage([base, await tarGzLayer({ 'app/server': randomBytes(64 * 1024) })]);
    for (const [tag, image] of [
      ['v1', v1],
      ['v2', v2],
    ] as const) {
      const layout = join(work.path, `layout-${tag}`);
      await writeOciLayout(layout, tag, image);
      await pushLayout(daemon.url, layout, tag, 'shop/backend/api');
    }
    digests = { v1: v1.manifest.descriptor.digest, v2: v2.manifest.descriptor.digest };

    await page.goto(url('/projects/shop/repositories/backend'));
    const row = page.locator('#images tbody tr');
    expect(await row.count()).toBe(1);
    expect(await row.locator('td').nth(0).textContent()).toBe('api');
    expect(await row.locator('td').nth(1).textContent()).toBe('2');
    await shoot(page, 'repository-images');

    await page.getByRole('link', { name: 'api' }).click();
    await waitFor('both scans to show on the image page', async () => {
      await page.reload();
      return (await page.locator('.sev.CRITICAL:not(.zero)').count()) === 2 ? true : undefined;
    });
    const rows = page.locator('main table tbody tr');
    expect(await rows.count()).toBe(2);
    // Newest first: v2 was pushed last.
    expect(await rows.nth(0).locator('.tag').textContent()).toContain('v2');
    expect(await rows.nth(1).locator('.tag').textContent()).toContain('v1');
    const first = await rows.nth(0).textContent();
    expect(first).toMatch(/\d+(\.\d+)? kB/);
    expect(first).toContain('image config');
    expect(await rows.nth(0).locator('.sev.CRITICAL').textContent()).toBe('1');
    expect(await rows.nth(0).locator('.sev.LOW').textContent()).toBe('1');
    expect(await page.locator('main').textContent()).toContain(`@${digests.v2}`);
    await shoot(page, 'image');
  });

  it('opens the vulnerability report and filters it by severity', async () => {
    await page.locator(`a[title="${digests.v1}"]`).click();
    const findings = page.locator('#findings tbody tr');
    expect(await findings.count()).toBe(2);
    expect(await findings.nth(0).locator('.sev').textContent()).toBe('Critical');
    const cve = findings.nth(0).locator('td').first().locator('a');
    expect(await cve.getAttribute('href')).toMatch(/^https:\/\//);
    const text = await page.locator('#vulnerabilities').textContent();
    expect(text).toContain('Trivy 0.58.1');
    expect(await page.locator('#vulnerabilities svg.bar').count()).toBe(1);
    await shoot(page, 'digest');
    await page.locator('nav[aria-label="Filter by severity"]').getByRole('link', { name: 'Low' }).click();
    expect(await findings.count()).toBe(1);
    expect(await findings.nth(0).locator('.sev').textContent()).toBe('Low');
    await page.locator('nav[aria-label="Filter by severity"]').getByRole('link', { name: 'High' }).click();
    expect(await page.locator('#vulnerabilities').textContent()).toContain('No high findings.');
  });

  it('grants a user Viewer and refuses Editor for allUsers, saying why', async () => {
    await page.goto(url('/projects/shop/repositories/backend/permissions'));
    expect(await page.locator('main').textContent()).toContain(
      'Roles granted on the organization default and project shop apply here too.',
    );
    await page.getByLabel('Principal').fill(`user:${viewerLogin}`);
    await page.getByLabel('Role').selectOption('viewer');
    await Promise.all([
      page.waitForURL(/done=binding-added/),
      page.getByRole('button', { name: 'Save' }).click(),
    ]);
    expect(await page.locator('.role-group').first().textContent()).toContain(`user:${viewerLogin}`);

    await page.getByLabel('Principal').fill('allUsers');
    await page.getByLabel('Role').selectOption('editor');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForSelector('.alert');
    expect(await page.locator('.alert').textContent()).toContain(
      'allUsers can only be granted the viewer role',
    );
    expect(await page.getByLabel('Principal').inputValue()).toBe('allUsers');
    await shoot(page, 'repository-permissions');
  });

  it('shows the Setup tab with the commands for this host', async () => {
    await page.goto(url('/projects/shop/repositories/backend/setup'));
    const host = new URL(daemon.url).host;
    expect(await page.locator('#cmd-configure').textContent()).toBe(`mistrive auth configure-docker ${host}`);
    expect(await page.locator('#cmd-push').textContent()).toBe(`docker push ${host}/shop/backend/api:latest`);
    expect(await page.locator('#cmd-github').textContent()).toContain('MISTRIVE_KEY');
    expect(await page.locator('#cmd-gitlab').textContent()).toContain('_json_key_base64');
    expect(await page.locator('button[data-copy="cmd-push"]').isVisible()).toBe(true);
    await shoot(page, 'repository-setup');
  });

  it('shows the viewer read-only pages and refuses the settings, naming the role', async () => {
    await signOutWithBrowser(page);
    await signInWithBrowser(
      page,
      daemon.url,
      viewerLogin,
      userPassword,
      '/projects/shop/repositories/backend',
    );
    const main = await page.locator('main').textContent();
    expect(main).toContain('Your role: viewer');
    expect(await page.locator('nav.tabs').textContent()).toBe('ImagesSetup');
    await page.goto(url('/projects/shop/repositories/backend/images/api'));
    expect(await page.locator('main table tbody tr').count()).toBe(2);
    expect(await page.getByText('Add or move a tag').count()).toBe(0);
    expect(await page.locator('a[aria-label^="Delete tag"]').count()).toBe(0);
    await page.goto(url(`/projects/shop/repositories/backend/images/api/digests/${digests.v1}`));
    expect(await page.getByRole('button', { name: 'Rescan' }).count()).toBe(0);
    const refused = await page.goto(url('/projects/shop/repositories/backend/settings'));
    expect(refused?.status()).toBe(403);
    expect(await page.locator('main').textContent()).toContain(
      'this needs the owner role on repository shop/backend',
    );
    await shoot(page, 'refused');
  });

  it('answers a stranger with 404, as for a repository that does not exist', async () => {
    await signOutWithBrowser(page);
    await signInWithBrowser(page, daemon.url, strangerLogin, userPassword);
    expect(await page.locator('main').textContent()).toContain('There is no project you can see yet.');
    const hidden = await page.goto(url('/projects/shop/repositories/backend'));
    expect(hidden?.status()).toBe(404);
    const hiddenText = await page.locator('main h1').textContent();
    const missing = await page.goto(url('/projects/shop/repositories/nothing-here'));
    expect(missing?.status()).toBe(404);
    expect(await page.locator('main h1').textContent()).toBe(hiddenText);
    await shoot(page, 'not-found');
  });

  it('lets the administrator delete a tag, naming what goes', async () => {
    await signOutWithBrowser(page);
    await signInWithBrowser(
      page,
      daemon.url,
      'admin',
      testAdminPassword,
      '/projects/shop/repositories/backend/images/api',
    );
    await page.getByRole('link', { name: 'Delete tag v1' }).click();
    expect(await page.locator('main .card').textContent()).toContain('the digest it points at stays');
    await shoot(page, 'delete-tag');
    await Promise.all([
      page.waitForURL(/done=tag-deleted/),
      page.getByRole('button', { name: 'Delete tag' }).click(),
    ]);
    expect(await page.locator('.notice').textContent()).toBe('Tag deleted.');
    const tags = await page.locator('main table tbody').textContent();
    expect(tags).not.toContain('v1');
    expect(tags).toContain('v2');
    expect(tags).toContain('untagged');
    expect(dialogs).toEqual([]);
  });
});
