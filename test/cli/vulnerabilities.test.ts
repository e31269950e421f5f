import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliHome, mistrive, mistriveJson } from '../support/cli.js';
import { buildImage, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import type { TestRegistry } from '../support/registry.js';
import { startScanningRegistry } from '../support/scanning.js';
import { pushLayout } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';
import { installStandin, type Standin } from '../support/trivy-standin.js';

/**
 * `images scan` and `images vulns` against a registry that scans with the Trivy stand-in, which
 * prints real Trivy reports (debian-buster: 1 critical, 1 low; alpine-310: 4 medium).
 */

interface Report {
  digest: string;
  fullName: string;
  scan: { status: string; summary?: Record<string, number> };
  findings: { vulnerabilityId: string; severity: string; pkgName: string }[];
  failOn?: { severity: string; count: number };
}

describe('images scan and images vulns', { timeout: 120_000 }, () => {
  let standin: Standin;
  let registry: TestRegistry;
  let home: CliHome;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let digest: string;

  beforeAll(async () => {
    standin = await installStandin({ report: 'debian-buster.json' });
    registry = await startScanningRegistry(standin, {}, { autoCreateRepositories: false });
    home = await cliHome();
    work = await tempDir('mistrive-cli-vulns-');
    const login = await mistrive(
      home,
      ['auth', 'login', '--registry', registry.url, '--username', 'admin', '--password-stdin'],
      {
        input: testAdminPassword,
      },
    );
    expect(login.exitCode, login.stderr).toBe(0);
    await mistriveJson(home, ['projects', 'create', 'shop']);
    await mistriveJson(home, ['repos', 'create', 'scanned', '--project', 'shop', '--scanning']);
    await mistriveJson(home, ['repos', 'create', 'plain', '--project', 'shop']);
    const image = buildImage([
      await tarGzLayer({ 'etc/os-release': 'ID=debian\n', 'bin/app': randomBytes(4096) }),
    ]);
    const layout = join(work.path, 'layout');
    await writeOciLayout(layout, 'v1', image);
    await pushLayout(registry.url, layout, 'v1', 'shop/scanned/api');
    digest = image.manifest.descriptor.digest;
    // Scans belong to digests: the unscanned repository gets content of its own.
    const other = join(work.path, 'other');
    await writeOciLayout(other, 'v1', buildImage([await tarGzLayer({ 'bin/tool': randomBytes(4096) })]));
    await pushLayout(registry.url, other, 'v1', 'shop/plain/api');
  });
  afterAll(async () => {
    await registry?.close();
    await standin?.remove();
    await home?.remove();
    await work?.remove();
  });

  it('scans on demand and, with --wait, waits for the result', async () => {
    const result = await mistriveJson<{ digest: string; scan: Report['scan'] }>(home, [
      'images',
      'scan',
      'shop/scanned/api:v1',
      '--wait',
    ]);
    expect(result.digest).toBe(digest);
    expect(result.scan).toMatchObject({
      status: 'succeeded',
      summary: { CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 1, UNKNOWN: 0 },
    });
    const piped = await mistrive(home, ['images', 'scan', `shop/scanned/api@${digest}`, '--wait']);
    expect(piped.exitCode, piped.stderr).toBe(0);
    expect(piped.stdout).toContain('Scan\tsucceeded\n');
    expect(piped.stdout).toContain('Found\t1 critical, 1 low\n');
    // Without --wait: once the scan is queued.
    const queued = await mistriveJson<{ scan: Report['scan'] }>(home, [
      'images',
      'scan',
      'shop/scanned/api:v1',
    ]);
    expect(['queued', 'scanning']).toContain(queued.scan.status);
  });

  it('lists the findings worst first, filtered by severity', async () => {
    await mistriveJson(home, ['images', 'scan', 'shop/scanned/api:v1', '--wait']);
    const report = await mistriveJson<Report>(home, ['images', 'vulns', 'shop/scanned/api:v1']);
    expect(report).toMatchObject({ digest, fullName: 'shop/scanned/api', scan: { status: 'succeeded' } });
    expect(report.findings.map((finding) => finding.severity)).toEqual(['CRITICAL', 'LOW']);
    const low = await mistriveJson<Report>(home, [
      'images',
      'vulns',
      `shop/scanned/api@${digest}`,
      '--severity',
      'low',
    ]);
    expect(low.findings.map((finding) => finding.severity)).toEqual(['LOW']);
    const table = await mistrive(home, ['images', 'vulns', 'shop/scanned/api:v1']);
    const rows = table.stdout
      .trimEnd()
      .split('\n')
      .map((line) => line.split('\t'));
    expect(rows.map((row) => row[0])).toEqual(['CRITICAL', 'LOW']);
    expect(rows[0]?.[1]).toBe(report.findings[0]?.vulnerabilityId);
    const described = await mistrive(home, ['images', 'describe', 'shop/scanned/api:v1']);
    expect(described.stdout).toContain('\t1 critical, 1 low\n');
    const wrong = await mistrive(home, ['images', 'vulns', 'shop/scanned/api:v1', '--severity', 'severe']);
    expect(wrong.exitCode).toBe(2);
    // No tag or digest means :latest, as in Docker; this image has none.
    const noLatest = await mistrive(home, ['images', 'vulns', 'shop/scanned/api']);
    expect(noLatest.exitCode).toBe(5);
    expect(noLatest.stderr).toContain('there is no tag latest on shop/scanned/api');
    await mistriveJson(home, ['tags', 'add', 'shop/scanned/api:v1', 'latest']);
    expect((await mistriveJson<Report>(home, ['images', 'vulns', 'shop/scanned/api'])).digest).toBe(digest);
  });

  it('--fail-on gates a pipeline: exit 10 at or above the threshold, 0 below it', async () => {
    const gated = await mistrive(home, [
      'images',
      'vulns',
      'shop/scanned/api:v1',
      '--fail-on',
      'high',
      '--json',
    ]);
    expect(gated.exitCode).toBe(10);
    const report = JSON.parse(gated.stdout) as Report;
    expect(report.failOn).toEqual({ severity: 'HIGH', count: 1 });
    expect(JSON.parse(gated.stderr)).toEqual({
      error: {
        code: 'VULNERABILITIES_FOUND',
        message: `1 vulnerability at HIGH or above in shop/scanned/api@${digest}`,
      },
    });

    await standin.configure({ report: 'alpine-310.json' });
    await mistriveJson(home, ['images', 'scan', 'shop/scanned/api:v1', '--wait']);
    const passed = await mistrive(home, [
      'images',
      'vulns',
      'shop/scanned/api:v1',
      '--fail-on',
      'HIGH',
      '--json',
    ]);
    expect(passed.exitCode, passed.stderr).toBe(0);
    expect((JSON.parse(passed.stdout) as Report).failOn).toEqual({ severity: 'HIGH', count: 0 });
    const medium = await mistrive(home, ['images', 'vulns', 'shop/scanned/api:v1', '--fail-on', 'MEDIUM']);
    expect(medium.exitCode).toBe(10);
    expect(medium.stderr).toContain('4 vulnerabilities at MEDIUM or above');
  });

  it('refuses to judge an image that was never scanned', async () => {
    const result = await mistrive(home, ['images', 'vulns', 'shop/plain/api:v1', '--fail-on', 'CRITICAL']);
    expect(result.exitCode).toBe(6);
    expect(result.stderr).toMatch(
      /Error: shop\/plain\/api@sha256:[0-9a-f]{64} has not been scanned: its repository does not scan pushes/,
    );
    expect(result.stderr).toMatch(
      /Hint: scan it now: `mistrive images scan shop\/plain\/api@sha256:[0-9a-f]{64} --wait`/,
    );
    // Without --fail-on too: there is nothing to show, and the CLI says why.
    const shown = await mistrive(home, ['images', 'vulns', 'shop/plain/api:v1']);
    expect(shown.exitCode).toBe(6);
    expect(shown.stdout).toBe('');
    expect(shown.stderr).toContain('has not been scanned');
  });
});
