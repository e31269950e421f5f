import { randomBytes } from 'node:crypto';
import { rename } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import {
  adminClient,
  createProject,
  createRepository,
  createUser,
  grant,
  pushImageAs,
} from '../support/api-client.js';
import { type CliHome, cliBin, cliHome, mistrive, mistriveJson, repositoryRoot } from '../support/cli.js';
import { descriptor, emptyJson, manifestBytes, pushBlob, pushManifest } from '../support/oci-client.js';
import { type BuiltImage, buildImage, buildIndex, type Layer, tarGzLayer } from '../support/oci-layout.js';
import type { TestRegistry } from '../support/registry.js';
import { pushBuiltImage, pushBuiltIndex, startScanningRegistry } from '../support/scanning.js';
import { installStandin, type Standin } from '../support/trivy-standin.js';

/**
 * `images scan --wait` and `images vulns` as people and pipelines meet them: a spinner and aligned
 * tables on a terminal, indexes, every way a scan can end without findings, a rescan in progress,
 * and who may do what. The registry scans with the Trivy stand-in, which prints real Trivy reports.
 */

interface Report {
  digest: string;
  scan: { status: string; reason?: string; summary?: Record<string, number> };
  findings: {
    vulnerabilityId: string;
    severity: string;
    digest: string;
    platform?: { architecture: string };
  }[];
  failOn?: { severity: string; count: number };
}

const esc = String.fromCharCode(27);

