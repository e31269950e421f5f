import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { migrations } from '../../src/db/sqlite/migrations.js';
import { testAdminPassword } from '../support/admin-password.js';
import {
  type CliHome,
  cliBin,
  cliHome,
  mistrive,
  mistriveJson,
  repositoryRoot,
  unwrapped,
} from '../support/cli.js';
import { type Daemon, mistriveBin, startDaemon } from '../support/registry.js';
import { tempDir } from '../support/temp.js';

/**
 * User accounts with the built CLI against `mistrive serve`: the administrator resets passwords and
 * deletes users, a user changes their own password (on a terminal without echo, or from stdin),
 * logins are one account whatever their case, and an older data directory's logins are folded.
 */

interface Policy {
  bindings: { role: string; members: string[] }[];
}

const password = 'user-password-1';

/** Signs `home` in to the daemon with a password; returns the CLI's result. */
function signIn(home: CliHome, daemon: Daemon, login: string, secret: string) {
  return mistrive(
    home,
    ['auth', 'login', '--registry', daemon.url, '--username', login, '--password-stdin'],
    {
      input: secret,
    },
  );
}

describe('user accounts with the CLI', { timeout: 180_000 }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon;
  let admin: CliHome;

  beforeAll(async () => {
    work = await tempDir('mistrive-cli-accounts-');
    daemon = await startDaemon(join(work.path, 'data'));
    admin = await cliHome();
    expect((await signIn(admin, daemon, 'admin', testAdminPassword)).exitCode).toBe(0);
    expect((await mistrive(admin, ['projects', 'create', 'team'])).exitCode).toBe(0);
  });
  afterAll(async () => {
    await daemon?.stop();
    await admin?.remove();
    await work?.remove();
  });

  async function newUser(login: string): Promise<CliHome> {
    const created = await mistrive(admin, ['users', 'create', login, '--password-stdin'], {
      input: password,
    });
    expect(created.exitCode, created.stderr).toBe(0);
    const home = await cliHome();
    expect((await signIn(home, daemon, login, password)).exitCode).toBe(0);
    return home;
  }

  it('users set-password sets the password from stdin and signs the user out everywhere', async () => {
    const user = await newUser('nina@example.com');
    const reset = await mistrive(admin, ['users', 'set-password', 'nina@example.com', '--password-stdin'], {
      input: 'a-new-password',
    });
    expect(reset.exitCode, reset.stderr).toBe(0);
    expect(reset.stdout).toContain('Set a new password for nina@example.com');
    expect(reset.stdout).not.toContain('a-new-password');

    const stale = await mistrive(user, ['projects', 'list']);
    expect(stale.exitCode, stale.stdout).toBe(3);
    expect((await signIn(user, daemon, 'nina@example.com', password)).exitCode).toBe(3);
    expect((await signIn(user, daemon, 'nina@example.com', 'a-new-password')).exitCode).toBe(0);
  });

  it('users set-password without --password-stdin generates one and prints it once', async () => {
    await newUser('omar@example.com');
    const reset = await mistriveJson<{ user: { login: string }; password: string }>(admin, [
      'users',
      'set-password',
      'omar@example.com',
    ]);
    expect(reset.user.login).toBe('omar@example.com');
    expect(reset.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const elsewhere = await cliHome();
    expect((await signIn(elsewhere, daemon, 'omar@example.com', reset.password)).exitCode).toBe(0);
    await elsewhere.remove();

    const printed = await mistrive(admin, ['users', 'set-password', 'omar@example.com']);
    expect(printed.exitCode, printed.stderr).toBe(0);
    expect(printed.stdout).toMatch(/Password: [A-Za-z0-9_-]{24}\nIt is not shown again/);
  });

  it('users delete removes the user and its roles, and its sign-ins stop working', async () => {
    const user = await newUser('pete@example.com');
    await mistrive(admin, [
      'projects',
      'add-iam-policy-binding',
      'team',
      '--member',
      'user:pete@example.com',
      '--role',
      'artifactstore.viewer',
    ]);
    const deleted = await mistrive(admin, ['users', 'delete', 'pete@example.com']);
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    expect(deleted.stdout).toContain('Deleted user pete@example.com.');

    const logins = (await mistriveJson<{ users: { login: string }[] }>(admin, ['users', 'list'])).users.map(
      (u) => u.login,
    );
    expect(logins).not.toContain('pete@example.com');
    const policy = await mistriveJson<Policy>(admin, ['projects', 'get-iam-policy', 'team']);
    expect(policy.bindings.flatMap((binding) => binding.members)).not.toContain('user:pete@example.com');
    expect((await mistrive(user, ['projects', 'list'])).exitCode).toBe(3);
    const again = await mistrive(admin, ['users', 'delete', 'pete@example.com']);
    expect(again.exitCode).toBe(5);
    expect(again.stderr).toContain('user pete@example.com not found');
  });

  it('auth change-password --password-stdin keeps this sign-in and signs out the others', async () => {
    const here = await newUser('quin@example.com');
    const elsewhere = await cliHome();
    expect((await signIn(elsewhere, daemon, 'quin@example.com', password)).exitCode).toBe(0);

    const changed = await mistrive(here, ['auth', 'change-password', '--password-stdin'], {
      input: `${password}\nquin-new-password\n`,
    });
    expect(changed.exitCode, changed.stderr).toBe(0);
    expect(changed.stdout).toContain('Changed the password of quin@example.com');

    expect((await mistrive(here, ['projects', 'list'])).exitCode).toBe(0);
    expect((await mistrive(elsewhere, ['projects', 'list'])).exitCode).toBe(3);
    expect((await signIn(elsewhere, daemon, 'quin@example.com', password)).exitCode).toBe(3);
    expect((await signIn(elsewhere, daemon, 'quin@example.com', 'quin-new-password')).exitCode).toBe(0);
    await elsewhere.remove();

    const wrong = await mistrive(here, ['auth', 'change-password', '--password-stdin'], {
      input: 'not-the-password\nwhatever-else-1\n',
    });
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr).toContain('is not your current password');
    const oneLine = await mistrive(here, ['auth', 'change-password', '--password-stdin'], {
      input: 'only-one',
    });
    expect(oneLine.exitCode).toBe(2);
    expect(oneLine.stderr).toContain('two lines');
    const noTerminal = await mistrive(here, ['auth', 'change-password']);
    expect(noTerminal.exitCode).toBe(2);
    expect(noTerminal.stderr).toContain('--password-stdin');
  });

  /** `mistrive ARGS` in a pseudo-terminal; each answer is typed once its prompt shows. */
  async function inTerminal(home: CliHome, args: string[], answers: [RegExp, string][]) {
    const command = `stty cols 120 rows 40; ${[process.execPath, cliBin, ...args].map((word) => `'${word}'`).join(' ')}`;
    const child = execa('script', ['-qec', command, '/dev/null'], {
      env: { ...home.env, TERM: 'xterm-256color', NO_COLOR: '1' },
      extendEnv: false,
      cwd: repositoryRoot,
      reject: false,
      timeout: 60_000,
    });
    let screen = '';
    let next = 0;
    child.stdout?.on('data', (chunk: Buffer) => {
      screen += chunk.toString();
      const answer = answers[next];
      if (!answer?.[0].test(screen.slice(screen.lastIndexOf('\n') + 1))) return;
      next++;
      child.stdin?.write(`${answer[1]}\r`);
    });
    const result = await child;
    return { exitCode: result.exitCode ?? -1, screen: screen.replaceAll('\r\n', '\n') };
  }

  it('auth change-password asks on a terminal without showing what is typed', async () => {
    const home = await newUser('rosa@example.com');
    const { exitCode, screen } = await inTerminal(
      home,
      ['auth', 'change-password'],
      [
        [/Current password: $/, password],
        [/New password: $/, 'rosa-typed-password'],
        [/New password again: $/, 'rosa-typed-password'],
      ],
    );
    expect(exitCode, screen).toBe(0);
    expect(screen).toContain('Changed the password of rosa@example.com');
    expect(screen).not.toContain(password);
    expect(screen).not.toContain('rosa-typed-password');
    const elsewhere = await cliHome();
    expect((await signIn(elsewhere, daemon, 'rosa@example.com', 'rosa-typed-password')).exitCode).toBe(0);
    await elsewhere.remove();

    const mismatch = await inTerminal(
      home,
      ['auth', 'change-password'],
      [
        [/Current password: $/, 'rosa-typed-password'],
        [/New password: $/, 'one-new-password'],
        [/New password again: $/, 'another-new-password'],
      ],
    );
    expect(mismatch.exitCode).toBe(2);
    expect(mismatch.screen).toContain('the new passwords do not match');
  });

  it('users delete asks first on a terminal, and keeps the user when the answer is no', async () => {
    await newUser('sven@example.com');
    const { exitCode, screen } = await inTerminal(
      admin,
      ['users', 'delete', 'sven@example.com'],
      [[/\[y\/N\] /, 'n']],
    );
    expect(screen).toContain('Delete user sven@example.com, its roles, tokens and sessions? [y/N]');
    expect(exitCode).toBe(13);
    const logins = (await mistriveJson<{ users: { login: string }[] }>(admin, ['users', 'list'])).users.map(
      (u) => u.login,
    );
    expect(logins).toContain('sven@example.com');
  });

  it('treats logins in any case as one account', async () => {
    const created = await mistriveJson<{ login: string }>(
      admin,
      ['users', 'create', 'Tara@Example.com', '--password-stdin'],
      {
        input: password,
      },
    );
    expect(created.login).toBe('tara@example.com');
    await mistrive(admin, [
      'projects',
      'add-iam-policy-binding',
      'team',
      '--member',
      'user:TARA@example.com',
      '--role',
      'artifactstore.viewer',
    ]);
    const tara = await cliHome();
    expect((await signIn(tara, daemon, 'tArA@EXAMPLE.com', password)).exitCode).toBe(0);
    const projects = await mistriveJson<{ projects: { id: string }[] }>(tara, ['projects', 'list']);
    expect(projects.projects.map((project) => project.id)).toEqual(['team']);
    expect((await mistrive(admin, ['users', 'disable', 'TARA@example.com'])).exitCode).toBe(0);
    expect((await mistrive(tara, ['projects', 'list'])).exitCode).toBe(3);
    await tara.remove();
  });
});

