import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { approveDeviceInBrowser, authorizeInBrowser, type BrowserPerson } from '../support/browser.js';
import {
  browserLauncher,
  type CliHome,
  cliHome,
  mistrive,
  mistriveJson,
  startMistrive,
} from '../support/cli.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { waitFor } from '../support/wait.js';

/**
 * Signing in end to end: the built CLI against a real registry, with real headless Chromium going
 * through the registry's sign-in, consent and device pages.
 */

const admin = { login: 'admin', password: testAdminPassword };

interface AccountRow {
  registry: string;
  account: string;
  kind: string;
  active: boolean;
  tokenExpiresAt: string;
  credentialStore: string;
}

describe('mistrive auth login', { timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let home: CliHome;

  beforeAll(async () => {
    registry = await startTestRegistry();
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

  /** `auth login` with MISTRIVE_BROWSER driving Chromium as `person`. */
  function browserLogin(person: BrowserPerson, extraArgs: string[] = []) {
    const log = join(home.path, 'browser.log');
    const cli = startMistrive(home, ['auth', 'login', '--registry', registry.url, ...extraArgs], {
      MISTRIVE_BROWSER: browserLauncher,
      MISTRIVE_TEST_LOGIN: person.login,
      MISTRIVE_TEST_PASSWORD: person.password,
      MISTRIVE_TEST_DECISION: person.decision,
      MISTRIVE_TEST_BROWSER_LOG: log,
    });
    return { cli, log: () => readFile(log, 'utf8').catch(() => '') };
  }

  it('signs in through the browser: PKCE, loopback redirect, tokens stored', async () => {
    const { cli, log } = browserLogin({ ...admin, decision: 'allow' });
    const result = await cli.done;
    expect(result.exitCode, `${result.stderr}\n${await log()}`).toBe(0);
    expect(result.stdout).toContain(`Signed in to ${registry.url} as admin.`);
    // The URL is printed whether or not a browser opens.
    const url = new URL(/go to:\s+(\S+)/.exec(result.stderr)?.[1] ?? 'http://missing');
    expect(url.origin + url.pathname).toBe(`${registry.url}/oauth/authorize`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('client_id')).toBe('mistrive-cli');
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    // The browser landed on the CLI's own page after the redirect.
    const ended = await waitFor(
      'the browser to finish',
      async () => /ended on: (.*)/.exec(await log())?.[1],
      15_000,
      100,
    );
    expect(ended).toContain('Signed in to Mistrive');

    const { accounts } = await mistriveJson<{ accounts: AccountRow[] }>(home, ['auth', 'list']);
    expect(accounts).toEqual([
      expect.objectContaining({
        registry: registry.url,
        account: 'admin',
        kind: 'user',
        active: true,
        credentialStore: 'file',
      }),
    ]);
    const token = (await mistrive(home, ['auth', 'print-access-token'])).stdout.trim();
    expect(
      (await fetch(`${registry.url}/v2/`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
  });

  it('stops with a clear message when the person denies access', async () => {
    const { cli } = browserLogin({ ...admin, decision: 'deny' });
    const result = await cli.done;
    expect(result.exitCode).toBe(9);
    expect(result.stderr).toContain(
      'Error: the sign-in was cancelled in the browser: access was not granted',
    );
    expect(result.stderr).toContain('Hint: run `mistrive auth login` again');
    expect((await mistriveJson<{ accounts: AccountRow[] }>(home, ['auth', 'list'])).accounts).toEqual([]);
  });

  it('times out cleanly when the person walks away from the page', async () => {
    const { cli, log } = browserLogin({ ...admin, decision: 'close' }, ['--timeout', '10']);
    const result = await cli.done;
    // On a busy machine the browser may still be on its way to the page when the CLI gives up.
    const ended = await waitFor(
      'the browser to reach the consent page',
      async () => /ended on: (.*)/.exec(await log())?.[1],
      60_000,
      100,
    );
    expect(ended).toContain('Allow Mistrive CLI to use your account');
    expect(result.exitCode).toBe(8);
    expect(result.stderr).toContain('Error: the browser sign-in did not complete within 10 s');
    expect(result.stderr).toContain('--no-browser');
  });

  async function deviceLogin(
    args: string[],
    env: Record<string, string>,
    decision: BrowserPerson['decision'],
  ) {
    const cli = startMistrive(home, ['auth', 'login', '--registry', registry.url, ...args], env);
    const [, code] = await cli.waitForStderr(/enter the code:\s+(\S+)/);
    const [, complete] = await cli.waitForStderr(/or open (\S+)/);
    expect(complete).toContain(`${registry.url}/device`);
    const page = await approveDeviceInBrowser(`${registry.url}/device`, code ?? '', { ...admin, decision });
    return { result: await cli.done, page };
  }

  it('signs in with a device code (--no-browser), polling as RFC 8628 says', async () => {
    const { result, page } = await deviceLogin(['--no-browser'], {}, 'allow');
    expect(page).toContain('Device connected');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('Signed in');
    const login = JSON.parse((await mistrive(home, ['auth', 'print-access-token', '--json'])).stdout) as {
      account: string;
      accessToken: string;
    };
    expect(login.account).toBe('admin');
  });

  it('reports a denied device code', async () => {
    const { result } = await deviceLogin(['--no-browser'], {}, 'deny');
    expect(result.exitCode).toBe(9);
    expect(result.stderr).toContain('Error: the sign-in was denied on the device page');
  });

  it('says how long the device code is valid', async () => {
    const cli = startMistrive(home, [
      'auth',
      'login',
      '--registry',
      registry.url,
      '--no-browser',
      '--timeout',
      '2',
    ]);
    await cli.waitForStderr(/enter the code/);
    const result = await cli.done;
    expect(result.stderr).toContain('The code expires in 10 minutes.\n');
    expect(result.exitCode).toBe(8);
  });

  it('with no browser here, the printed URL still signs in: the first of it and the device code wins', async () => {
    // No MISTRIVE_BROWSER and no display: the CLI prints the URL, then waits on both.
    const cli = startMistrive(home, ['auth', 'login', '--registry', registry.url, '--json']);
    const [, url] = await cli.waitForStderr(/go to:\s+(\S+)/);
    await cli.waitForStderr(/enter the code:\s+(\S+)/);
    expect(cli.stderr()).toContain(
      'No browser can be opened here: open the URL above in a browser on this machine, or sign in with a code on another device.',
    );
    const page = await authorizeInBrowser(url ?? '', { ...admin, decision: 'allow' });
    expect(page).toContain('Signed in to Mistrive');
    const result = await cli.done;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ account: 'admin', flow: 'browser' });
    const token = (await mistrive(home, ['auth', 'print-access-token'])).stdout.trim();
    expect(
      (await fetch(`${registry.url}/v2/`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
  });

  it('falls back to the device flow when no browser can be opened here', async () => {
    // No MISTRIVE_BROWSER and no display: nothing can open a browser on this machine.
    const { result } = await deviceLogin(['--json'], {}, 'allow');
    expect(JSON.parse(result.stdout)).toMatchObject({ flow: 'device' });
    expect(result.stderr).toContain('No browser can be opened here');
    expect(result.exitCode, result.stderr).toBe(0);
    const json = await mistriveJson<{ accounts: AccountRow[] }>(home, ['auth', 'list']);
    expect(json.accounts[0]?.account).toBe('admin');
  });

  it('signs in with --username and --password-stdin, and --json reports how', async () => {
    const result = await mistrive(
      home,
      ['auth', 'login', '--registry', registry.url, '--username', 'admin', '--password-stdin', '--json'],
      {
        input: `${testAdminPassword}\n`,
      },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      registry: registry.url,
      account: 'admin',
      kind: 'user',
      flow: 'password',
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      credentialStore: 'file',
      madeDefault: true,
    });
  });

  it('refuses a wrong password with exit code 3 and a hint', async () => {
    const result = await mistrive(
      home,
      ['auth', 'login', '--registry', registry.url, '--username', 'admin', '--password-stdin'],
      {
        input: 'not-the-password',
      },
    );
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain('Error: signing in as admin failed');
    expect(result.stderr).toContain('Hint: check the username and password');
  });

  it('says when the registry cannot be reached', async () => {
    const result = await mistrive(home, [
      'auth',
      'login',
      '--registry',
      'http://127.0.0.1:1',
      '--no-browser',
    ]);
    expect(result.exitCode).toBe(7);
    expect(result.stderr).toContain('Error: cannot reach the registry at http://127.0.0.1:1');
  });
});
