import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installCaCertificate } from '../../src/cli/auth/ca-certificates.js';
import { createContext } from '../../src/cli/context.js';
import { createCertificateAuthority } from '../../src/server/tls/certificates.js';
import { type CliHome, cliHome } from '../support/cli.js';

/** `auth configure-docker --ca-cert` for a user who is not root: what it writes, and what it asks of sudo. */
describe('installing a registry CA certificate without root', () => {
  let home: CliHome;
  beforeEach(async () => {
    home = await cliHome();
  });
  afterEach(async () => {
    await home.remove();
  });

  it('writes it for the CLI and the containers tools, and hands back the sudo command for Docker', async () => {
    const ca = (await createCertificateAuthority('install test', new Date())).certificate;
    const context = createContext(home.env);
    const [installed] = await installCaCertificate(context, ['registry.example.com:5000'], ca, false);
    const forCli = join(home.configDir, 'certs.d', 'registry.example.com:5000', 'ca.crt');
    const forContainers = join(
      home.path,
      '.config',
      'containers',
      'certs.d',
      'registry.example.com:5000',
      'ca.crt',
    );
    expect(installed).toEqual({
      host: 'registry.example.com:5000',
      written: [forCli, forContainers],
      dockerCommand: `sudo mkdir -p /etc/docker/certs.d/registry.example.com:5000 && sudo cp ${forContainers} /etc/docker/certs.d/registry.example.com:5000/ca.crt`,
    });
    for (const path of installed?.written ?? []) {
      expect(await readFile(path, 'utf8')).toBe(ca);
      expect((await stat(path)).mode & 0o777).toBe(0o644);
    }
  });
});
