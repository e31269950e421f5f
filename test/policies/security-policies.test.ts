import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SettingsChange } from '../../src/policies/settings-changes.js';
import { testAdminPassword } from '../support/admin-password.js';
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
} from '../support/api-client.js';
import { signInOverHttp } from '../support/console.js';
import { buildImage, buildIndex, tarGzLayer } from '../support/oci-layout.js';
import type { TestRegistry } from '../support/registry.js';
import { startTestRegistry } from '../support/registry.js';
import { pushBuiltImage, pushBuiltIndex, startScanningRegistry, waitForScan } from '../support/scanning.js';
import { installStandin, type Standin } from '../support/trivy-standin.js';

/**
 * Security policies block pulls of images whose last scan found what the policy forbids, or that
 * have no finished scan: a manifest GET answers 403 DENIED naming the policy and the worst finding.
 * The stand-in prints Trivy's debian-buster report: CVE-2019-18224 (CRITICAL, libidn2-0) and a LOW.
 */

let standin: Standin;
let registry: TestRegistry;
let admin: ApiClient;
const changes: SettingsChange[] = [];
const viewer = basic('viewer@example.com', 'user-password-1');
const owner = basic('owner@example.com', 'user-password-1');
const inspector = basic('inspector@example.com', 'user-password-1');
let scannedDigest: string;
let unscannedDigest: string;
let platformDigest: string;
const projectPolicy = '/api/v1/projects/sec/security-policy';
const guardedPolicy = '/api/v1/projects/sec/repositories/guarded/security-policy';
const rawPolicy = '/api/v1/projects/sec/repositories/raw/security-policy';

beforeAll(async () => {
  standin = await installStandin({ report: 'debian-buster.json', version: '0.58.1' });
  registry = await startScanningRegistry(standin, { maxAttempts: 1 });
  admin = await adminClient(registry.url);
  await createProject(admin, 'sec');
  await createRepository(admin, 'sec', 'guarded', { scanning: true });
  await createRepository(admin, 'sec', 'raw');
  for (const login of ['viewer@example.com', 'owner@example.com', 'inspector@example.com']) {
    await createUser(admin, login);
    await grant(admin, '/api/v1/projects/sec', `user:${login}`, 'artifactstore.viewer');
  }
  await grant(admin, '/api/v1/projects/sec/repositories/guarded', 'user:owner@example.com', 'owner');
  const base = await tarGzLayer({
    'etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nID=debian\nVERSION_ID="10"\n',
    'var/lib/dpkg/status': 'Package: libidn2-0\nStatus: install ok installed\nVersion: 2.0.5-1\n',
  });
  const image = buildImage([base, await tarGzLayer({ 'usr/bin/api': 'api' })]);
  scannedDigest = await pushBuiltImage(registry.url, 'sec/guarded/api', 'v1', image);
  await waitForScan(registry.registry.scans, scannedDigest);
  const amd64 = { architecture: 'amd64', os: 'linux' };
  const index = buildIndex([{ image: buildImage([base], amd64), platform: amd64 }]);
  await pushBuiltIndex(registry.url, 'sec/guarded/multi', 'v1', index);
  platformDigest = index.images[0]?.manifest.descriptor.digest as string;
  await waitForScan(registry.registry.scans, platformDigest);
  const tool = buildImage([base, await tarGzLayer({ 'usr/bin/tool': 'tool' })]);
  unscannedDigest = await pushBuiltImage(registry.url, 'sec/raw/tool', 'v1', tool);
});
afterAll(async () => {
  await registry?.close();
  await standin?.remove();
});

async function pull(name: string, reference: string, credentials: Credentials, method = 'GET') {
  const response = await fetch(`${registry.url}/v2/${name}/manifests/${reference}`, {
    method,
    headers: {
      Accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json',
      ...authorization(credentials),
    },
  });
  const text = await response.text();
  return { status: response.status, error: text ? JSON.parse(text).errors?.[0] : undefined };
}

