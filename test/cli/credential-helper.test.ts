import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliHome, credentialHelper, mistrive, mistriveJson } from '../support/cli.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

/** The Docker credential-helpers protocol, byte for byte, through the real helper program. */

interface StoredSecrets {
  secrets: Record<string, string>;
}

async function readSecrets(home: CliHome): Promise<StoredSecrets> {
  return JSON.parse(await readFile(join(home.configDir, 'credentials.json'), 'utf8')) as StoredSecrets;
}

function claims(token: string): { sub: string; exp: number; jti: string } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

describe('docker-credential-mistrive without accounts', () => {
  let home: CliHome;
  beforeEach(async () => {
    home = await cliHome();
  });
  afterEach(async () => {
    await home.remove();
  });

  it.each([
    [
      'get for a host it has no account for',
      ['get'],
      '127.0.0.1:5999\n',
      'credentials not found in native keychain\n',
      1,
    ],
    ['get with an empty request', ['get'], '', 'no credentials server URL\n', 1],
    ['get with only blanks', ['get'], '  \n', 'no credentials server URL\n', 1],
    ['list with nothing stored', ['list'], '', '{}\n', 0],
    ['no verb', [], '', 'Usage: docker-credential-mistrive <store|get|erase|list|version>\n', 1],
    [
      'two verbs',
      ['get', 'list'],
      '',
      'Usage: docker-credential-mistrive <store|get|erase|list|version>\n',
      1,
    ],
    ['an unknown verb', ['bogus'], '', 'docker-credential-mistrive: unknown action: bogus\n', 1],
    ['--help', ['--help'], '', 'Usage: docker-credential-mistrive <store|get|erase|list|version>\n', 0],
    ['version', ['version'], '', 'docker-credential-mistrive (mistrive) 0.1.0\n', 0],
    [
      'erase for a host with nothing stored',
      ['erase'],
      'r.example.com\n',
      'credentials not found in native keychain\n',
      1,
    ],
    [
      'store with malformed JSON',
      ['store'],
      '{"ServerURL":',
      'malformed credentials: expected a JSON object with ServerURL, Username and Secret\n',
      1,
    ],
    [
      'store with a JSON array',
      ['store'],
      '[]',
      'malformed credentials: expected a JSON object with ServerURL, Username and Secret\n',
      1,
    ],
    ['store without ServerURL', ['store'], '{"Username":"u","Secret":"s"}', 'no credentials server URL\n', 1],
    [
      'store without Username',
      ['store'],
      '{"ServerURL":"r.example.com","Secret":"s"}',
      'no credentials username\n',
      1,
    ],
  ])('%s', async (_name, args, input, stdout, exitCode) => {
    const result = await credentialHelper(home, args, input);
    expect({ stdout: result.stdout, exitCode: result.exitCode }).toEqual({ stdout, exitCode });
  });

  it('stores, gets, lists and erases what `docker login` hands it', async () => {
    const stored = await credentialHelper(
      home,
      ['store'],
      '{"ServerURL":"https://r.example.com","Username":"bob","Secret":"s3<cr&t>"}',
    );
    expect(stored).toMatchObject({ stdout: '', exitCode: 0 });
    // Go's encoder escapes <, > and & and keeps the struct's field order.
    expect((await credentialHelper(home, ['get'], 'r.example.com\n')).stdout).toBe(
      '{"ServerURL":"r.example.com","Username":"bob","Secret":"s3\\u003ccr\\u0026t\\u003e"}\n',
    );
    expect((await credentialHelper(home, ['list'])).stdout).toBe('{"https://r.example.com":"bob"}\n');
    expect(await credentialHelper(home, ['erase'], 'https://r.example.com')).toMatchObject({
      stdout: '',
      exitCode: 0,
    });
    expect((await credentialHelper(home, ['get'], 'r.example.com')).stdout).toBe(
      'credentials not found in native keychain\n',
    );
    expect((await credentialHelper(home, ['list'])).stdout).toBe('{}\n');
    // No keychain here: the secret went to the 0600 file, never to the plain config or accounts file.
    expect(await readFile(join(home.configDir, 'accounts.json'), 'utf8')).not.toContain('s3<cr&t>');
  });

  it('says where secrets went, once, on stderr only', async () => {
    const first = await credentialHelper(
      home,
      ['store'],
      '{"ServerURL":"a.example.com","Username":"u","Secret":"x"}',
    );
    const second = await credentialHelper(
      home,
      ['store'],
      '{"ServerURL":"b.example.com","Username":"u","Secret":"y"}',
    );
    expect(first.stderr).toContain('credentials are stored in');
    expect(first.stderr).toContain('readable only by you');
    expect(second.stderr).toBe('');
  });
});

