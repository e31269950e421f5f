import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiClient,
  adminClient,
  createProject,
  createRepository,
  createUser,
  expectApiError,
  grant,
  type Json,
  noCredentials,
  pushImageAs,
} from '../support/api-client.js';
import { descriptor, emptyJson, manifestBytes, pushBlob, pushManifest } from '../support/oci-client.js';
import { type BuiltImage, buildImage, buildIndex, type Layer, tarGzLayer } from '../support/oci-layout.js';
import type { TestRegistry } from '../support/registry.js';
import { pushBuiltImage, pushBuiltIndex, startScanningRegistry } from '../support/scanning.js';
import { fullCounts, installStandin, type Standin, trivyFixtures } from '../support/trivy-standin.js';
import { waitFor } from '../support/wait.js';

/**
 * Vulnerability scanning through the management API, over real HTTP, with the Trivy stand-in
 * printing real reports: the scan of each digest in listings, the report with severity filters, the
 * rescan, and who may do what.
 */

let standin: Standin;
let registry: TestRegistry;
let admin: ApiClient;
let viewer: ApiClient;
let editor: ApiClient;
let outsider: ApiClient;
let base: Layer;
let api: BuiltImage;

const repo = '/api/v1/projects/sec/repositories/scanned';
const digestPath = (image: string, digest: string) =>
  `${repo}/images/${encodeURIComponent(image)}/digests/${digest}`;
const final = new Set(['succeeded', 'failed', 'unsupported', 'scanner_unavailable']);

/** Polls the digest through the API until its scan is final and `accept` holds. */
function scanOf(path: string, accept: (scan: Json) => boolean = () => true): Promise<Json> {
  return waitFor(
    `the scan of ${path}`,
    async () => {
      const { scan } = await admin.ok('GET', path);
      return final.has(scan.status) && accept(scan) ? scan : undefined;
    },
    30_000,
    50,
  );
}

async function image(files: Record<string, string>, platform?: { architecture: string; os: string }) {
  return buildImage(
    [base, await tarGzLayer({ ...files, 'etc/build-id': randomBytes(8).toString('hex') })],
    platform,
  );
}

/** The findings of a fixture, as Trivy wrote them. */
async function fixtureFindings(fixture: string): Promise<Json[]> {
  const report = JSON.parse(await readFile(join(trivyFixtures, fixture), 'utf8'));
  return report.Results.flatMap((result: Json) =>
    (result.Vulnerabilities ?? []).map((v: Json) => ({ ...v, Target: result.Target })),
  );
}

beforeAll(async () => {
  standin = await installStandin({ report: 'debian-buster.json', version: '0.58.1' });
  registry = await startScanningRegistry(standin, { maxAttempts: 1 });
  admin = await adminClient(registry.url);
  await createProject(admin, 'sec');
  await createRepository(admin, 'sec', 'scanned', { scanning: true });
  await createRepository(admin, 'sec', 'plain');
  viewer = await createUser(admin, 'viewer@example.com');
  editor = await createUser(admin, 'editor@example.com');
  outsider = await createUser(admin, 'outsider@example.com');
  await grant(admin, repo, 'user:viewer@example.com', 'viewer');
  await grant(admin, repo, 'user:editor@example.com', 'editor');
  base = await tarGzLayer({
    'etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nID=debian\nVERSION_ID="10"\n',
    'var/lib/dpkg/status': 'Package: libidn2-0\nStatus: install ok installed\nVersion: 2.0.5-1\n',
  });
  api = await image({ 'usr/bin/api': 'api' });
  await pushBuiltImage(registry.url, 'sec/scanned/backend/api', 'v1', api);
});
afterAll(async () => {
  await registry?.close();
  await standin?.remove();
});

