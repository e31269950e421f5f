import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliHome, mistrive, mistriveJson } from '../support/cli.js';
import { buildImage, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { pushLayout } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';

/**
 * Every management command, end to end: the built CLI against `mistrive serve` running as its own
 * process, with --json for what scripts read and the tab-separated lines a pipe gets.
 */

interface Project {
  id: string;
  organization: string;
  displayName: string;
  description: string;
  createdAt: string;
  updatedAt: string;
}

interface Repository {
  project: string;
  id: string;
  name: string;
  scanning: boolean;
  immutableTags: boolean;
}

interface Policy {
  resource: string;
  bindings: { role: string; members: string[] }[];
}

interface Image {
  name: string;
  fullName: string;
  digests: { digest: string; tags: string[] }[];
}

describe('management commands against mistrive serve', { timeout: 180_000 }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon;
  let admin: CliHome;
  let bob: CliHome;
  let nobody: CliHome;

  beforeAll(async () => {
    work = await tempDir('mistrive-cli-resources-');
    daemon = await startDaemon(join(work.path, 'data'), ['--no-auto-create-repositories']);
    admin = await cliHome();
    bob = await cliHome();
    nobody = await cliHome();
    const login = await mistrive(
      admin,
      ['auth', 'login', '--registry', daemon.url, '--username', 'admin', '--password-stdin'],
      {
        input: testAdminPassword,
      },
    );
    expect(login.exitCode, login.stderr).toBe(0);
    await mistrive(nobody, ['config', 'set', 'registry', daemon.url]);
  });
  afterAll(async () => {
    await daemon?.stop();
    for (const home of [admin, bob, nobody]) await home?.remove();
    await work?.remove();
  });

  it('projects: create, list, describe, delete, with exit codes for the usual mistakes', async () => {
    const created = await mistriveJson<Project>(admin, [
      'projects',
      'create',
      'shop',
      '--display-name',
      'Shop',
      '--description',
      'the shop images',
    ]);
    expect(created).toEqual({
      id: 'shop',
      organization: 'default',
      displayName: 'Shop',
      description: 'the shop images',
      usage: { logicalBytes: 0, uniqueBytes: 0 },
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    await mistriveJson(admin, ['projects', 'create', 'scratch']);

    const list = await mistriveJson<{ projects: Project[] }>(admin, ['projects', 'list']);
    expect(list.projects.map((project) => project.id)).toEqual(['scratch', 'shop']);
    const piped = await mistrive(admin, ['projects', 'list']);
    expect(piped.stdout.split('\n')).toContain(`shop\tShop\tdefault\t${created.createdAt}`);

    const described = await mistrive(admin, ['projects', 'describe', 'shop']);
    expect(described.stdout).toBe(
      `Project\tshop\nDisplay name\tShop\nDescription\tthe shop images\nOrganization\tdefault\nLogical size\t0\nUnique size\t0\nStorage quota\tnone\nCreated\t${created.createdAt}\nUpdated\t${created.updatedAt}\n`,
    );

    const duplicate = await mistrive(admin, ['projects', 'create', 'shop']);
    expect(duplicate.exitCode).toBe(6);
    expect(duplicate.stderr).toMatch(/^Error: .*already exists/);

    const missing = await mistrive(admin, ['projects', 'describe', 'nope']);
    expect(missing.exitCode).toBe(5);
    expect(missing.stderr).toBe(
      'Error: project nope not found\nHint: check the project and repository IDs (`mistrive projects list`, `mistrive repos list --project P`)\n',
    );
    const missingJson = await mistrive(admin, ['projects', 'describe', 'nope', '--json']);
    expect(missingJson.exitCode).toBe(5);
    expect(missingJson.stdout).toBe('');
    expect(JSON.parse(missingJson.stderr)).toEqual({
      error: {
        code: 'NOT_FOUND',
        message: 'project nope not found',
        hint: 'check the project and repository IDs (`mistrive projects list`, `mistrive repos list --project P`)',
      },
    });

    const invalid = await mistrive(admin, ['projects', 'create', 'Not_An_Id']);
    expect(invalid.exitCode).toBe(2);

    expect(await mistriveJson(admin, ['projects', 'delete', 'scratch'])).toEqual({
      project: 'scratch',
      deleted: true,
    });
    expect(
      (await mistriveJson<{ projects: Project[] }>(admin, ['projects', 'list'])).projects.map((p) => p.id),
    ).toEqual(['shop']);
  });

  it('repos: create, list, describe, update, delete', async () => {
    const created = await mistriveJson<Repository>(admin, [
      'repos',
      'create',
      'backend',
      '--project',
      'shop',
      '--scanning',
      '--immutable-tags',
    ]);
    expect(created).toMatchObject({
      project: 'shop',
      id: 'backend',
      name: 'shop/backend',
      scanning: true,
      immutableTags: true,
    });
    await mistriveJson(admin, [
      'repos',
      'create',
      'frontend',
      '--project',
      'shop',
      '--description',
      'web assets',
    ]);

    const list = await mistriveJson<{ project: string; repositories: Repository[] }>(admin, [
      'repos',
      'list',
      '--project',
      'shop',
    ]);
    expect(list.repositories.map((repository) => repository.id)).toEqual(['backend', 'frontend']);
    const piped = await mistrive(admin, ['repos', 'list', '--project', 'shop']);
    expect(piped.stdout.split('\n').map((line) => line.split('\t').slice(0, 5))).toContainEqual([
      'frontend',
      'shop',
      'no',
      'no',
      'web assets',
    ]);

    // The default project from the config stands in for --project.
    await mistrive(admin, ['config', 'set', 'project', 'shop']);
    expect((await mistriveJson<Repository>(admin, ['repos', 'describe', 'backend'])).scanning).toBe(true);
    await mistrive(admin, ['config', 'unset', 'project']);
    const noProject = await mistrive(admin, ['repos', 'describe', 'backend']);
    expect(noProject.exitCode).toBe(2);
    expect(noProject.stderr).toContain(
      'Hint: pass --project P, or set a default with `mistrive config set project P`',
    );

    const updated = await mistriveJson<Repository>(admin, [
      'repos',
      'update',
      'shop/backend',
      '--no-scanning',
    ]);
    expect(updated).toMatchObject({ scanning: false, immutableTags: true });
    const nothing = await mistrive(admin, ['repos', 'update', 'shop/backend']);
    expect(nothing.exitCode).toBe(2);

    expect(await mistriveJson(admin, ['repos', 'delete', 'frontend', '--project', 'shop'])).toEqual({
      project: 'shop',
      repository: 'frontend',
      deleted: true,
    });
    const gone = await mistrive(admin, ['repos', 'describe', 'shop/frontend']);
    expect(gone.exitCode).toBe(5);
  });

  it('users: create with --password-stdin, list, disable and enable', async () => {
    const created = await mistriveJson<{ login: string; disabled: boolean }>(
      admin,
      ['users', 'create', 'bob@example.com', '--password-stdin'],
      { input: 'bob-password-1\n' },
    );
    expect(created).toMatchObject({ login: 'bob@example.com', admin: false, disabled: false });
    const list = await mistriveJson<{ users: { login: string }[] }>(admin, ['users', 'list']);
    expect(list.users.map((user) => user.login)).toEqual(['admin', 'bob@example.com']);

    await mistriveJson(admin, ['users', 'disable', 'bob@example.com']);
    const refused = await mistrive(
      bob,
      ['auth', 'login', '--registry', daemon.url, '--username', 'bob@example.com', '--password-stdin'],
      {
        input: 'bob-password-1',
      },
    );
    expect(refused.exitCode).toBe(3);
    await mistriveJson(admin, ['users', 'enable', 'bob@example.com']);
    const login = await mistrive(
      bob,
      ['auth', 'login', '--registry', daemon.url, '--username', 'bob@example.com', '--password-stdin'],
      {
        input: 'bob-password-1',
      },
    );
    expect(login.exitCode, login.stderr).toBe(0);

    const notAdmin = await mistrive(bob, ['users', 'list']);
    expect(notAdmin.exitCode).toBe(4);
  });

  it('IAM bindings on projects and repositories, and the hints for each kind of refusal', async () => {
    const unbound = await mistrive(bob, ['repos', 'describe', 'shop/backend']);
    expect(unbound.exitCode).toBe(5);
    expect(unbound.stderr).toContain('Hint: check the project and repository IDs');

    const policy = await mistriveJson<Policy>(admin, [
      'repos',
      'add-iam-policy-binding',
      'backend',
      '--project',
      'shop',
      '--member',
      'user:bob@example.com',
      '--role',
      'viewer',
    ]);
    expect(policy).toEqual({
      resource: 'projects/shop/repositories/backend',
      bindings: [{ role: 'viewer', members: ['user:bob@example.com'] }],
    });
    expect((await mistrive(admin, ['repos', 'get-iam-policy', 'shop/backend'])).stdout).toBe(
      'viewer\tuser:bob@example.com\n',
    );

    expect((await mistrive(bob, ['repos', 'describe', 'shop/backend'])).exitCode).toBe(0);
    const denied = await mistrive(bob, ['repos', 'delete', 'shop/backend']);
    expect(denied.exitCode).toBe(4);
    expect(denied.stderr).toBe(
      'Error: access forbidden: this needs the owner role on repository shop/backend\nHint: ask an owner of repository shop/backend or of project shop (or the instance administrator) to grant you the owner role there\n',
    );

    const notSignedIn = await mistrive(nobody, ['repos', 'describe', 'shop/backend']);
    expect(notSignedIn.exitCode).toBe(3);
    expect(notSignedIn.stderr).toBe(
      `Error: you are not signed in to ${daemon.url}\nHint: run \`mistrive auth login --registry ${daemon.url}\`\n`,
    );

    const publicEditor = await mistrive(admin, [
      'projects',
      'add-iam-policy-binding',
      'shop',
      '--member',
      'allUsers',
      '--role',
      'artifactstore.editor',
    ]);
    expect(publicEditor.exitCode).toBe(2);
    expect(publicEditor.stderr).toContain('allUsers can only be granted the viewer role');

    const projectPolicy = await mistriveJson<Policy>(admin, [
      'projects',
      'add-iam-policy-binding',
      'shop',
      '--member',
      'user:bob@example.com',
      '--role',
      'artifactstore.owner',
    ]);
    expect(projectPolicy.bindings).toEqual([
      { role: 'artifactstore.owner', members: ['user:bob@example.com'] },
    ]);
    expect((await mistriveJson<Policy>(bob, ['projects', 'get-iam-policy', 'shop'])).resource).toBe(
      'projects/shop',
    );
    const removed = await mistriveJson<Policy>(admin, [
      'projects',
      'remove-iam-policy-binding',
      'shop',
      '--member',
      'user:bob@example.com',
      '--role',
      'artifactstore.owner',
    ]);
    expect(removed.bindings).toEqual([]);
    const repoRemoved = await mistriveJson<Policy>(admin, [
      'repos',
      'remove-iam-policy-binding',
      'shop/backend',
      '--member',
      'user:bob@example.com',
      '--role',
      'viewer',
    ]);
    expect(repoRemoved.bindings).toEqual([]);
    expect((await mistrive(bob, ['repos', 'describe', 'shop/backend'])).exitCode).toBe(5);
  });

  it('images and tags: list, describe, tag, untag, delete', async () => {
    await mistriveJson(admin, ['repos', 'create', 'apps', '--project', 'shop']);
    const layouts = join(work.path, 'layouts');
    const first = buildImage([await tarGzLayer({ 'bin/app': randomBytes(32 * 1024) })]);
    const second = buildImage([await tarGzLayer({ 'bin/app': randomBytes(48 * 1024) })]);
    await writeOciLayout(join(layouts, 'one'), 'v1', first);
    await writeOciLayout(join(layouts, 'two'), 'v1', second);
    await pushLayout(daemon.url, join(layouts, 'one'), 'v1', 'shop/apps/web/api');
    const firstDigest = first.manifest.descriptor.digest;
    const secondDigest = second.manifest.descriptor.digest;
    const host = new URL(daemon.url).host;

    const listed = await mistriveJson<{ images: Image[] }>(admin, ['images', 'list', 'shop/apps']);
    expect(listed.images).toEqual([
      expect.objectContaining({
        name: 'web/api',
        fullName: 'shop/apps/web/api',
        digests: [expect.objectContaining({ digest: firstDigest, tags: ['v1'] })],
      }),
    ]);
    const piped = await mistrive(admin, ['images', 'list', `${host}/shop/apps`]);
    expect(piped.stdout).toMatch(
      new RegExp(`^shop/apps/web/api\\t${firstDigest}\\tv1\\t\\S+\\t\\d+\\t\\t\\n$`),
    );

    const described = await mistriveJson<{
      image: Image;
      digests: { digest: string; size: number; tags: string[] }[];
    }>(admin, ['images', 'describe', `${host}/shop/apps/web/api:v1`]);
    expect(described.digests).toEqual([
      expect.objectContaining({
        digest: firstDigest,
        tags: ['v1'],
        size: expect.any(Number),
        createdAt: expect.any(String),
      }),
    ]);
    expect(described.digests[0]?.size).toBeGreaterThan(32 * 1024);

    // v1 moves to another manifest: the first one is left untagged.
    await pushLayout(daemon.url, join(layouts, 'two'), 'v1', 'shop/apps/web/api');
    const untagged = await mistriveJson<{ images: Image[] }>(admin, [
      'images',
      'list',
      'apps',
      '--project',
      'shop',
      '--untagged',
    ]);
    expect(untagged.images.flatMap((image) => image.digests.map((digest) => digest.digest))).toEqual([
      firstDigest,
    ]);

    const tagged = await mistriveJson<{ digest: string; tags: { name: string; digest: string }[] }>(admin, [
      'tags',
      'add',
      `shop/apps/web/api@${firstDigest}`,
      'stable',
      'shop/apps/web/api:old',
    ]);
    expect(tagged.digest).toBe(firstDigest);
    expect(tagged.tags.map((tag) => tag.name)).toEqual(['stable', 'old']);
    const byTag = await mistriveJson<{ tags: { name: string }[] }>(admin, [
      'tags',
      'add',
      'shop/apps/web/api:v1',
      'latest',
    ]);
    expect(byTag.tags).toEqual([expect.objectContaining({ name: 'latest', digest: secondDigest })]);
    const tags = await mistrive(admin, ['tags', 'list', 'shop/apps/web/api']);
    expect(
      tags.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('\t').slice(0, 2)),
    ).toEqual([
      ['latest', secondDigest],
      ['old', firstDigest],
      ['stable', firstDigest],
      ['v1', secondDigest],
    ]);
    const wrongImage = await mistrive(admin, ['tags', 'add', 'shop/apps/web/api:v1', 'shop/apps/other:x']);
    expect(wrongImage.exitCode).toBe(2);
    const noSuchTag = await mistrive(admin, ['images', 'describe', 'shop/apps/web/api:nope']);
    expect(noSuchTag.exitCode).toBe(5);

    expect(await mistriveJson(admin, ['tags', 'delete', 'shop/apps/web/api:old'])).toEqual({
      image: 'shop/apps/web/api',
      tag: 'old',
      deleted: true,
    });
    const deletedDigest = await mistriveJson<{ deleted: { digest: string; tags: string[] }[] }>(admin, [
      'images',
      'delete',
      `shop/apps/web/api:stable`,
    ]);
    expect(deletedDigest.deleted).toEqual([{ digest: firstDigest, tags: ['stable'] }]);
    const whole = await mistriveJson<{ deleted: { digest: string }[] }>(admin, [
      'images',
      'delete',
      'shop/apps/web/api',
    ]);
    expect(whole.deleted.map((entry) => entry.digest)).toEqual([secondDigest]);
    expect((await mistriveJson<{ images: Image[] }>(admin, ['images', 'list', 'shop/apps'])).images).toEqual(
      [],
    );
    const badReference = await mistrive(admin, ['images', 'describe', 'shop/apps']);
    expect(badReference.exitCode).toBe(2);
    expect(badReference.stderr).toContain('it needs a project, a repository and an image name');
  });

  it('service accounts and keys, activate-service-account, and MISTRIVE_KEY for any command', async () => {
    const account = await mistriveJson<{ email: string }>(admin, [
      'service-accounts',
      'create',
      'deployer',
      '--project',
      'shop',
    ]);
    expect(account.email).toBe('deployer@shop.iam.mistrive');
    const accounts = await mistriveJson<{ serviceAccounts: { email: string }[] }>(admin, [
      'service-accounts',
      'list',
      '--project',
      'shop',
    ]);
    expect(accounts.serviceAccounts.map((entry) => entry.email)).toEqual(['deployer@shop.iam.mistrive']);
    await mistriveJson(admin, [
      'repos',
      'add-iam-policy-binding',
      'shop/backend',
      '--member',
      'serviceAccount:deployer@shop.iam.mistrive',
      '--role',
      'viewer',
    ]);

    const keyFile = join(work.path, 'deployer.json');
    const created = await mistriveJson<{ key: { id: string }; keyFile: string }>(admin, [
      'service-accounts',
      'keys',
      'create',
      keyFile,
      '--service-account',
      'deployer@shop.iam.mistrive',
    ]);
    expect(created.keyFile).toBe(keyFile);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const key = JSON.parse(await readFile(keyFile, 'utf8')) as {
      private_key_id: string;
      client_email: string;
    };
    expect(key).toMatchObject({ private_key_id: created.key.id, client_email: 'deployer@shop.iam.mistrive' });
    const keys = await mistriveJson<{ keys: { id: string }[] }>(admin, [
      'service-accounts',
      'keys',
      'list',
      '--service-account',
      'deployer',
      '--project',
      'shop',
    ]);
    expect(keys.keys.map((entry) => entry.id)).toEqual([created.key.id]);

    // A stored service account.
    const ci = await cliHome();
    try {
      const activated = await mistriveJson<{ account: string; kind: string; flow: string }>(ci, [
        'auth',
        'activate-service-account',
        '--key-file',
        keyFile,
      ]);
      expect(activated).toMatchObject({
        account: 'deployer@shop.iam.mistrive',
        kind: 'serviceAccount',
        flow: 'service-account-key',
      });
      expect((await mistriveJson<Repository>(ci, ['repos', 'describe', 'shop/backend'])).id).toBe('backend');
      const listed = await mistrive(ci, ['auth', 'list']);
      expect(listed.stdout).toMatch(
        new RegExp(
          `^\\*\\t${daemon.url.replace(/[.]/g, '\\.')}\\tdeployer@shop\\.iam\\.mistrive\\tservice account\\t\\S+\\tfile\\n$`,
        ),
      );
      // The stored key renews the access token when it is about to expire.
      const file = join(ci.configDir, 'credentials.json');
      const stored = JSON.parse(await readFile(file, 'utf8')) as { secrets: Record<string, string> };
      const secretKey = `account ${daemon.url} deployer@shop.iam.mistrive`;
      const secret = JSON.parse(stored.secrets[secretKey] ?? '{}') as {
        accessToken: string;
        keyFile: string;
      };
      expect(secret.keyFile).toContain('"private_key"');
      stored.secrets[secretKey] = JSON.stringify({
        ...secret,
        accessTokenExpiresAt: Math.floor(Date.now() / 1000) + 30,
      });
      await writeFile(file, JSON.stringify(stored));
      const renewed = (await mistrive(ci, ['auth', 'print-access-token'])).stdout.trim();
      expect(renewed).not.toBe(secret.accessToken);
      expect(
        (await fetch(`${daemon.url}/v2/`, { headers: { authorization: `Bearer ${renewed}` } })).status,
      ).toBe(200);
    } finally {
      await ci.remove();
    }

    // MISTRIVE_KEY alone: no sign-in, no stored account, the registry taken from the key.
    const env = { MISTRIVE_KEY: Buffer.from(await readFile(keyFile)).toString('base64') };
    const viaEnv = await mistriveJson<{ projects: Project[] }>(nobody, ['projects', 'list'], { env });
    expect(viaEnv.projects.map((project) => project.id)).toEqual(['shop']);
    const printed = await mistrive(nobody, ['auth', 'print-access-token'], { env });
    const subject = JSON.parse(
      Buffer.from(printed.stdout.trim().split('.')[1] ?? '', 'base64url').toString(),
    ).sub;
    expect(subject).toBe('serviceAccount:deployer@shop.iam.mistrive');
    const badKey = await mistrive(nobody, ['projects', 'list'], { env: { MISTRIVE_KEY: 'not-a-key' } });
    expect(badKey.exitCode).toBe(12);
    expect(badKey.stderr).toContain('MISTRIVE_KEY is set but is not a service-account key');

    expect(
      await mistriveJson(admin, [
        'service-accounts',
        'keys',
        'delete',
        created.key.id,
        '--service-account',
        'deployer@shop.iam.mistrive',
      ]),
    ).toEqual({ serviceAccount: 'deployer@shop.iam.mistrive', key: created.key.id, deleted: true });
    const revoked = await cliHome();
    try {
      const refused = await mistrive(revoked, ['auth', 'activate-service-account', '--key-file', keyFile]);
      expect(refused.exitCode).toBe(3);
      expect(refused.stderr).toContain('create a new one with `mistrive service-accounts keys create`');
    } finally {
      await revoked.remove();
    }
    expect(
      await mistriveJson(admin, ['service-accounts', 'delete', 'deployer', '--project', 'shop']),
    ).toEqual({
      serviceAccount: 'deployer',
      deleted: true,
    });
  });

  it('config: get, set, list, unset', async () => {
    const home = await cliHome();
    try {
      expect(await mistriveJson(home, ['config', 'get', 'registry'])).toEqual({
        name: 'registry',
        value: null,
      });
      expect((await mistrive(home, ['config', 'get', 'registry'])).stdout).toBe('');
      expect(await mistriveJson(home, ['config', 'set', 'registry', 'localhost:5000'])).toEqual({
        name: 'registry',
        value: 'http://localhost:5000',
      });
      await mistrive(home, ['config', 'set', 'project', 'shop']);
      expect((await mistrive(home, ['config', 'get', 'registry'])).stdout).toBe('http://localhost:5000\n');
      expect((await mistrive(home, ['config', 'list'])).stdout).toBe(
        'registry\thttp://localhost:5000\nproject\tshop\n',
      );
      const listed = await mistriveJson<{ path: string; settings: { name: string; value: string | null }[] }>(
        home,
        ['config', 'list'],
      );
      expect(listed.path).toBe(join(home.configDir, 'config.json'));
      expect(listed.settings.map(({ name, value }) => ({ name, value }))).toEqual([
        { name: 'registry', value: 'http://localhost:5000' },
        { name: 'project', value: 'shop' },
      ]);
      await mistrive(home, ['config', 'unset', 'project']);
      expect(
        (await mistriveJson<{ value: string | null }>(home, ['config', 'get', 'project'])).value,
      ).toBeNull();

      const badRegistry = await mistrive(home, ['config', 'set', 'registry', 'ftp://x']);
      expect(badRegistry.exitCode).toBe(2);
      expect(badRegistry.stderr).toContain('is not a registry address');
      const badName = await mistrive(home, ['config', 'get', 'colour']);
      expect(badName.exitCode).toBe(2);
    } finally {
      await home.remove();
    }
  });
});
