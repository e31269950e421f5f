import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliHome, mistrive, mistriveJson, serviceAccountKey, signIn } from '../support/cli.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { tempDir } from '../support/temp.js';

/**
 * What scripts rely on beyond each command's own behaviour: arguments come from the command line
 * only (never from whatever is piped in), exit codes mean the same thing in every command, and a
 * refusal says whom to ask for the resource that was refused.
 */

describe('mistrive in scripts', { timeout: 120_000 }, () => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let admin: CliHome;
  let bob: CliHome;

  beforeAll(async () => {
    registry = await startTestRegistry();
    work = await tempDir('mistrive-cli-scripting-');
    admin = await cliHome();
    bob = await cliHome();
    await signIn(admin, registry.url, 'admin', testAdminPassword);
    await mistriveJson(admin, ['projects', 'create', 'shop']);
    await mistriveJson(admin, ['repos', 'create', 'backend', '--project', 'shop']);
    await mistriveJson(admin, ['users', 'create', 'bob@example.com', '--password-stdin'], {
      input: 'bob-password-1',
    });
    await mistriveJson(admin, [
      'repos',
      'add-iam-policy-binding',
      'shop/backend',
      '--member',
      'user:bob@example.com',
      '--role',
      'viewer',
    ]);
    const bobLogin = await mistrive(
      bob,
      ['auth', 'login', '--registry', registry.url, '--username', 'bob@example.com', '--password-stdin'],
      { input: 'bob-password-1' },
    );
    expect(bobLogin.exitCode, bobLogin.stderr).toBe(0);
  });
  afterAll(async () => {
    await registry?.close();
    for (const home of [admin, bob]) await home?.remove();
    await work?.remove();
  });

  it('never takes an argument from piped stdin: a `while read` loop keeps its input', async () => {
    // As in `while read image; do TOKEN=$(mistrive auth print-access-token); …; done < images.txt`.
    const token = await mistrive(admin, ['auth', 'print-access-token'], { input: 'shop/backend/api:v1\n' });
    expect(token.exitCode, token.stderr).toBe(0);
    expect(token.stdout).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);

    // Piped text is not a repository ID: without one, the ID is generated.
    const created = await mistriveJson<{ id: string }>(admin, ['repos', 'create', '--project', 'shop'], {
      input: 'piped-text\n',
    });
    expect(created.id).not.toBe('piped-text');

    // Nor a Docker host.
    const configured = await mistriveJson<{ added: string[] }>(admin, ['auth', 'configure-docker'], {
      input: 'evil.example.com\n',
    });
    expect(configured.added).toEqual([new URL(registry.url).host]);
    const docker = JSON.parse(await readFile(admin.dockerConfig, 'utf8')) as {
      credHelpers: Record<string, string>;
    };
    expect(Object.keys(docker.credHelpers)).toEqual([new URL(registry.url).host]);

    // Nor the account to sign out: piped text must not pick which session ends.
    const logout = await mistrive(bob, ['auth', 'logout', '--json'], { input: 'admin\n' });
    expect(logout.exitCode, logout.stderr).toBe(0);
    expect(JSON.parse(logout.stdout)).toMatchObject({ account: 'bob@example.com' });
    const relogin = await mistrive(
      bob,
      ['auth', 'login', '--registry', registry.url, '--username', 'bob@example.com', '--password-stdin'],
      { input: 'bob-password-1' },
    );
    expect(relogin.exitCode, relogin.stderr).toBe(0);
  });

  it('takes several tags and hosts as arguments, and says so in the usage', async () => {
    const help = await mistrive(admin, ['tags', 'add', '--help']);
    expect(help.stdout).toContain('$ mistrive tags add SOURCE TAGS... ');
    const hosts = await mistriveJson<{ added: string[] }>(admin, [
      'auth',
      'configure-docker',
      'one.example.com',
      'two.example.com:5000',
    ]);
    expect(hosts.added).toEqual(['one.example.com', 'two.example.com:5000']);
    const noTags = await mistrive(admin, ['tags', 'add', 'shop/backend/api:v1']);
    expect(noTags.exitCode).toBe(2);
    expect(noTags.stderr).toContain(
      'Error: missing argument TAGS: the tags to add (TAG, or IMAGE:TAG of the same image)\n',
    );
    const badFlag = await mistrive(admin, ['tags', 'add', 'shop/backend/api:v1', 'stable', '--force']);
    expect(badFlag.exitCode).toBe(2);
    expect(badFlag.stderr).toContain('unknown flag: --force');
  });

  it('exits with 3 for "not signed in" in auth logout as everywhere else', async () => {
    const nobody = await cliHome();
    try {
      const logout = await mistrive(nobody, ['auth', 'logout', '--registry', registry.url]);
      expect(logout.stderr).toContain(`Error: you are not signed in to ${registry.url}`);
      expect(logout.exitCode).toBe(3);
      const token = await mistrive(nobody, ['auth', 'print-access-token', '--registry', registry.url]);
      expect(token.exitCode).toBe(3);
      const unknown = await mistrive(admin, ['auth', 'logout', 'nobody@example.com']);
      expect(unknown.exitCode).toBe(5);
    } finally {
      await nobody.remove();
    }
  });

  it('says what is wrong with a key file that cannot be read, and what to pass instead', async () => {
    const missing = join(work.path, 'missing.json');
    const result = await mistrive(admin, ['auth', 'activate-service-account', '--key-file', missing]);
    expect(result.exitCode).toBe(12);
    expect(result.stderr).toBe(
      `Error: cannot read the key file ${missing}: there is no such file\nHint: pass the JSON file \`mistrive service-accounts keys create FILE --service-account EMAIL\` wrote\n`,
    );
    const directory = await mistrive(admin, ['auth', 'activate-service-account', '--key-file', work.path]);
    expect(directory.exitCode).toBe(12);
    expect(directory.stderr).toContain('it is a directory');
  });

  it('lists MISTRIVE_KEY as the only active account of its registry', async () => {
    const key = await serviceAccountKey(admin, {
      project: 'shop',
      name: 'ci',
      keyFile: join(work.path, 'ci.json'),
    });
    const list = await mistriveJson<{ accounts: { account: string; active: boolean }[] }>(
      admin,
      ['auth', 'list'],
      { env: { MISTRIVE_KEY: key } },
    );
    expect(list.accounts.map(({ account, active }) => ({ account, active }))).toEqual([
      { account: 'ci@shop.iam.mistrive', active: true },
      { account: 'admin', active: false },
    ]);
    const piped = await mistrive(admin, ['auth', 'list'], { env: { MISTRIVE_KEY: key } });
    expect(piped.stdout.split('\n').filter((line) => line.startsWith('*'))).toHaveLength(1);
  });

  it('says whom to ask, for the resource that was refused', async () => {
    const users = await mistrive(bob, ['users', 'list']);
    expect(users.exitCode).toBe(4);
    expect(users.stderr).toContain('Hint: only the instance administrator manages users');
    expect(users.stderr).not.toContain('repos get-iam-policy');

    const project = await mistrive(bob, ['projects', 'create', 'bobs']);
    expect(project.exitCode).toBe(4);
    expect(project.stderr).toContain('artifactstore.owner on the organization');
    expect(project.stderr).not.toContain('repos get-iam-policy');

    const accounts = await mistrive(bob, ['service-accounts', 'list', '--project', 'shop']);
    expect(accounts.exitCode).toBe(4);
    // Whom to ask and for what, never `get-iam-policy`, which takes the owner role too.
    expect(accounts.stderr).toContain(
      'Hint: ask an owner of project shop (or the instance administrator) to grant you the artifactstore.owner role there\n',
    );

    const repository = await mistrive(bob, ['repos', 'delete', 'shop/backend']);
    expect(repository.exitCode).toBe(4);
    expect(repository.stderr).toContain(
      'Hint: ask an owner of repository shop/backend or of project shop (or the instance administrator) to grant you the owner role there\n',
    );
    expect(repository.stderr).not.toContain('get-iam-policy');
  });
});
