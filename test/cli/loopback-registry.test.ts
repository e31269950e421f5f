import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  guessedHttps,
  looksLikeRegistry,
  sameHost,
  sameRegistry,
} from '../../src/cli/credentials/registry-url.js';
import { explainHttpsGuess, isLoopbackAddress } from '../../src/cli/registry-scheme.js';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliHome, credentialHelper, mistrive, mistriveJson } from '../support/cli.js';
import { pushImage } from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

/** `localhost`, `127.0.0.1` and `[::1]` of one port are one registry to the CLI and the credential helper. */

describe('registry identity (in process)', () => {
  it.each([
    ['http://localhost:5000', 'http://127.0.0.1:5000', true, true],
    ['http://[::1]:5000', 'http://127.0.0.1:5000', true, true],
    ['http://LOCALHOST:5000', 'http://[::1]:5000', true, true],
    ['http://localhost:5000', 'http://localhost:5001', false, false],
    // Docker names registries by host alone: the scheme only tells two registries apart.
    ['http://localhost:5000', 'https://localhost:5000', false, true],
    ['http://127.0.0.2:5000', 'http://127.0.0.1:5000', false, false],
    ['https://vm:5000', 'https://127.0.0.1:5000', false, false],
    ['https://r.example.com', 'https://r.example.com', true, true],
  ])('%s and %s: same registry %s, same Docker host %s', (a, b, registry, host) => {
    expect(sameRegistry(a, b)).toBe(registry);
    expect(sameHost(new URL(a).host, new URL(b).host)).toBe(host);
  });

  it('takes a bare non-loopback host as https, and says why when it resolves to loopback', () => {
    expect(guessedHttps('vm:5000')).toBe('https://vm:5000');
    expect(guessedHttps('localhost:5000')).toBeUndefined();
    expect(guessedHttps('http://vm:5000')).toBeUndefined();
    expect(guessedHttps('https://vm:5000')).toBeUndefined();
    expect(explainHttpsGuess('https://vm:5000', ['127.0.0.1'])).toBe(
      'vm:5000 was taken as https://vm:5000: vm resolves to 127.0.0.1, a loopback address, but only the names localhost, 127.0.0.1 and [::1] mean plain http without a scheme',
    );
    expect(explainHttpsGuess('https://r.example.com:5000', ['192.0.2.1'])).toBe(
      'r.example.com:5000 was taken as https://r.example.com:5000: only the names localhost, 127.0.0.1 and [::1] mean plain http without a scheme',
    );
    expect(['127.0.1.1', '::1', '::ffff:127.0.0.1', '[::1]'].every(isLoopbackAddress)).toBe(true);
    expect(['10.0.0.1', '::2', 'localhost'].some(isLoopbackAddress)).toBe(false);
  });

  it('tells a registry address from an account name', () => {
    for (const text of ['127.0.0.1:5000', 'localhost', 'localhost:5000', 'r.example.com', 'http://vm:5000'])
      expect(looksLikeRegistry(text), text).toBe(true);
    for (const text of ['admin', 'alice@example.com', 'ci@shop.iam.mistrive'])
      expect(looksLikeRegistry(text), text).toBe(false);
  });
});