describe('docker-credential-mistrive with a signed-in account', () => {
  let registry: TestRegistry;
  let home: CliHome;
  let host: string;

  beforeAll(async () => {
    registry = await startTestRegistry();
    host = new URL(registry.url).host;
  });
  afterAll(async () => {
    await registry?.close();
  });
  beforeEach(async () => {
    home = await cliHome();
    const login = await mistrive(
      home,
      ['auth', 'login', '--registry', registry.url, '--username', 'admin', '--password-stdin'],
      {
        input: testAdminPassword,
      },
    );
    expect(login.exitCode, login.stderr).toBe(0);
  });
  afterEach(async () => {
    await home.remove();
  });

  it('answers get with oauth2accesstoken and an access token the registry accepts', async () => {
    const result = await credentialHelper(home, ['get'], `${host}\n`);
    expect(result.exitCode).toBe(0);
    const answer = JSON.parse(result.stdout) as Record<string, string>;
    expect(Object.keys(answer)).toEqual(['ServerURL', 'Username', 'Secret']);
    expect(answer).toMatchObject({ ServerURL: host, Username: 'oauth2accesstoken' });
    expect(claims(answer.Secret ?? '').sub).toBe('user:admin');
    const basic = Buffer.from(`oauth2accesstoken:${answer.Secret}`).toString('base64');
    expect(
      (await fetch(`${registry.url}/v2/`, { headers: { authorization: `Basic ${basic}` } })).status,
    ).toBe(200);
    expect(
      (await fetch(`${registry.url}/v2/`, { headers: { authorization: `Bearer ${answer.Secret}` } })).status,
    ).toBe(200);
    // Any spelling of the same host finds the account.
    const withScheme = await credentialHelper(home, ['get'], registry.url);
    expect(JSON.parse(withScheme.stdout)).toMatchObject({ ServerURL: registry.url, Secret: answer.Secret });
  });

  it('lists the registry host', async () => {
    expect((await credentialHelper(home, ['list'])).stdout).toBe(`{"${host}":"oauth2accesstoken"}\n`);
  });

  it('refreshes a token with less than a few minutes left, rotating the refresh token', async () => {
    const key = `account ${registry.url} admin`;
    const before = JSON.parse((await readSecrets(home)).secrets[key] ?? '{}') as Record<string, unknown>;
    const nearlyExpired = { ...before, accessTokenExpiresAt: Math.floor(Date.now() / 1000) + 60 };
    const file = join(home.configDir, 'credentials.json');
    const secrets = await readSecrets(home);
    secrets.secrets[key] = JSON.stringify(nearlyExpired);
    await writeFile(file, JSON.stringify(secrets));

    const result = await credentialHelper(home, ['get'], host);
    expect(result.exitCode, result.stdout).toBe(0);
    const token = (JSON.parse(result.stdout) as { Secret: string }).Secret;
    expect(token).not.toBe(before.accessToken);
    const after = JSON.parse((await readSecrets(home)).secrets[key] ?? '{}') as Record<string, unknown>;
    expect(after.accessToken).toBe(token);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.accessTokenExpiresAt).toBe(claims(token).exp);
  });

  it('says to sign in again when the session was revoked', async () => {
    const key = `account ${registry.url} admin`;
    const secrets = await readSecrets(home);
    const secret = JSON.parse(secrets.secrets[key] ?? '{}') as Record<string, unknown>;
    const revoke = await fetch(`${registry.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'mistrive-cli', token: String(secret.refreshToken) }),
    });
    expect(revoke.status).toBe(200);
    secrets.secrets[key] = JSON.stringify({ ...secret, accessTokenExpiresAt: 0 });
    await writeFile(join(home.configDir, 'credentials.json'), JSON.stringify(secrets));
    const result = await credentialHelper(home, ['get'], host);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(
      `the session of admin at ${registry.url} has expired or was revoked: run \`mistrive auth login --registry ${registry.url}\`\n`,
    );
  });

  it('answers from the cache without the registry', async () => {
    const own = await startTestRegistry();
    const ownHost = new URL(own.url).host;
    try {
      const login = await mistrive(
        home,
        ['auth', 'login', '--registry', own.url, '--username', 'admin', '--password-stdin'],
        {
          input: testAdminPassword,
        },
      );
      expect(login.exitCode, login.stderr).toBe(0);
      const first = await credentialHelper(home, ['get'], ownHost);
      expect(first.exitCode).toBe(0);
      await own.close();
      const second = await credentialHelper(home, ['get'], ownHost);
      expect(second).toEqual(first);
    } finally {
      await own.close();
    }
  });

  it('uses MISTRIVE_KEY for the key’s registry, and caches its token', async () => {
    await mistriveJson(home, ['projects', 'create', 'ci-project']);
    await mistriveJson(home, ['service-accounts', 'create', 'builder', '--project', 'ci-project']);
    const created = await mistrive(home, [
      'service-accounts',
      'keys',
      'create',
      '-',
      '--service-account',
      'builder@ci-project.iam.mistrive',
    ]);
    expect(created.exitCode, created.stderr).toBe(0);
    const key = Buffer.from(created.stdout).toString('base64');
    const other = await cliHome();
    try {
      const env = { MISTRIVE_KEY: key };
      const first = await credentialHelper(other, ['get'], host, { env });
      expect(first.exitCode, first.stdout).toBe(0);
      const answer = JSON.parse(first.stdout) as { Username: string; Secret: string };
      expect(answer.Username).toBe('oauth2accesstoken');
      expect(claims(answer.Secret).sub).toBe('serviceAccount:builder@ci-project.iam.mistrive');
      expect((await credentialHelper(other, ['get'], host, { env })).stdout).toBe(first.stdout);
      expect((await credentialHelper(other, ['list'], '', { env })).stdout).toBe(
        `{"${host}":"oauth2accesstoken"}\n`,
      );
      // Another host is not the key's: nothing to hand out.
      expect((await credentialHelper(other, ['get'], 'elsewhere.example.com', { env })).stdout).toBe(
        'credentials not found in native keychain\n',
      );
    } finally {
      await other.remove();
    }
  });
});