describe('blocking by severity', () => {
  it('lets pulls through while no policy applies', async () => {
    expect((await pull('sec/guarded/api', 'v1', viewer)).status).toBe(200);
  });

  it('blocks a pull by tag and by digest with 403 DENIED naming the policy and the worst finding', async () => {
    const set = await admin.ok('PATCH', projectPolicy, { blockSeverity: 'HIGH' });
    expect(set).toEqual({ project: 'sec', policy: { blockSeverity: 'HIGH' } });
    for (const reference of ['v1', scannedDigest]) {
      const refused = await pull('sec/guarded/api', reference, viewer);
      expect(refused.status).toBe(403);
      expect(refused.error.code).toBe('DENIED');
      expect(refused.error.message).toMatch(
        /^pull blocked by the security policy of repository sec\/guarded: the policy blocks images with vulnerabilities of severity HIGH or worse, and the last scan \(.+\) found 1 not allowed; the worst is CVE-2019-18224 \(CRITICAL\) in libidn2-0 2\.0\.5-1, fixed in 2\.0\.5-1\+deb10u1$/,
      );
      expect(refused.error.detail).toEqual({
        policy: 'blockSeverity',
        repository: 'sec/guarded',
        vulnerability: 'CVE-2019-18224',
        severity: 'CRITICAL',
      });
    }
    // HEAD delivers no content: clients still learn the digest.
    expect((await pull('sec/guarded/api', 'v1', viewer, 'HEAD')).status).toBe(200);
  });

  it('lets an index through and blocks the platform image it lists', async () => {
    expect((await pull('sec/guarded/multi', 'v1', viewer)).status).toBe(200);
    const platform = await pull('sec/guarded/multi', platformDigest, viewer);
    expect(platform.status).toBe(403);
    expect(platform.error.message).toMatch(/the worst is CVE-2019-18224 \(CRITICAL\)/);
  });

  it('lets the repository owner and exempt principals pull, for inspection', async () => {
    expect((await pull('sec/guarded/api', 'v1', owner)).status).toBe(200);
    expect((await pull('sec/guarded/api', 'v1', inspector)).status).toBe(403);
    await admin.ok('PATCH', guardedPolicy, { exemptPrincipals: ['user:Inspector@example.com'] });
    expect((await pull('sec/guarded/api', 'v1', inspector)).status).toBe(200);
    expect((await pull('sec/guarded/api', 'v1', viewer)).status).toBe(403);
    await admin.ok('PATCH', guardedPolicy, { exemptPrincipals: null });
  });

  it('lets an allow-listed vulnerability through until its expiry', async () => {
    await admin.ok('PATCH', guardedPolicy, {
      allowedVulnerabilities: [{ id: 'cve-2019-18224', expires: '2099-01-01' }],
    });
    expect((await pull('sec/guarded/api', 'v1', viewer)).status).toBe(200);
    const view = await admin.ok('PATCH', guardedPolicy, {
      allowedVulnerabilities: [{ id: 'CVE-2019-18224', expires: '2020-01-01' }],
    });
    expect(view.effective.allowedVulnerabilities).toEqual([
      { id: 'CVE-2019-18224', expires: '2020-01-01T00:00:00.000Z' },
    ]);
    expect((await pull('sec/guarded/api', 'v1', viewer)).status).toBe(403);
    await admin.ok('PATCH', guardedPolicy, { allowedVulnerabilities: null });
  });

  it('lets a repository lower or switch off what it inherits', async () => {
    const critical = await admin.ok('PATCH', guardedPolicy, { blockSeverity: 'NONE' });
    expect(critical).toEqual({
      project: 'sec',
      repository: 'guarded',
      policy: { blockSeverity: 'NONE' },
      inherited: { blockSeverity: 'HIGH' },
      effective: {
        blockUnscanned: false,
        allowedVulnerabilities: [],
        exemptPrincipals: [],
        ownersExempt: true,
      },
    });
    expect((await pull('sec/guarded/api', 'v1', viewer)).status).toBe(200);
    await admin.ok('PATCH', guardedPolicy, { blockSeverity: null });
    expect((await pull('sec/guarded/api', 'v1', viewer)).status).toBe(403);
    await admin.ok('PATCH', projectPolicy, { blockSeverity: null });
    expect((await pull('sec/guarded/api', 'v1', viewer)).status).toBe(200);
  });
});

