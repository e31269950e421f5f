import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliHome, mistrive, mistriveJson, serviceAccountKey } from '../support/cli.js';
import { runClient } from '../support/client-run.js';
import { buildImage, readOciLayout, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import { podmanIn } from '../support/podman.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { runSkopeo } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';

/**
 * `mistrive serve --tls self-signed` with the clients people use: curl with --cacert, skopeo and
 * podman with --cert-dir, and the CLI and its credential helper trusting the CA it was given.
 */

let work: Awaited<ReturnType<typeof tempDir>>;
let daemon: Daemon;
let ca: string;
/** A directory holding only `ca.crt`, as `--cert-dir` wants. */
let certDir: string;
let caFile: string;
/** `localhost:PORT`: a name the certificate holds. */
let host: string;
let layout: string;
const installed: string[] = [];

beforeAll(async () => {
  work = await tempDir('mistrive-e2e-tls-');
  const dataDir = join(work.path, 'data');
  daemon = await startDaemon(
    dataDir,
    ['--auto-create-repositories', '--tls', 'self-signed', '--tls-names', 'localhost,127.0.0.1'],
    {},
    { signIn: false },
  );
  host = `localhost:${new URL(daemon.url).port}`;
  ca = await readFile(join(dataDir, 'tls', 'ca.crt'), 'utf8');
  certDir = join(work.path, 'certs');
  await mkdir(certDir);
  caFile = join(certDir, 'ca.crt');
  await writeFile(caFile, ca);
  layout = join(work.path, 'layout');
  await writeOciLayout(layout, 'v1', buildImage([await tarGzLayer({ 'bin/app': randomBytes(32 * 1024) })]));
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  // `auth configure-docker --ca-cert` as root installs for the Docker engine too.
  for (const path of installed) await rm(path, { recursive: true, force: true });
  await work?.remove();
});

function curl(args: readonly string[]) {
  return runClient('curl', ['-sS', ...args], { PATH: process.env.PATH ?? '/usr/bin:/bin' });
}

/** skopeo with a home of its own (no blob-info cache shared between runs). */
const skopeo = (args: readonly string[]) => runSkopeo(args).done;

describe('mistrive serve --tls self-signed with real clients', { timeout: 300_000 }, () => {
  it('prints where the CA certificate is and the steps for Docker, podman/skopeo/buildah, curl and mistrive', () => {
    const out = daemon.stdout();
    const port = new URL(daemon.url).port;
    expect(out).toMatch(/listening on https:\/\/127\.0\.0\.1:\d+/);
    expect(out).toContain(`The CA certificate is ${join(work.path, 'data', 'tls', 'ca.crt')} (SHA-256 `);
    expect(out).toContain(`/etc/docker/certs.d/localhost:${port}/ca.crt`);
    expect(out).toContain(`~/.config/containers/certs.d/localhost:${port}/ca.crt`);
    expect(out).toContain(`curl --cacert ca.crt https://localhost:${port}/v2/`);
    expect(out).toContain(`mistrive auth configure-docker localhost:${port} --ca-cert ca.crt`);
  });

  it('curl trusts the registry with --cacert and refuses it without', async () => {
    const trusted = await curl([
      '--cacert',
      caFile,
      '-D',
      '-',
      '-u',
      `admin:${testAdminPassword}`,
      `https://${host}/v2/`,
    ]);
    expect(trusted.exitCode, trusted.all).toBe(0);
    expect(trusted.all).toMatch(/^HTTP\/1\.1 200/);
    expect(trusted.all.toLowerCase()).toContain('strict-transport-security: max-age=31536000');
    const untrusted = await curl([`https://${host}/v2/`]);
    // 60: the peer certificate cannot be authenticated with known CA certificates.
    expect(untrusted.exitCode).toBe(60);
  });

  it('skopeo pushes and pulls with --cert-dir, verifying the certificate, and refuses without the CA', async () => {
    const reference = `docker://${host}/tls/skopeo/app:v1`;
    const creds = `admin:${testAdminPassword}`;
    const refused = await skopeo([
      'copy',
      '--retry-times=0',
      '--dest-creds',
      creds,
      `oci:${layout}:v1`,
      reference,
    ]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.all).toMatch(/certificate signed by unknown authority/);

    const pushed = await skopeo([
      'copy',
      '--preserve-digests',
      '--retry-times=0',
      '--dest-tls-verify=true',
      '--dest-cert-dir',
      certDir,
      '--dest-creds',
      creds,
      `oci:${layout}:v1`,
      reference,
    ]);
    expect(pushed.exitCode, pushed.all).toBe(0);
    const copy = join(work.path, 'skopeo-copy');
    const pulled = await skopeo([
      'copy',
      '--preserve-digests',
      '--retry-times=0',
      '--src-tls-verify=true',
      '--src-cert-dir',
      certDir,
      '--src-creds',
      creds,
      reference,
      `oci:${copy}:v1`,
    ]);
    expect(pulled.exitCode, pulled.all).toBe(0);
    expect((await readOciLayout(copy, 'v1')).root.digest).toBe(
      (await readOciLayout(layout, 'v1')).root.digest,
    );
  });

  it('podman signs in, pushes and pulls with --cert-dir', async () => {
    const podman = podmanIn(join(work.path, 'podman'));
    const login = await podman(
      ['login', '--cert-dir', certDir, '--username', 'admin', '--password-stdin', host],
      testAdminPassword,
    );
    expect(login.exitCode, login.all).toBe(0);
    const pulledFromSkopeo = `${host}/tls/skopeo/app:v1`;
    const pulled = await podman(['pull', '--cert-dir', certDir, pulledFromSkopeo]);
    expect(pulled.exitCode, pulled.all).toBe(0);
    const tagged = await podman(['tag', pulledFromSkopeo, `${host}/tls/podman/app:v1`]);
    expect(tagged.exitCode, tagged.all).toBe(0);
    const pushed = await podman(['push', '--cert-dir', certDir, `${host}/tls/podman/app:v1`]);
    expect(pushed.exitCode, pushed.all).toBe(0);
    const withoutCa = await podman(['pull', `${host}/tls/podman/app:v1`]);
    expect(withoutCa.exitCode).not.toBe(0);
    expect(withoutCa.all).toMatch(/certificate signed by unknown authority/);
  });

  describe('the CLI and the credential helper', () => {
    let admin: CliHome;
    beforeAll(async () => {
      admin = await cliHome();
    });
    afterAll(async () => {
      await admin?.remove();
    });

    it('auth login refuses an untrusted certificate with the fix, and with --ca-cert signs in and keeps trusting the CA', async () => {
      const login = (extra: string[]) =>
        mistrive(
          admin,
          [
            'auth',
            'login',
            '--registry',
            `https://${host}`,
            '--username',
            'admin',
            '--password-stdin',
            ...extra,
          ],
          { input: testAdminPassword },
        );
      const refused = await login([]);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toContain(`cannot trust the certificate of the registry at https://${host}`);
      expect(refused.stderr).toContain('--ca-cert ca.crt');

      const signedIn = await login(['--ca-cert', caFile]);
      expect(signedIn.exitCode, signedIn.stderr).toBe(0);
      expect(await readFile(join(admin.configDir, 'certs.d', host, 'ca.crt'), 'utf8')).toBe(ca);
      // Later commands trust it without being told again.
      await mistriveJson(admin, ['projects', 'create', 'shop']);
      await mistriveJson(admin, ['repos', 'create', 'images', '--project', 'shop']);
      const projects = await mistriveJson<{ id: string }[]>(admin, ['projects', 'list']);
      expect(JSON.stringify(projects)).toContain('shop');
    });

    it('refuses a --ca-cert that is not a CA certificate', async () => {
      const serverCertificate = join(work.path, 'data', 'tls', 'server.crt');
      const result = await mistrive(admin, [
        'auth',
        'configure-docker',
        host,
        '--ca-cert',
        serverCertificate,
      ]);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain(`${serverCertificate} is not a CA certificate`);
    });

    it('configure-docker --ca-cert installs the CA for the containers tools, Docker and the helper: skopeo pushes with a service-account key and no flag', async () => {
      const key = await serviceAccountKey(admin, {
        project: 'shop',
        name: 'ci',
        keyFile: join(work.path, 'ci-key.json'),
        editorOf: 'shop/images',
      });

      const ci = await cliHome();
      try {
        installed.push(join('/etc/docker/certs.d', host));
        const configured = await mistriveJson<{ caCertificates: { host: string; written: string[] }[] }>(ci, [
          'auth',
          'configure-docker',
          host,
          '--ca-cert',
          caFile,
        ]);
        const containers = join(ci.path, '.config', 'containers', 'certs.d', host, 'ca.crt');
        expect(configured.caCertificates).toEqual([
          {
            host,
            written: [
              join(ci.configDir, 'certs.d', host, 'ca.crt'),
              containers,
              `/etc/docker/certs.d/${host}/ca.crt`,
            ],
            dockerCommand: undefined,
          },
        ]);
        for (const path of configured.caCertificates[0]?.written ?? [])
          expect(await readFile(path, 'utf8')).toBe(ca);

        // No --cert-dir, no credentials: skopeo reads the CA from ~/.config/containers/certs.d, and the
        // helper exchanges the key for a token over HTTPS, trusting the CA from the CLI's certs.d.
        const pushed = await execa(
          'skopeo',
          [
            '--insecure-policy',
            'copy',
            '--preserve-digests',
            '--retry-times=0',
            `oci:${layout}:v1`,
            `docker://${host}/shop/images/app:ci`,
          ],
          {
            env: { ...ci.env, _CONTAINERS_ROOTLESS_UID: '65534', MISTRIVE_KEY: key },
            extendEnv: false,
            reject: false,
            all: true,
            timeout: 120_000,
          },
        );
        expect(pushed.exitCode, String(pushed.all)).toBe(0);
      } finally {
        await ci.remove();
      }
    });
  });
});
