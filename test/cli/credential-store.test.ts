import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliBin, cliHome, helperBin, mistrive, repositoryRoot } from '../support/cli.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

/** Where tokens live: the OS keychain (a real Secret Service), else a file only the user can read. */

describe('credentials on a machine without a keychain', () => {
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

  it('keeps tokens in a 0600 file, says so once, and never in the plain config', async () => {
    const login = await mistrive(
      home,
      ['auth', 'login', '--registry', registry.url, '--username', 'admin', '--password-stdin'],
      {
        input: testAdminPassword,
      },
    );
    expect(login.exitCode, login.stderr).toBe(0);
    const notice = `credentials are stored in ${join(home.configDir, 'credentials.json')}, readable only by you`;
    expect(login.stderr).toContain(notice);
    expect(login.stdout).not.toContain(notice);

    const file = await stat(join(home.configDir, 'credentials.json'));
    expect(file.mode & 0o777).toBe(0o600);
    expect((await stat(home.configDir)).mode & 0o777).toBe(0o700);
    const secrets = await readFile(join(home.configDir, 'credentials.json'), 'utf8');
    const token = (await mistrive(home, ['auth', 'print-access-token'])).stdout.trim();
    expect(secrets).toContain(token);
    for (const plain of ['config.json', 'accounts.json']) {
      const text = await readFile(join(home.configDir, plain), 'utf8');
      expect(text).not.toContain(token);
      expect(text).not.toMatch(/refresh|accessToken|private_key/i);
    }

    // Once: the next command that writes secrets says nothing.
    const again = await mistrive(
      home,
      ['auth', 'login', '--registry', registry.url, '--username', 'admin', '--password-stdin'],
      {
        input: testAdminPassword,
      },
    );
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toBe('');
  });

  it('logout revokes the session on the registry and forgets it here', async () => {
    await mistrive(
      home,
      ['auth', 'login', '--registry', registry.url, '--username', 'admin', '--password-stdin'],
      {
        input: testAdminPassword,
      },
    );
    const token = (await mistrive(home, ['auth', 'print-access-token'])).stdout.trim();
    const secret = JSON.parse(
      (
        JSON.parse(await readFile(join(home.configDir, 'credentials.json'), 'utf8')) as {
          secrets: Record<string, string>;
        }
      ).secrets[`account ${registry.url} admin`] ?? '{}',
    ) as { refreshToken: string };

    const logout = await mistrive(home, ['auth', 'logout', '--json']);
    expect(logout.exitCode, logout.stderr).toBe(0);
    expect(JSON.parse(logout.stdout)).toEqual({ registry: registry.url, account: 'admin', revoked: true });
    expect(
      (await fetch(`${registry.url}/v2/`, { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(401);
    const refresh = await fetch(`${registry.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: 'mistrive-cli',
        refresh_token: secret.refreshToken,
      }),
    });
    expect(refresh.status).toBe(400);
    expect(await readFile(join(home.configDir, 'credentials.json'), 'utf8')).not.toContain(token);

    const after = await mistrive(home, ['auth', 'print-access-token']);
    expect(after.exitCode).toBe(3);
    expect(after.stderr).toBe(
      `Error: you are not signed in to ${registry.url}\nHint: run \`mistrive auth login --registry ${registry.url}\`\n`,
    );
  });
});

/**
 * Runs `script` in a D-Bus session of its own (where it starts gnome-keyring), with the built CLI
 * ($CLI), the helper ($HELPER), the registry ($REGISTRY, $HOST) and the administrator's password in
 * its environment; returns a reader of the files it wrote to $OUT.
 */
async function inDbusSession(home: CliHome, registry: TestRegistry, script: string) {
  const out = join(home.path, 'out');
  await mkdir(out);
  const result = await execa('dbus-run-session', ['--', 'sh', '-c', script], {
    env: {
      ...home.env,
      XDG_DATA_HOME: join(home.path, 'keyring-data'),
      ADMIN_PASSWORD: testAdminPassword,
      CLI: cliBin,
      HELPER: helperBin,
      REGISTRY: registry.url,
      HOST: new URL(registry.url).host,
      OUT: out,
      CONFIG_DIR: home.configDir,
    },
    extendEnv: false,
    cwd: repositoryRoot,
    reject: false,
    all: true,
  });
  expect(result.exitCode, result.all).toBe(0);
  return (name: string) => readFile(join(out, name), 'utf8');
}

describe('credentials in the OS keychain (Secret Service under dbus-run-session)', {
  timeout: 120_000,
}, () => {
  let registry: TestRegistry;
  let home: CliHome;

  beforeAll(async () => {
    registry = await startTestRegistry();
    home = await cliHome();
  });
  afterAll(async () => {
    await registry?.close();
    await home?.remove();
  });

  it('stores tokens in the keychain, where the helper and logout find them', async () => {
    const host = new URL(registry.url).host;
    // One D-Bus session with an unlocked gnome-keyring, as on a desktop; every step runs inside it.
    const script = `
      set -e
      printf keyring-password | gnome-keyring-daemon --unlock --components=secrets >/dev/null
      printf '%s' "$ADMIN_PASSWORD" | node "$CLI" auth login --registry "$REGISTRY" --username admin --password-stdin --json > "$OUT/login.json" 2> "$OUT/login.err"
      printf '%s' "$HOST" | node "$HELPER" get > "$OUT/get.json"
      secret-tool search --all service mistrive > "$OUT/search.txt" 2>&1 || true
      node "$CLI" auth print-access-token > "$OUT/token.txt"
      cp "$CONFIG_DIR/accounts.json" "$OUT/accounts.json"
      ls "$CONFIG_DIR" > "$OUT/config-dir.txt"
      node "$CLI" auth logout --json > "$OUT/logout.json"
      secret-tool search --all service mistrive > "$OUT/search-after.txt" 2>&1 || true
      printf '%s' "$HOST" | node "$HELPER" get > "$OUT/get-after.txt" || true
    `;
    const read = await inDbusSession(home, registry, script);

    expect(JSON.parse(await read('login.json'))).toMatchObject({
      account: 'admin',
      credentialStore: 'keychain',
    });
    expect(await read('login.err')).toBe('');
    const token = (await read('token.txt')).trim();
    expect(JSON.parse(await read('get.json'))).toEqual({
      ServerURL: host,
      Username: 'oauth2accesstoken',
      Secret: token,
    });
    // The secret is in the keychain, under the service "mistrive", and nowhere on disk in the config directory.
    const search = await read('search.txt');
    expect(search).toContain(`account ${registry.url} admin`);
    expect(search).toContain(token);
    expect((await read('config-dir.txt')).split('\n')).not.toContain('credentials.json');
    expect(await read('accounts.json')).toContain('"backend": "keychain"');
    expect(await read('accounts.json')).not.toContain(token);

    expect(JSON.parse(await read('logout.json'))).toMatchObject({ account: 'admin', revoked: true });
    expect(await read('search-after.txt')).not.toContain(token);
    expect(await read('get-after.txt')).toBe('credentials not found in native keychain\n');
  });

  it('falls back to the 0600 file saying why when the keyring is locked, or names MISTRIVE_CREDENTIAL_STORE=file when the keychain was asked for', async () => {
    const home = await cliHome();
    onTestFinished(() => home.remove());
    const host = new URL(registry.url).host;
    // gnome-keyring started and never unlocked: the Secret Service answers, but refuses to store.
    const script = `
      gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1
      printf '%s' "$ADMIN_PASSWORD" | node "$CLI" auth login --registry "$REGISTRY" --username admin --password-stdin --json > "$OUT/login.json" 2> "$OUT/login.err"
      echo $? > "$OUT/login.exit"
      printf '%s' "$HOST" | node "$HELPER" get > "$OUT/get.json"
      node "$CLI" auth print-access-token > "$OUT/token.txt"
      printf '{"ServerURL":"other.example.com","Username":"u","Secret":"s"}' | node "$HELPER" store > "$OUT/store.out" 2> "$OUT/store.err"
      echo $? > "$OUT/store.exit"
      printf '%s' "$ADMIN_PASSWORD" | MISTRIVE_CREDENTIAL_STORE=keychain node "$CLI" auth login --registry "$REGISTRY" --username admin --password-stdin > "$OUT/forced.out" 2> "$OUT/forced.err"
      echo $? > "$OUT/forced.exit"
    `;
    const read = await inDbusSession(home, registry, script);
    const file = join(home.configDir, 'credentials.json');

    expect((await read('login.exit')).trim(), await read('login.err')).toBe('0');
    expect(JSON.parse(await read('login.json'))).toMatchObject({ account: 'admin', credentialStore: 'file' });
    const notice = `The OS keychain refused to store credentials (Secret Service: no result found; the keyring is locked or has no default collection), so they are stored in ${file}, readable only by you; unlock the keyring, or set MISTRIVE_CREDENTIAL_STORE=file to stop trying it.\n`;
    expect(await read('login.err')).toBe(notice);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const token = (await read('token.txt')).trim();
    expect(JSON.parse(await read('get.json'))).toEqual({
      ServerURL: host,
      Username: 'oauth2accesstoken',
      Secret: token,
    });
    // What `docker login` hands the helper takes the same way.
    expect((await read('store.exit')).trim()).toBe('0');
    expect(await read('store.err')).toBe(notice);

    expect((await read('forced.exit')).trim()).toBe('12');
    expect(await read('forced.err')).toBe(
      'Error: the OS keychain refused to store the credentials: Secret Service: no result found; the keyring is locked or has no default collection\nHint: unlock the keyring, or set MISTRIVE_CREDENTIAL_STORE=file to keep credentials in a file readable only by you\n',
    );
  });
});