describe('blocking unscanned images', () => {
  it('blocks an image with no finished scan, and says so', async () => {
    expect((await pull('sec/raw/tool', 'v1', viewer)).status).toBe(200);
    await admin.ok('PATCH', rawPolicy, { blockUnscanned: true });
    const refused = await pull('sec/raw/tool', unscannedDigest, viewer);
    expect(refused.status).toBe(403);
    expect(refused.error.message).toBe(
      'pull blocked by the security policy of repository sec/raw: the policy blocks images without a finished vulnerability scan, and this one has none (never scanned)',
    );
    // A scanned image passes the same rule.
    await admin.ok('PATCH', guardedPolicy, { blockUnscanned: true });
    expect((await pull('sec/guarded/api', 'v1', viewer)).status).toBe(200);
  });
});

describe('setting policies', () => {
  it('reports every change to the settings hook', async () => {
    changes.length = 0;
    const hooked = await startTestRegistry({}, { onSettingsChanged: (change) => changes.push(change) });
    try {
      const hookedAdmin = await adminClient(hooked.url);
      await createProject(hookedAdmin, 'p');
      await hookedAdmin.ok('PATCH', '/api/v1/projects/p/security-policy', { blockUnscanned: true });
      expect(changes).toEqual([
        expect.objectContaining({
          kind: 'securityPolicy',
          project: 'p',
          repository: undefined,
          before: {},
          after: { blockUnscanned: true },
        }),
      ]);
    } finally {
      await hooked.close();
    }
  });

  it('refuses callers without the owner role, and bad settings with a clear message', async () => {
    const viewers = admin.as(viewer);
    expectApiError(await viewers.patch(guardedPolicy, { blockUnscanned: false }), 403, 'DENIED');
    expectApiError(await viewers.patch(projectPolicy, { blockUnscanned: false }), 403, 'DENIED');
    expect((await viewers.get(guardedPolicy)).status).toBe(200);
    expectApiError(
      await admin.patch(guardedPolicy, { blockSeverity: 'SEVERE' }),
      400,
      'INVALID_ARGUMENT',
      /blockSeverity/,
    );
    expectApiError(
      await admin.patch(guardedPolicy, { exemptPrincipals: ['allUsers'] }),
      400,
      'INVALID_ARGUMENT',
      /allUsers cannot be exempt/,
    );
    expectApiError(
      await admin.patch(guardedPolicy, { allowedVulnerabilities: [{ id: 'CVE-1', expires: 'soon' }] }),
      400,
      'INVALID_ARGUMENT',
    );
    expectApiError(
      await admin.patch('/api/v1/projects/sec/repositories/none/security-policy', {}),
      404,
      'NAME_UNKNOWN',
    );
  });
});

describe('the console', () => {
  it("shows the policy in effect on a repository's settings page, read-only", async () => {
    await admin.ok('PATCH', guardedPolicy, {
      blockSeverity: 'CRITICAL',
      allowedVulnerabilities: [{ id: 'CVE-2019-18224', expires: '2099-01-01' }],
    });
    const session = await signInOverHttp(registry.url, 'admin', testAdminPassword);
    const page = await fetch(`${registry.url}/projects/sec/repositories/guarded/settings`, {
      headers: { Cookie: session.cookie },
    });
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('<h2>Security policy</h2>');
    expect(text).toContain('<dt>Block pulls at severity</dt><dd>CRITICAL</dd>');
    expect(text).toContain('<dt>Block unscanned images</dt><dd>Yes</dd>');
    expect(text).toContain('<code>CVE-2019-18224</code> until 2099-01-01');
  });
});
