import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import {
  type CliHome,
  cliHome,
  credentialHelper,
  mistrive,
  mistriveJson,
  serviceAccountKey,
} from '../support/cli.js';
import { buildImage, readOciLayout, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { dockerReference } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';

/** `auth configure-docker`, `auth docker-login`, and real clients getting credentials from the helper. */

interface ConfigureResult {
  path: string;
  added: string[];
  unchanged: string[];
  backup?: string;
  withoutAccount: string[];
}

async function signIn(home: CliHome, registry: TestRegistry): Promise<void> {
  const result = await mistrive(
    home,
    ['auth', 'login', '--registry', registry.url, '--username', 'admin', '--password-stdin'],
    {
      input: testAdminPassword,
    },
  );
  expect(result.exitCode, result.stderr).toBe(0);
}

describe('mistrive auth configure-docker', () => {
  let home: CliHome;
  beforeEach(async () => {
    home = await cliHome();
  });
  afterEach(async () => {
    await home.remove();
  });

  it('creates the Docker config when there is none, readable only by the user', async () => {
    const result = await mistriveJson<ConfigureResult>(home, ['auth', 'configure-docker', 'localhost:5000']);
    expect(result).toEqual({
      path: home.dockerConfig,
      added: ['localhost:5000'],
      unchanged: [],
      withoutAccount: ['localhost:5000'],
    });
    expect(JSON.parse(await readFile(home.dockerConfig, 'utf8'))).toEqual({
      credHelpers: { 'localhost:5000': 'mistrive' },
    });
    expect((await stat(home.dockerConfig)).mode & 0o777).toBe(0o600);
  });

  it('merges into an existing config, keeps everything else, backs it up, and is idempotent', async () => {
    const previous = `${JSON.stringify(
      {
        auths: { 'other.example.com': { auth: 'dXNlcjpwYXNz' } },
        credHelpers: { 'gcr.io': 'gcloud' },
        credsStore: 'desktop',
        proxies: { default: { httpProxy: 'http://proxy:3128' } },
      },
      null,
      2,
    )}\n`;
    await mkdir(dirname(home.dockerConfig), { recursive: true });
    await writeFile(home.dockerConfig, previous, { mode: 0o644 });

    const first = await mistriveJson<ConfigureResult>(home, [
      'auth',
      'configure-docker',
      'localhost:5000',
      'https://registry.example.com/',
    ]);
    expect(first).toEqual({
      path: home.dockerConfig,
      added: ['localhost:5000', 'registry.example.com'],
      unchanged: [],
      backup: `${home.dockerConfig}.bak`,
      withoutAccount: ['localhost:5000', 'registry.example.com'],
    });
    expect(await readFile(`${home.dockerConfig}.bak`, 'utf8')).toBe(previous);
    expect(JSON.parse(await readFile(home.dockerConfig, 'utf8'))).toEqual({
      auths: { 'other.example.com': { auth: 'dXNlcjpwYXNz' } },
      credHelpers: { 'gcr.io': 'gcloud', 'localhost:5000': 'mistrive', 'registry.example.com': 'mistrive' },
      credsStore: 'desktop',
      proxies: { default: { httpProxy: 'http://proxy:3128' } },
    });
    expect((await stat(home.dockerConfig)).mode & 0o777).toBe(0o644);

    const written = await readFile(home.dockerConfig, 'utf8');
    const modified = (await stat(home.dockerConfig)).mtimeMs;
    const second = await mistrive(home, [
      'auth',
      'configure-docker',
      'localhost:5000',
      'registry.example.com',
    ]);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toBe('Already set up: localhost:5000, registry.example.com.\n');
    expect(await readFile(home.dockerConfig, 'utf8')).toBe(written);
    expect((await stat(home.dockerConfig)).mtimeMs).toBe(modified);
    expect(await readFile(`${home.dockerConfig}.bak`, 'utf8')).toBe(previous);
  });

  it('defaults to the configured registry', async () => {
    await mistrive(home, ['config', 'set', 'registry', 'https://registry.example.com:8443']);
    const result = await mistriveJson<ConfigureResult>(home, ['auth', 'configure-docker']);
    expect(result.added).toEqual(['registry.example.com:8443']);
  });

  it('leaves a malformed Docker config alone', async () => {
    await mkdir(dirname(home.dockerConfig), { recursive: true });
    await writeFile(home.dockerConfig, '{"auths": {');
    const result = await mistrive(home, ['auth', 'configure-docker', 'localhost:5000']);
    expect(result.exitCode).toBe(12);
    expect(result.stderr).toBe(
      `Error: the Docker config ${home.dockerConfig} is not a JSON object, so it was left alone\nHint: fix the file (or move it away) and run the command again\n`,
    );
    expect(await readFile(home.dockerConfig, 'utf8')).toBe('{"auths": {');
  });
});

const bobPassword = 'bob-password-1234';

describe('Docker, skopeo and the credential helper against a registry', { timeout: 180_000 }, () => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let layout: string;
  let host: string;

  beforeAll(async () => {
    registry = await startTestRegistry({ autoCreateRepositories: false });
    host = new URL(registry.url).host;
    work = await tempDir('mistrive-cli-docker-');
    layout = join(work.path, 'layout');
    const image = buildImage([await tarGzLayer({ 'bin/app': randomBytes(64 * 1024) })]);
    await writeOciLayout(layout, 'v1', image);
    const admin = await cliHome();
    try {
      await signIn(admin, registry);
      await mistriveJson(admin, ['projects', 'create', 'shop']);
      await mistriveJson(admin, ['repos', 'create', 'images', '--project', 'shop']);
      await serviceAccountKey(admin, {
        project: 'shop',
        name: 'ci',
        keyFile: join(work.path, 'ci-key.json'),
        editorOf: 'shop/images',
      });
      const bob = await mistrive(admin, ['users', 'create', 'bob@example.com', '--password-stdin'], {
        input: bobPassword,
      });
      expect(bob.exitCode, bob.stderr).toBe(0);
      await mistriveJson(admin, [
        'repos',
        'add-iam-policy-binding',
        'shop/images',
        '--member',
        'user:bob@example.com',
        '--role',
        'viewer',
      ]);
    } finally {
      await admin.remove();
    }
  });
  afterAll(async () => {
    await registry?.close();
    await work?.remove();
  });

  /** skopeo with no credentials of its own: only the Docker config (credHelpers) and the helper on PATH. */
  async function skopeo(home: CliHome, args: string[], env: Record<string, string> = {}) {
    const result = await execa('skopeo', ['--insecure-policy', ...args], {
      env: { ...home.env, _CONTAINERS_ROOTLESS_UID: '65534', ...env },
      extendEnv: false,
      reject: false,
      all: true,
      timeout: 120_000,
    });
    return { exitCode: result.exitCode, all: String(result.all) };
  }

  const push = (tag: string) => [
    'copy',
    '--preserve-digests',
    '--dest-tls-verify=false',
    '--retry-times=0',
    `oci:${layout}:v1`,
    dockerReference(registry.url, 'shop/images/app', tag),
  ];
  const pull = (tag: string, dir: string) => [
    'copy',
    '--preserve-digests',
    '--src-tls-verify=false',
    '--retry-times=0',
    dockerReference(registry.url, 'shop/images/app', tag),
    `oci:${dir}:${tag}`,
  ];

  it('skopeo pushes and pulls for a signed-in user through docker-credential-mistrive alone', async () => {
    const home = await cliHome();
    try {
      const refused = await skopeo(home, push('user'));
      expect(refused.exitCode).not.toBe(0);
      expect(refused.all).toMatch(/authentication required|unauthorized/i);

      await signIn(home, registry);
      expect((await mistrive(home, ['auth', 'configure-docker'])).exitCode).toBe(0);
      const config = await readFile(home.dockerConfig, 'utf8');
      expect(JSON.parse(config)).toEqual({ credHelpers: { [host]: 'mistrive' } });

      const pushed = await skopeo(home, push('user'));
      expect(pushed.exitCode, pushed.all).toBe(0);
      const copy = join(home.path, 'copy');
      const pulled = await skopeo(home, pull('user', copy));
      expect(pulled.exitCode, pulled.all).toBe(0);
      expect((await readOciLayout(copy, 'user')).root.digest).toBe(
        (await readOciLayout(layout, 'v1')).root.digest,
      );
      // Nothing but the helper entry was ever written to the Docker config.
      expect(await readFile(home.dockerConfig, 'utf8')).toBe(config);
    } finally {
      await home.remove();
    }
  });

  it('skopeo pushes and pulls with MISTRIVE_KEY and no stored account', async () => {
    const home = await cliHome();
    try {
      expect((await mistrive(home, ['auth', 'configure-docker', host])).exitCode).toBe(0);
      const key = (await readFile(join(work.path, 'ci-key.json'))).toString('base64');
      const pushed = await skopeo(home, push('ci'), { MISTRIVE_KEY: key });
      expect(pushed.exitCode, pushed.all).toBe(0);
      const copy = join(home.path, 'copy');
      const pulled = await skopeo(home, pull('ci', copy), { MISTRIVE_KEY: key });
      expect(pulled.exitCode, pulled.all).toBe(0);
      const tags = await mistriveJson<{ tags: { name: string }[] }>(
        home,
        ['tags', 'list', `${host}/shop/images/app`],
        {
          env: { MISTRIVE_KEY: key },
        },
      );
      expect(tags.tags.map((tag) => tag.name)).toContain('ci');
    } finally {
      await home.remove();
    }
  });

  it('auth docker-login hands a token to the real docker CLI, which stores it through the helper', async () => {
    const home = await cliHome();
    try {
      await signIn(home, registry);
      await mistrive(home, ['auth', 'configure-docker']);
      // The cached token still has 20 minutes: docker-login hands Docker a new one all the same.
      const file = join(home.configDir, 'credentials.json');
      const secrets = JSON.parse(await readFile(file, 'utf8')) as { secrets: Record<string, string> };
      const accountKey = `account ${registry.url} admin`;
      const cached = JSON.parse(secrets.secrets[accountKey] ?? '{}') as Record<string, unknown>;
      const cachedExpiry = Math.floor(Date.now() / 1000) + 1200;
      secrets.secrets[accountKey] = JSON.stringify({ ...cached, accessTokenExpiresAt: cachedExpiry });
      await writeFile(file, JSON.stringify(secrets));

      const result = await mistrive(home, ['auth', 'docker-login', '--json']);
      expect(result.exitCode, result.stderr).toBe(0);
      const login = JSON.parse(result.stdout) as { expiresAt: string };
      expect(login).toMatchObject({ host, username: 'oauth2accesstoken', account: 'admin' });
      const handed = (JSON.parse(await readFile(file, 'utf8')) as { secrets: Record<string, string> })
        .secrets[`docker ${host}`];
      expect(handed).toBeDefined();
      expect(handed).not.toBe(cached.accessToken);
      const claims = JSON.parse(Buffer.from(handed?.split('.')[1] ?? '', 'base64url').toString()) as {
        exp: number;
      };
      expect(login.expiresAt).toBe(new Date(claims.exp * 1000).toISOString());
      expect(claims.exp).not.toBe(cachedExpiry);
      const human = await mistrive(home, ['auth', 'docker-login']);
      expect(human.stdout).toMatch(
        new RegExp(
          `^Docker is logged in to ${host.replace(/\./g, '\\.')} as admin with a new token that expires at \\d{4}-`,
        ),
      );
      // Docker handed the credentials to the helper instead of writing them into its config.
      expect(JSON.parse(await readFile(home.dockerConfig, 'utf8'))).toEqual({
        auths: { [host]: {} },
        credHelpers: { [host]: 'mistrive' },
      });
      expect((await credentialHelper(home, ['list'])).stdout).toBe(`{"${host}":"oauth2accesstoken"}\n`);
      // Signing out ends what docker-login handed over as well.
      expect((await mistrive(home, ['auth', 'logout'])).exitCode).toBe(0);
      expect((await credentialHelper(home, ['list'])).stdout).toBe('{}\n');
      expect((await credentialHelper(home, ['get'], host)).stdout).toBe(
        'credentials not found in native keychain\n',
      );
    } finally {
      await home.remove();
    }
  });

  /** The real docker CLI's login, its password on stdin; it hands what it logs in with to the helper. */
  async function dockerLogin(home: CliHome, username: string, password: string) {
    const result = await execa('docker', ['login', '--username', username, '--password-stdin', host], {
      env: home.env,
      extendEnv: false,
      input: password,
      reject: false,
      all: true,
    });
    expect(result.exitCode, String(result.all)).toBe(0);
  }

  it('a docker login as another user wins over the CLI account until the CLI signs in again', async () => {
    const home = await cliHome();
    try {
      const bob = await mistrive(
        home,
        ['auth', 'login', '--registry', registry.url, '--username', 'bob@example.com', '--password-stdin'],
        { input: bobPassword },
      );
      expect(bob.exitCode, bob.stderr).toBe(0);
      expect((await mistrive(home, ['auth', 'configure-docker'])).exitCode).toBe(0);
      // Bob may only pull: his push is refused.
      const refused = await skopeo(home, push('as-bob'));
      expect(refused.exitCode).not.toBe(0);
      expect(refused.all).toMatch(/denied/i);

      await dockerLogin(home, 'admin', testAdminPassword);
      expect(await credentialHelper(home, ['get'], host)).toMatchObject({
        exitCode: 0,
        stdout: `{"ServerURL":"${host}","Username":"admin","Secret":"${testAdminPassword}"}\n`,
      });
      expect((await credentialHelper(home, ['list'])).stdout).toBe(`{"${host}":"admin"}\n`);
      const pushed = await skopeo(home, push('as-admin'));
      expect(pushed.exitCode, pushed.all).toBe(0);

      // Signing the CLI in again makes its account the latest sign-in for the host.
      const again = await mistrive(
        home,
        ['auth', 'login', '--registry', registry.url, '--username', 'bob@example.com', '--password-stdin'],
        { input: bobPassword },
      );
      expect(again.exitCode, again.stderr).toBe(0);
      const token = (await mistrive(home, ['auth', 'print-access-token'])).stdout.trim();
      expect((await credentialHelper(home, ['get'], host)).stdout).toBe(
        `{"ServerURL":"${host}","Username":"oauth2accesstoken","Secret":"${token}"}\n`,
      );

      // docker login again, then docker logout: the CLI account answers once more.
      await dockerLogin(home, 'admin', testAdminPassword);
      expect(JSON.parse((await credentialHelper(home, ['get'], host)).stdout).Username).toBe('admin');
      const logout = await execa('docker', ['logout', host], {
        env: home.env,
        extendEnv: false,
        reject: false,
      });
      expect(logout.exitCode).toBe(0);
      expect(JSON.parse((await credentialHelper(home, ['get'], host)).stdout)).toEqual({
        ServerURL: host,
        Username: 'oauth2accesstoken',
        Secret: token,
      });
    } finally {
      await home.remove();
    }
  });

  it('auth docker-login says clearly when docker is missing', async () => {
    const home = await cliHome();
    try {
      await signIn(home, registry);
      const result = await mistrive(home, ['auth', 'docker-login'], { env: { PATH: home.binDir } });
      expect(result.exitCode).toBe(11);
      expect(result.stderr).toBe(
        'Error: docker is not installed here (no `docker` on PATH)\nHint: install Docker, or let skopeo, podman or buildah use the credential helper: `mistrive auth configure-docker`\n',
      );
    } finally {
      await home.remove();
    }
  });
});