describe('one registry under its loopback names', { timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let port: string;
  let home: CliHome;

  beforeAll(async () => {
    registry = await startTestRegistry({ autoCreateRepositories: true });
    port = new URL(registry.url).port;
    expect(new URL(registry.url).hostname).toBe('127.0.0.1');
    await pushImage(registry.url, 'shop/images/app', 'v1');
  });
  afterAll(async () => {
    await registry?.close();
  });
  beforeEach(async () => {
    home = await cliHome();
  });
  afterEach(async () => {
    await home.remove();
  });

  async function signIn(registryName: string) {
    const result = await mistrive(
      home,
      ['auth', 'login', '--registry', registryName, '--username', 'admin', '--password-stdin'],
      { input: testAdminPassword },
    );
    expect(result.exitCode, result.stderr).toBe(0);
  }

  it('signed in to 127.0.0.1, describes localhost images, and the helper answers every loopback name', async () => {
    await signIn(`127.0.0.1:${port}`);
    const described = await mistrive(home, ['images', 'describe', `localhost:${port}/shop/images/app:v1`]);
    expect(described.exitCode, described.stderr).toBe(0);
    const token = (await mistrive(home, ['auth', 'print-access-token'])).stdout.trim();
    const viaLocalhost = await mistrive(home, [
      'auth',
      'print-access-token',
      '--registry',
      `localhost:${port}`,
    ]);
    expect(viaLocalhost).toMatchObject({ exitCode: 0, stdout: `${token}\n` });
    for (const host of [`localhost:${port}`, `[::1]:${port}`, `127.0.0.1:${port}`]) {
      const answer = await credentialHelper(home, ['get'], host);
      expect(answer).toMatchObject({
        exitCode: 0,
        stdout: `{"ServerURL":"${host}","Username":"oauth2accesstoken","Secret":"${token}"}\n`,
      });
    }
  });

  it('signing in under another loopback name replaces the session instead of adding a registry', async () => {
    await signIn(`127.0.0.1:${port}`);
    await signIn(`localhost:${port}`);
    const { accounts } = await mistriveJson<{ accounts: { registry: string; account: string }[] }>(home, [
      'auth',
      'list',
    ]);
    expect(accounts).toEqual([expect.objectContaining({ registry: registry.url, account: 'admin' })]);
    const logout = await mistrive(home, ['auth', 'logout', '--registry', `localhost:${port}`]);
    expect(logout.exitCode, logout.stderr).toBe(0);
    expect((await mistriveJson<{ accounts: unknown[] }>(home, ['auth', 'list'])).accounts).toEqual([]);
  });

  it('print-access-token and logout take a registry host as their argument, as --registry', async () => {
    await signIn(`127.0.0.1:${port}`);
    const token = (await mistrive(home, ['auth', 'print-access-token'])).stdout.trim();
    expect(await mistrive(home, ['auth', 'print-access-token', `localhost:${port}`])).toEqual({
      exitCode: 0,
      stdout: `${token}\n`,
      stderr: '',
    });
    const both = await mistrive(home, [
      'auth',
      'print-access-token',
      `localhost:${port}`,
      '--registry',
      registry.url,
    ]);
    expect(both).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: `Error: "localhost:${port}" is a registry address, and --registry names one already\nHint: give the account to use as the argument, and the registry with --registry\n`,
    });
    const nobody = await mistrive(home, ['auth', 'print-access-token', 'nobody@example.com']);
    expect(nobody.exitCode).toBe(3);
    expect(nobody.stderr).toContain(`there is no account nobody@example.com for ${registry.url}`);
    const logout = await mistrive(home, ['auth', 'logout', `localhost:${port}`, '--json']);
    expect(logout.exitCode, logout.stderr).toBe(0);
    expect(JSON.parse(logout.stdout)).toMatchObject({ account: 'admin', revoked: true });
  });

  it('configure-docker warns for a host no account can answer for, and not for a loopback alias', async () => {
    await signIn(`127.0.0.1:${port}`);
    const aliased = await mistrive(home, ['auth', 'configure-docker', `localhost:${port}`, '--json']);
    expect(aliased.exitCode, aliased.stderr).toBe(0);
    expect(JSON.parse(aliased.stdout)).toMatchObject({ withoutAccount: [] });
    expect(aliased.stderr).toBe('');
    const other = await mistrive(home, ['auth', 'configure-docker', 'registry.example.com']);
    expect(other.exitCode).toBe(0);
    expect(other.stderr).toBe(
      'Warning: no account can answer for registry.example.com yet, so Docker gets no credentials for it: sign in with `mistrive auth login --registry registry.example.com` (or set MISTRIVE_KEY).\n',
    );
  });

  it('explains the https taken for a name that resolves to loopback', async () => {
    // This machine's own name resolves to a loopback address here, as `vm` did where the problem was found.
    const name = hostname();
    const addresses = (await lookup(name, { all: true })).map((entry) => entry.address);
    expect(addresses.some(isLoopbackAddress), `${name} resolves to ${addresses.join(', ')}`).toBe(true);
    const result = await mistrive(home, ['auth', 'login', '--registry', `${name}:${port}`, '--no-browser']);
    expect(result.exitCode).toBe(7);
    expect(result.stderr).toContain(`Error: cannot reach the registry at https://${name}:${port} (`);
    expect(result.stderr).toContain(
      `; ${name}:${port} was taken as https://${name}:${port}: ${name} resolves to ${addresses.find(isLoopbackAddress)}, a loopback address, but only the names localhost, 127.0.0.1 and [::1] mean plain http without a scheme\n`,
    );
    expect(result.stderr).toContain(
      `Hint: if the registry serves plain HTTP, name it with its scheme: --registry http://${name}:${port}\n`,
    );
    const plain = await mistrive(
      home,
      ['auth', 'login', '--registry', `http://${name}:${port}`, '--username', 'admin', '--password-stdin'],
      { input: testAdminPassword },
    );
    expect(plain.exitCode, plain.stderr).toBe(0);
  });
});