describe('a data directory from before logins were folded', { timeout: 120_000 }, () => {
  const folding = migrations.findIndex((migration) => migration.includes('fold_logins_check'));

  /**
   * A metadata database at the schema version before the folding, with these users in it, a project
   * `old`, and a viewer binding on it for each of `members`.
   */
  async function olderDataDir(logins: string[], members: string[] = []) {
    const dir = await tempDir('mistrive-fold-');
    const data = join(dir.path, 'data');
    await mkdir(data, { mode: 0o700 });
    const db = new Database(join(data, 'metadata.db'));
    for (const migration of migrations.slice(0, folding)) db.exec(migration);
    db.pragma(`user_version = ${folding}`);
    const insert = db.prepare(
      'INSERT INTO users (login, password_hash, admin, disabled, created_at) VALUES (?, ?, 0, 0, ?)',
    );
    for (const login of logins) insert.run(login, await hashPassword(password), Date.now() - 60_000);
    db.prepare(
      "INSERT INTO projects (id, organization_id, created_at, updated_at) VALUES ('old', 'default', 0, 0)",
    ).run();
    const bind = db.prepare(
      "INSERT INTO iam_bindings (resource_kind, resource_id, member, role) VALUES ('project', 'old', ?, 'artifactstore.viewer')",
    );
    for (const member of members) bind.run(member);
    db.close();
    return { dir, data };
  }

  async function projectsOf(daemon: Daemon, login: string): Promise<string[]> {
    const home = await cliHome();
    try {
      expect((await signIn(home, daemon, login, password)).exitCode).toBe(0);
      const list = await mistriveJson<{ projects: { id: string }[] }>(home, ['projects', 'list']);
      return list.projects.map((project) => project.id);
    } finally {
      await home.remove();
    }
  }

  it('folds the logins and the members naming them, and drops bindings no user holds', async () => {
    expect(folding).toBeGreaterThan(0);
    // Fay@Example.com was deleted by hand, leaving her binding: fay@example.com must not inherit it.
    const { dir, data } = await olderDataDir(
      ['Dana@Example.COM', 'fay@example.com'],
      ['user:Dana@Example.COM', 'user:Fay@Example.com'],
    );
    const daemon = await startDaemon(data);
    try {
      expect(await projectsOf(daemon, 'dana@example.com')).toEqual(['old']);
      expect(await projectsOf(daemon, 'fay@example.com')).toEqual([]);
    } finally {
      await daemon.stop();
      await dir.remove();
    }
  });

  it('refuses to start when two logins differ only in case, naming them, and changes nothing', async () => {
    const { dir, data } = await olderDataDir(['Eve@example.com', 'eve@example.com']);
    try {
      const serve = await execa(process.execPath, [mistriveBin, 'serve', '--port', '0', '--data-dir', data], {
        env: { ...process.env, MISTRIVE_ADMIN_PASSWORD: testAdminPassword },
        reject: false,
        timeout: 30_000,
      });
      expect(serve.exitCode).toBe(1);
      const message = unwrapped(serve.stderr);
      expect(message).toContain('cannot upgrade the metadata database');
      expect(message).toContain('Eve@example.com and eve@example.com');
      expect(message).toContain(`sqlite3 ${join(data, 'metadata.db')}`);
      expect(serve.stderr).not.toMatch(/\n\s+at /);
      const db = new Database(join(data, 'metadata.db'), { readonly: true });
      expect(db.pragma('user_version', { simple: true })).toBe(folding);
      db.close();
    } finally {
      await dir.remove();
    }
  });
});