describe('the scan of each digest', () => {
  it('shows the status and the summary by severity, equal to the report, in every listing', async () => {
    const digest = api.manifest.descriptor.digest;
    const scan = await scanOf(digestPath('backend/api', digest));
    expect(scan).toEqual({
      status: 'succeeded',
      summary: fullCounts('debian-buster.json'),
      scannerVersion: '0.58.1',
      scannedAt: expect.any(String),
    });
    expect(Date.parse(scan.scannedAt)).not.toBeNaN();

    const { digests } = await admin.ok('GET', `${digestPath('backend/api', digest).replace(/\/[^/]+$/, '')}`);
    expect(digests.find((d: Json) => d.digest === digest).scan).toEqual(scan);
    const { images } = await admin.ok('GET', `${repo}/images`);
    const listed = images.find((i: Json) => i.name === 'backend/api');
    expect(listed.digests.find((d: Json) => d.digest === digest).scan).toEqual(scan);
    expect((await admin.ok('GET', `${repo}/images/backend%2Fapi`)).digests[0].scan).toEqual(scan);
  });

  it('shows an index with the scan of each platform image', async () => {
    const amd64 = { architecture: 'amd64', os: 'linux' };
    const arm64 = { architecture: 'arm64', os: 'linux', variant: 'v8' };
    const index = buildIndex([
      { image: await image({ 'usr/bin/tool': 'amd64' }, amd64), platform: amd64 },
      { image: await image({ 'usr/bin/tool': 'arm64' }, arm64), platform: arm64 },
    ]);
    await pushBuiltIndex(registry.url, 'sec/scanned/multi', 'v1', index);
    const [first, second] = index.images.map((i) => i.manifest.descriptor.digest);
    const scan = await scanOf(digestPath('multi', index.index.descriptor.digest), (s) =>
      s.platforms.every((p: Json) => final.has(p.status)),
    );
    const platformScan = {
      status: 'succeeded',
      summary: fullCounts('debian-buster.json'),
      scannerVersion: '0.58.1',
    };
    expect(scan).toEqual({
      status: 'succeeded',
      platforms: [
        {
          digest: first,
          platform: { os: 'linux', architecture: 'amd64' },
          ...platformScan,
          scannedAt: expect.any(String),
        },
        {
          digest: second,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
          ...platformScan,
          scannedAt: expect.any(String),
        },
      ],
    });

    const report = await viewer.ok(
      'GET',
      `${digestPath('multi', index.index.descriptor.digest)}/vulnerabilities`,
    );
    expect(
      report.findings.map((f: Json) => [f.severity, f.vulnerabilityId, f.digest, f.platform.architecture]),
    ).toEqual([
      ['CRITICAL', 'CVE-2019-18224', first, 'amd64'],
      ['CRITICAL', 'CVE-2019-18224', second, 'arm64'],
      ['LOW', 'CVE-2019-18276', first, 'amd64'],
      ['LOW', 'CVE-2019-18276', second, 'arm64'],
    ]);
  });

  it('says not_scanned in a repository without scanning, and failed with the reason when the scanner fails', async () => {
    const plain = await image({ 'usr/bin/plain': 'plain' });
    await pushBuiltImage(registry.url, 'sec/plain/app', 'v1', plain);
    const plainPath = `/api/v1/projects/sec/repositories/plain/images/app/digests/${plain.manifest.descriptor.digest}`;
    expect((await admin.ok('GET', plainPath)).scan).toEqual({ status: 'not_scanned' });
    expect(await admin.ok('GET', `${plainPath}/vulnerabilities`)).toMatchObject({
      scan: { status: 'not_scanned' },
      findings: [],
    });

    // Random bytes are not a gzip-compressed layer: the scanner refuses the image.
    const broken = await pushImageAs(registry.url, 'sec/scanned/broken', 'v1', admin.credentials);
    const scan = await scanOf(digestPath('broken', broken.digest));
    expect(scan.status).toBe('failed');
    expect(scan.reason).toMatch(/\S/);
    expect(scan.summary).toBeUndefined();
  });

  it('says unsupported for an artifact that is not a container image, and refuses to rescan it', async () => {
    const name = 'sec/scanned/chart';
    await pushBlob(registry.url, name, emptyJson);
    const layer = randomBytes(64);
    await pushBlob(registry.url, name, layer);
    const manifest = manifestBytes({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.example.chart.v1',
      config: descriptor('application/vnd.oci.empty.v1+json', emptyJson),
      layers: [descriptor('application/vnd.example.chart.layer.v1+tar', layer)],
    });
    const digest = await pushManifest(registry.url, name, 'v1', manifest);
    const scan = await scanOf(digestPath('chart', digest));
    expect(scan).toEqual({ status: 'unsupported', reason: expect.stringMatching(/not a container image/) });
    expectApiError(
      await editor.post(`${digestPath('chart', digest)}/scan`),
      409,
      'FAILED_PRECONDITION',
      /cannot be scanned: not a container image/,
    );
  });
});