describe('scan outcomes in the CLI', { timeout: 180_000 }, () => {
  let standin: Standin;
  let registry: TestRegistry;
  let admin: CliHome;
  let viewer: CliHome;
  let outsider: CliHome;
  let base: Layer;

  async function image(name: string): Promise<BuiltImage> {
    return buildImage([base, await tarGzLayer({ [`usr/bin/${name}`]: randomBytes(256).toString('hex') })]);
  }

  async function signIn(home: CliHome, username: string, password: string) {
    const login = await mistrive(
      home,
      ['auth', 'login', '--registry', registry.url, '--username', username, '--password-stdin'],
      { input: password },
    );
    expect(login.exitCode, login.stderr).toBe(0);
  }

  /** `mistrive ARGS` in a pseudo-terminal (stdin, stdout and stderr); what the terminal showed. */
  async function inTerminal(args: string[]): Promise<{ exitCode: number; screen: string }> {
    const command = `stty cols 160 rows 40; ${[process.execPath, cliBin, ...args].map((word) => `'${word}'`).join(' ')}`;
    const result = await execa('script', ['-qec', command, '/dev/null'], {
      env: { ...admin.env, TERM: 'xterm-256color', NO_COLOR: '1' },
      timeout: 60_000,
      extendEnv: false,
      cwd: repositoryRoot,
      reject: false,
    });
    return { exitCode: result.exitCode ?? -1, screen: String(result.stdout).replaceAll('\r\n', '\n') };
  }

  beforeAll(async () => {
    standin = await installStandin({ report: 'debian-buster.json' });
    registry = await startScanningRegistry(standin, { maxAttempts: 1 });
    const api = await adminClient(registry.url);
    await createProject(api, 'shop');
    await createRepository(api, 'shop', 'scanned', { scanning: true });
    await createUser(api, 'viewer@example.com', 'viewer-password-1');
    await createUser(api, 'outsider@example.com', 'outsider-password-1');
    await grant(api, '/api/v1/projects/shop/repositories/scanned', 'user:viewer@example.com', 'viewer');
    admin = await cliHome();
    viewer = await cliHome();
    outsider = await cliHome();
    await signIn(admin, 'admin', testAdminPassword);
    await signIn(viewer, 'viewer@example.com', 'viewer-password-1');
    await signIn(outsider, 'outsider@example.com', 'outsider-password-1');
    base = await tarGzLayer({
      'etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nID=debian\nVERSION_ID="10"\n',
    });
  });
  afterAll(async () => {
    await registry?.close();
    await standin?.remove();
    for (const home of [admin, viewer, outsider]) await home?.remove();
  });

  it('waits with a spinner on a terminal, then shows findings in an aligned table', async () => {
    await standin.configure({ report: 'debian-buster.json', mode: 'slow', delayMs: 1500 });
    const built = await image('api');
    await pushBuiltImage(registry.url, 'shop/scanned/api', 'v1', built);
    const digest = built.manifest.descriptor.digest;

    const scan = await inTerminal(['images', 'scan', 'shop/scanned/api:v1', '--wait']);
    expect(scan.exitCode, scan.screen).toBe(0);
    expect(scan.screen).toContain(`Scanning shop/scanned/api@${digest.slice(0, 19)}…`);
    expect(scan.screen).toMatch(/Scan: +succeeded\n/);
    expect(scan.screen).toMatch(/Found: +1 critical, 1 low\n/);
    expect(scan.screen).not.toMatch(new RegExp(`${esc}\\[(3|9)\\dm`));

    const vulns = await inTerminal(['images', 'vulns', 'shop/scanned/api:v1']);
    expect(vulns.exitCode, vulns.screen).toBe(0);
    const lines = vulns.screen.trimEnd().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^Found: +1 critical, 1 low$/));
    const at = lines.findIndex((line) => line.startsWith('SEVERITY'));
    const [header = '', critical = '', low = ''] = lines.slice(at, at + 3);
    expect(header).toMatch(/^SEVERITY +VULNERABILITY +PACKAGE +INSTALLED +FIXED IN +TITLE$/);
    expect(critical).toMatch(
      /^CRITICAL +CVE-2019-18224 +libidn2-0 +2\.0\.5-1 +2\.0\.5-1\+deb10u1 +libidn2: /,
    );
    expect(low).toMatch(/^LOW +CVE-2019-18276 +bash +5\.0-4 +bash: /);
    // Aligned: each value starts under its header.
    for (const [column, value, row] of [
      ['VULNERABILITY', 'CVE-2019-18224', critical],
      ['PACKAGE', 'libidn2-0', critical],
      ['FIXED IN', '2.0.5-1+deb10u1', critical],
      ['TITLE', 'libidn2:', critical],
      ['TITLE', 'bash:', low],
    ] as const) {
      expect(row.indexOf(value), `${column} in ${row}`).toBe(header.indexOf(column));
    }

    // Piped, the wait says nothing on stderr: no spinner.
    const piped = await mistrive(admin, ['images', 'scan', `shop/scanned/api@${digest}`, '--wait']);
    expect(piped.exitCode, piped.stderr).toBe(0);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toContain('Scan\tsucceeded\n');
  });

  it('filters by severities given as repeated flags or separated by commas', async () => {
    const ids = async (...flags: string[]) =>
      (await mistriveJson<Report>(admin, ['images', 'vulns', 'shop/scanned/api:v1', ...flags])).findings.map(
        (finding) => finding.vulnerabilityId,
      );
    expect(await ids('--severity', 'critical', '--severity', 'LOW')).toEqual([
      'CVE-2019-18224',
      'CVE-2019-18276',
    ]);
    expect(await ids('--severity', 'HIGH,critical')).toEqual(['CVE-2019-18224']);
    expect(await ids('--severity', 'HIGH', '--severity', 'MEDIUM')).toEqual([]);
  });

  it('shows the findings of each platform image of an index', async () => {
    await standin.configure({ report: 'debian-buster.json' });
    const amd64 = { architecture: 'amd64', os: 'linux' };
    const arm64 = { architecture: 'arm64', os: 'linux' };
    const index = buildIndex([
      { image: buildImage([base, await tarGzLayer({ 'bin/tool': 'amd64' })], amd64), platform: amd64 },
      { image: buildImage([base, await tarGzLayer({ 'bin/tool': 'arm64' })], arm64), platform: arm64 },
    ]);
    await pushBuiltIndex(registry.url, 'shop/scanned/multi', 'v1', index);
    await mistriveJson(admin, ['images', 'scan', 'shop/scanned/multi:v1', '--wait']);
    const report = await mistriveJson<Report>(admin, ['images', 'vulns', 'shop/scanned/multi:v1']);
    expect(report.findings.map((f) => [f.severity, f.platform?.architecture])).toEqual([
      ['CRITICAL', 'amd64'],
      ['CRITICAL', 'arm64'],
      ['LOW', 'amd64'],
      ['LOW', 'arm64'],
    ]);
    const piped = await mistrive(admin, ['images', 'vulns', 'shop/scanned/multi:v1']);
    expect(piped.stdout.split('\n').map((line) => line.split('\t')[5])).toEqual([
      'linux/amd64',
      'linux/arm64',
      'linux/amd64',
      'linux/arm64',
      undefined,
    ]);
    const gated = await mistrive(admin, [
      'images',
      'vulns',
      'shop/scanned/multi:v1',
      '--fail-on',
      'critical',
    ]);
    expect(gated.exitCode).toBe(10);
    expect(gated.stderr).toContain('2 vulnerabilities at CRITICAL or above in shop/scanned/multi@');
  });

  it('says why there is nothing to show while a scan runs, after it failed, or for an artifact', async () => {
    await standin.configure({ report: 'debian-buster.json', mode: 'slow', delayMs: 6000 });
    const pending = await image('pending');
    await pushBuiltImage(registry.url, 'shop/scanned/pending', 'v1', pending);
    const running = await mistrive(admin, ['images', 'vulns', 'shop/scanned/pending:v1', '--fail-on', 'LOW']);
    expect(running.exitCode).toBe(6);
    expect(running.stderr).toMatch(
      /Error: the scan of shop\/scanned\/pending@sha256:[0-9a-f]{64} is not finished yet \((queued|scanning)\)/,
    );
    expect(running.stderr).toContain('Hint: wait for it: `mistrive images scan shop/scanned/pending@');
    // Waiting for the scan that runs does not start another one.
    expect((await mistrive(admin, ['images', 'scan', 'shop/scanned/pending:v1', '--wait'])).exitCode).toBe(0);
    const layouts = (await standin.log()).filter(
      (entry) =>
        entry.event === 'layout' &&
        entry.blobs?.some(
          (blob) => blob.what === 'manifest' && blob.digest === pending.manifest.descriptor.digest,
        ),
    );
    expect(layouts).toHaveLength(1);

    // Random bytes are not a layer: the stand-in refuses the image, as Trivy would.
    await standin.configure({ report: 'debian-buster.json' });
    await pushImageAs(registry.url, 'shop/scanned/broken', 'v1', {
      kind: 'bearer',
      token: registry.adminToken,
    });
    const failed = await mistrive(admin, ['images', 'scan', 'shop/scanned/broken:v1', '--wait']);
    expect(failed.exitCode).toBe(6);
    expect(failed.stderr).toMatch(/Error: the scan of shop\/scanned\/broken@sha256:[0-9a-f]{64} failed: \S/);
    expect(failed.stderr).toContain('Hint: try again: `mistrive images scan shop/scanned/broken@');
    const failedReport = await mistrive(admin, ['images', 'vulns', 'shop/scanned/broken:v1', '--json']);
    expect(failedReport.exitCode).toBe(6);
    expect(JSON.parse(failedReport.stderr).error).toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/failed: /),
    });

    const name = 'shop/scanned/chart';
    await pushBlob(registry.url, name, emptyJson);
    const layer = randomBytes(64);
    await pushBlob(registry.url, name, layer);
    await pushManifest(
      registry.url,
      name,
      'v1',
      manifestBytes({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'application/vnd.example.chart.v1',
        config: descriptor('application/vnd.oci.empty.v1+json', emptyJson),
        layers: [descriptor('application/vnd.example.chart.layer.v1+tar', layer)],
      }),
    );
    const chart = await mistrive(admin, ['images', 'vulns', 'shop/scanned/chart:v1']);
    expect(chart.exitCode).toBe(6);
    expect(chart.stderr).toContain('cannot be scanned: not a container image');
    const rescan = await mistrive(admin, ['images', 'scan', 'shop/scanned/chart:v1']);
    expect(rescan.exitCode).toBe(6);
    expect(rescan.stderr).toContain('cannot be scanned: not a container image');
  });

  it('names a scanner the registry cannot run', async () => {
    const off = `${standin.path}.off`;
    await rename(standin.path, off);
    try {
      const result = await mistrive(admin, ['images', 'scan', 'shop/scanned/api:v1', '--wait']);
      expect(result.exitCode).toBe(6);
      expect(result.stderr).toMatch(
        /Error: the registry could not run its scanner for shop\/scanned\/api@sha256:/,
      );
      expect(result.stderr).toContain('Installing Trivy');
    } finally {
      await rename(off, standin.path);
    }
    // The findings of the scan before stay visible, marked as not up to date; they gate nothing clean.
    const stale = await mistrive(admin, ['images', 'vulns', 'shop/scanned/api:v1', '--json']);
    expect(stale.exitCode, stale.stderr).toBe(0);
    expect((JSON.parse(stale.stdout) as Report).findings).toHaveLength(2);
    expect(stale.stderr).toMatch(
      /^Not up to date: the latest scan of shop\/scanned\/api@sha256:[0-9a-f]{64} could not run the scanner: /,
    );
    // What the older scan found still fails a gate; it cannot pass one.
    const found = await mistrive(admin, ['images', 'vulns', 'shop/scanned/api:v1', '--fail-on', 'CRITICAL']);
    expect(found.exitCode).toBe(10);
    await standin.configure({ report: 'alpine-310.json' });
    await mistriveJson(admin, ['images', 'scan', 'shop/scanned/api:v1', '--wait']);
    await standin.configure({ report: 'alpine-310.json', mode: 'slow', delayMs: 6000 });
    await mistriveJson(admin, ['images', 'scan', 'shop/scanned/api:v1']);
    const clean = await mistrive(admin, ['images', 'vulns', 'shop/scanned/api:v1', '--fail-on', 'HIGH']);
    expect(clean.exitCode, clean.stderr).toBe(6);
    expect(clean.stderr).toMatch(/is not finished yet \((queued|scanning)\)/);
  });

  it('lets a viewer read reports but not ask for scans, and hides the repository from others', async () => {
    const read = await mistriveJson<Report>(viewer, ['images', 'vulns', 'shop/scanned/multi:v1']);
    expect(read.findings).toHaveLength(4);
    const denied = await mistrive(viewer, ['images', 'scan', 'shop/scanned/multi:v1']);
    expect(denied.exitCode).toBe(4);
    expect(denied.stderr).toContain('editor');
    const hidden = await mistrive(outsider, ['images', 'vulns', 'shop/scanned/multi:v1']);
    expect(hidden.exitCode).toBe(5);
    expect(hidden.stderr).toContain('repository shop/scanned not found');
  });
});
