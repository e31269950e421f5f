import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliHome, mistrive, mistriveJson, signIn } from '../support/cli.js';
import { type Dockerd, startDockerd } from '../support/dockerd.js';
import { buildImage, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import { podmanIn } from '../support/podman.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { pullLayout, pushLayout } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';
import { installStandin, type Standin } from '../support/trivy-standin.js';

/**
 * Rate limits and security policies with the real daemon and real clients: `curl -I` shows the
 * RateLimit headers, a burst gets 429 and gets in again after Retry-After; a blocked pull shows the
 * policy and the worst finding in skopeo's, podman's and docker's own error output.
 */

let work: Awaited<ReturnType<typeof tempDir>>;
let standin: Standin;
let daemon: Daemon;
let admin: CliHome;
let host: string;
const manifestType = 'application/vnd.oci.image.manifest.v1+json';

async function cli(args: string[]) {
  const result = await mistrive(admin, args);
  expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** `curl -sI` of the image's manifest, anonymously: the status line and the headers. */
async function curlHead(reference = 'v1'): Promise<{ status: number; headers: string }> {
  const result = await execa('curl', [
    '-sI',
    '-H',
    `Accept: ${manifestType}`,
    `http://${host}/v2/burst/app/api/manifests/${reference}`,
  ]);
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(result.stdout)?.[1]), headers: result.stdout };
}

beforeAll(async () => {
  work = await tempDir('mistrive-e2e-limits-');
  standin = await installStandin({ report: 'debian-buster.json', version: '0.58.1' });
  const config = join(work.path, 'serve.yaml');
  await writeFile(
    config,
    [
      'rateLimits:',
      '  enabled: true',
      'scanning:',
      '  pollInterval: 100ms',
      '  trivy:',
      `    path: ${standin.path}`,
      '',
    ].join('\n'),
  );
  daemon = await startDaemon(join(work.path, 'data'), ['--config', config, '--no-auto-create-repositories']);
  host = new URL(daemon.url).host;
  admin = await cliHome();
  await signIn(admin, daemon.url, 'admin', testAdminPassword);
  for (const project of ['burst', 'sec']) {
    await cli(['projects', 'create', project]);
    await cli(['repos', 'create', 'app', '--project', project, '--scanning']);
    await cli([
      'projects',
      'add-iam-policy-binding',
      project,
      '--member',
      'allUsers',
      '--role',
      'artifactstore.viewer',
    ]);
  }
  const base = await tarGzLayer({
    'etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nID=debian\nVERSION_ID="10"\n',
    'var/lib/dpkg/status': 'Package: libidn2-0\nStatus: install ok installed\nVersion: 2.0.5-1\n',
  });
  const layout = join(work.path, 'layout');
  await writeOciLayout(layout, 'v1', buildImage([base, await tarGzLayer({ 'bin/app': randomBytes(4096) })]));
  await pushLayout(daemon.url, layout, 'v1', 'burst/app/api');
  await pushLayout(daemon.url, layout, 'v1', 'sec/app/api');
}, 120_000);
afterAll(async () => {
  await daemon?.stop();
  await standin?.remove();
  await admin?.remove();
  await work?.remove();
});