describe('the report', () => {
  const reportPath = () => `${digestPath('backend/api', api.manifest.descriptor.digest)}/vulnerabilities`;

  it('holds every finding of the scan, worst first, with what Trivy said of it', async () => {
    await scanOf(digestPath('backend/api', api.manifest.descriptor.digest));
    const report = await viewer.ok('GET', reportPath());
    expect(report.digest).toBe(api.manifest.descriptor.digest);
    expect(report.image).toBe('backend/api');
    expect(report.scan.status).toBe('succeeded');
    const worstFirst = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
    const expected = (await fixtureFindings('debian-buster.json')).sort(
      (a, b) => worstFirst.indexOf(a.Severity) - worstFirst.indexOf(b.Severity),
    );
    expect(report.findings).toEqual(
      expected.map((v) => ({
        vulnerabilityId: v.VulnerabilityID,
        severity: v.Severity,
        pkgName: v.PkgName,
        pkgId: v.PkgID,
        installedVersion: v.InstalledVersion,
        ...(v.FixedVersion ? { fixedVersion: v.FixedVersion } : {}),
        title: v.Title,
        description: v.Description,
        references: v.References,
        primaryUrl: v.PrimaryURL,
        target: v.Target,
        class: 'os-pkgs',
        type: 'debian',
        digest: api.manifest.descriptor.digest,
      })),
    );
    expect(report.findings.map((f: Json) => f.severity)).toEqual(['CRITICAL', 'LOW']);
  });

  it('filters by severities and by a minimum severity, in any case', async () => {
    const ids = async (query: string) =>
      (await viewer.ok('GET', `${reportPath()}?${query}`)).findings.map((f: Json) => f.vulnerabilityId);
    expect(await ids('severity=CRITICAL')).toEqual(['CVE-2019-18224']);
    expect(await ids('severity=HIGH,CRITICAL')).toEqual(['CVE-2019-18224']);
    expect(await ids('severity=low,medium')).toEqual(['CVE-2019-18276']);
    expect(await ids('severity=HIGH,MEDIUM')).toEqual([]);
    expect(await ids('minSeverity=HIGH')).toEqual(['CVE-2019-18224']);
    expect(await ids('minSeverity=low')).toEqual(['CVE-2019-18224', 'CVE-2019-18276']);
    expect(await ids('minSeverity=MEDIUM&severity=LOW,CRITICAL')).toEqual(['CVE-2019-18224']);
    expectApiError(
      await viewer.get(`${reportPath()}?severity=HIGH,SEVERE`),
      400,
      'INVALID_ARGUMENT',
      /query parameter "severity".*not SEVERE/,
    );
    expectApiError(
      await viewer.get(`${reportPath()}?minSeverity=bad`),
      400,
      'INVALID_ARGUMENT',
      /"minSeverity"/,
    );
  });

  it('is read through an image that holds the digest, never by digest alone', async () => {
    const digest = api.manifest.descriptor.digest;
    // The same digest in another repository: its scan is shared, but only where the image holds it.
    expectApiError(await admin.get(`${digestPath('multi', digest)}/vulnerabilities`), 404, 'NOT_FOUND');
    expectApiError(
      await admin.get(`/api/v1/projects/sec/repositories/plain/images/app/digests/${digest}/vulnerabilities`),
      404,
      'NOT_FOUND',
    );
    await pushBuiltImage(registry.url, 'sec/plain/copy', 'v1', api);
    const copy = await admin.ok(
      'GET',
      `/api/v1/projects/sec/repositories/plain/images/copy/digests/${digest}/vulnerabilities`,
    );
    expect(copy.findings).toHaveLength(2);
  });
});

describe('rescans', () => {
  it('queues a rescan (202) whose result replaces the last one', async () => {
    const digest = api.manifest.descriptor.digest;
    const before = await scanOf(digestPath('backend/api', digest));
    await standin.configure({
      report: 'busybox-with-lockfile.json',
      version: '0.59.0',
      mode: 'slow',
      delayMs: 500,
    });
    const response = await editor.post(`${digestPath('backend/api', digest)}/scan`);
    expect(response.status, response.text).toBe(202);
    // While it is queued or runs, the last successful scan's summary stays.
    expect(['queued', 'scanning']).toContain(response.body.status);
    expect(response.body.summary).toEqual(before.summary);
    const after = await scanOf(digestPath('backend/api', digest), (scan) => scan.scannerVersion === '0.59.0');
    expect(after.status).toBe('succeeded');
    expect(after.summary).toEqual(fullCounts('busybox-with-lockfile.json'));
    expect(Date.parse(after.scannedAt)).toBeGreaterThan(Date.parse(before.scannedAt));
    const report = await viewer.ok(
      'GET',
      `${digestPath('backend/api', digest)}/vulnerabilities?minSeverity=HIGH`,
    );
    expect(report.findings.map((f: Json) => [f.vulnerabilityId, f.pkgName, f.target])).toEqual([
      ['CVE-2019-15542', 'ammonia', 'Cargo.lock'],
    ]);
  });
});

describe('access', () => {
  const path = () => digestPath('backend/api', api.manifest.descriptor.digest);

  it('lets a viewer read reports and scans, and only an editor rescan', async () => {
    expect((await viewer.ok('GET', path())).scan.status).toEqual(expect.any(String));
    await viewer.ok('GET', `${path()}/vulnerabilities`);
    expectApiError(await viewer.post(`${path()}/scan`), 403, 'DENIED', /editor/);
    await scanOf(path());
    expect((await editor.post(`${path()}/scan`)).status).toBe(202);
  });

  it('hides the repository from someone without access, and asks who is calling when nobody is', async () => {
    expectApiError(await outsider.get(`${path()}/vulnerabilities`), 404, 'NAME_UNKNOWN');
    expectApiError(await outsider.post(`${path()}/scan`), 404, 'NAME_UNKNOWN');
    expectApiError(await outsider.get(path()), 404, 'NAME_UNKNOWN');
    const anonymous = admin.as(noCredentials);
    expectApiError(await anonymous.get(`${path()}/vulnerabilities`), 401, 'UNAUTHORIZED');
    expectApiError(await anonymous.post(`${path()}/scan`), 401, 'UNAUTHORIZED');
  });
});
