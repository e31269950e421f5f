import { rm } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliHome, mistriveJson } from '../support/cli.js';
import { type Dockerd, startDockerd } from '../support/dockerd.js';
import { tarGzLayer } from '../support/oci-layout.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { tempDir } from '../support/temp.js';

/**
 * A real Docker engine pushing to and pulling from `mistrive serve --tls self-signed`, trusting the
 * registry's CA through /etc/docker/certs.d as `mistrive auth configure-docker --ca-cert` installs it.
 * Docker skips certificate checks for loopback registries (it treats 127.0.0.0/8 as insecure), so the
 * registry listens on this machine's own network address, where Docker verifies the certificate.
 */

/** An IPv4 address of this machine that is not loopback. */
function networkAddress(): string {
  const found = Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .find((entry) => entry.family === 'IPv4' && !entry.internal);
  if (!found) throw new Error('this machine has no IPv4 address besides loopback');
  return found.address;
}

let work: Awaited<ReturnType<typeof tempDir>>;
let daemon: Daemon;
let dockerd: Dockerd;
let home: CliHome;
let host: string;

beforeAll(async () => {
  work = await tempDir('mistrive-e2e-tls-docker-');
  const address = networkAddress();
  daemon = await startDaemon(
    join(work.path, 'data'),
    ['--auto-create-repositories', '--host', address, '--tls', 'self-signed', '--tls-names', address],
    {},
    { signIn: false },
  );
  host = new URL(daemon.url).host;
  dockerd = await startDockerd();
  home = await cliHome();
}, 120_000);

afterAll(async () => {
  if (host) await rm(join('/etc/docker/certs.d', host), { recursive: true, force: true });
  await dockerd?.stop();
  await daemon?.stop();
  await home?.remove();
  await work?.remove();
});

describe('docker with a registry that has its own CA', { timeout: 300_000 }, () => {
  const login = () =>
    dockerd.docker(['login', '--username', 'admin', '--password-stdin', host], testAdminPassword);

  it('refuses the registry until its CA is installed, then signs in, pushes and pulls over verified HTTPS', async () => {
    const refused = await login();
    expect(refused.exitCode).not.toBe(0);
    expect(refused.all).toMatch(/x509: certificate signed by unknown authority/);

    const installed = await mistriveJson<{ caCertificates: { written: string[] }[] }>(home, [
      'auth',
      'configure-docker',
      host,
      '--ca-cert',
      join(work.path, 'data', 'tls', 'ca.crt'),
    ]);
    expect(installed.caCertificates[0]?.written).toContain(`/etc/docker/certs.d/${host}/ca.crt`);

    const signedIn = await login();
    expect(signedIn.exitCode, signedIn.all).toBe(0);
    const image = `${host}/tls/docker/hello:v1`;
    const tar = (await tarGzLayer({ 'hello.txt': 'hello over https\n' })).bytes;
    const imported = await dockerd.docker(['import', '-', image], tar);
    expect(imported.exitCode, imported.all).toBe(0);
    const pushed = await dockerd.docker(['push', image]);
    expect(pushed.exitCode, pushed.all).toBe(0);
    const removed = await dockerd.docker(['rmi', image]);
    expect(removed.exitCode, removed.all).toBe(0);
    const pulled = await dockerd.docker(['pull', image]);
    expect(pulled.exitCode, pulled.all).toBe(0);
    expect(pulled.all).toContain(`Downloaded newer image for ${image}`);
  });
});