describe('rate limits through curl', { timeout: 120_000 }, () => {
  it('shows the headers on a manifest HEAD, refuses a burst with 429, and lets the client in after Retry-After', async () => {
    const set = await mistriveJson<{ rateLimits: { effective: { pull: string } } }>(admin, [
      'projects',
      'update',
      'burst',
      '--pull-rate',
      '3/15s',
    ]);
    expect(set.rateLimits.effective.pull).toBe('3/15s');

    const first = await curlHead();
    expect(first.status).toBe(200);
    expect(first.headers).toMatch(/^RateLimit-Policy: "pull";q=3;w=15\r$/m);
    expect(first.headers).toMatch(/^RateLimit: "pull";r=2;t=\d+\r$/m);

    // A burst at once: one token comes back every 5 s, so most of it is refused.
    const burst = await Promise.all(Array.from({ length: 6 }, () => curlHead()));
    expect(burst.every((answer) => answer.status === 200 || answer.status === 429)).toBe(true);
    const refused = burst.find((answer) => answer.status === 429);
    expect(refused?.headers).toMatch(/^RateLimit: "pull";r=0;t=\d+\r$/m);
    const retryAfter = Number(/^Retry-After: (\d+)\r$/m.exec(refused?.headers ?? '')?.[1]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    const body = await execa('curl', ['-s', `http://${host}/v2/burst/app/api/manifests/v1`], {
      reject: false,
    });
    expect(body.stdout).toMatch(/"code":"TOOMANYREQUESTS"/);

    await sleep(retryAfter * 1000 + 200);
    expect((await curlHead()).status).toBe(200);

    const cleared = await mistriveJson<{ rateLimits: { overrides: object; effective: { pull: string } } }>(
      admin,
      ['projects', 'update', 'burst', '--pull-rate', 'default'],
    );
    expect(cleared.rateLimits.overrides).toEqual({});
    expect(cleared.rateLimits.effective.pull).toBe('unlimited');
  });
});

describe('a security policy as real clients see it', { timeout: 240_000 }, () => {
  let dockerd: Dockerd;
  const blocked =
    /denied: pull blocked by the security policy of repository sec\/app: .*the worst is CVE-2019-18224 \(CRITICAL\) in libidn2-0/;

  beforeAll(async () => {
    const scan = await mistriveJson<{ scan: { status: string } }>(admin, [
      'images',
      'scan',
      'sec/app/api:v1',
      '--wait',
    ]);
    expect(scan.scan.status).toBe('succeeded');
    const updated = await mistriveJson<{ securityPolicy: { effective: { blockSeverity: string } } }>(admin, [
      'repos',
      'update',
      'sec/app',
      '--block-severity',
      'HIGH',
    ]);
    expect(updated.securityPolicy.effective.blockSeverity).toBe('HIGH');
    dockerd = await startDockerd();
  }, 120_000);
  afterAll(async () => {
    await dockerd?.stop();
  });

  it('skopeo shows the policy and the worst finding; the owner still pulls', async () => {
    const refused = await pullLayout(daemon.url, 'sec/app/api', 'v1', join(work.path, 'pulled'), {
      credentials: false,
    }).catch((error: Error) => error.message);
    expect(refused).toMatch(blocked);
    await pullLayout(daemon.url, 'sec/app/api', 'v1', join(work.path, 'owner-pulled'));
  });

  it('podman shows the policy and the worst finding', async () => {
    const root = join(work.path, 'podman');
    await mkdir(root, { recursive: true });
    await writeFile(join(root, 'auth.json'), '{"auths":{}}');
    const podman = podmanIn(root);
    const pulled = await podman(['pull', '--tls-verify=false', `${host}/sec/app/api:v1`]);
    expect(pulled.exitCode).not.toBe(0);
    expect(pulled.all).toMatch(blocked);
  });

  it('docker shows the policy and the worst finding', async () => {
    const pulled = await dockerd.docker(['pull', `${host}/sec/app/api:v1`]);
    expect(pulled.exitCode).not.toBe(0);
    expect(pulled.all).toMatch(blocked);
  });

  it('images describe says the image is not pullable, and why', async () => {
    const described = await cli(['images', 'describe', 'sec/app/api:v1']);
    expect(described).toMatch(/no: the policy blocks images with vulnerabilities of severity HIGH or worse/);
    const json = await mistriveJson<{ digests: { pullPolicy: { pullable: boolean } }[] }>(admin, [
      'images',
      'describe',
      'sec/app/api:v1',
    ]);
    expect(json.digests[0]?.pullPolicy.pullable).toBe(false);
  });
});
