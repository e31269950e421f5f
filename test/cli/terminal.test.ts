import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import {
  type CliHome,
  cliBin,
  cliHome,
  mistrive,
  repositoryRoot,
  inTerminal as runInTerminal,
} from '../support/cli.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { waitFor } from '../support/wait.js';

/**
 * What a person at a terminal sees: the CLI run in a real pseudo-terminal (`script`), aligned tables
 * with a header, colour unless NO_COLOR says no; and plain lines when the same command is piped.
 */

const esc = String.fromCharCode(27);

describe('on a terminal', () => {
  let registry: TestRegistry;
  let home: CliHome;

  beforeAll(async () => {
    registry = await startTestRegistry();
    home = await cliHome();
    const login = await mistrive(
      home,
      ['auth', 'login', '--registry', registry.url, '--username', 'admin', '--password-stdin'],
      {
        input: testAdminPassword,
      },
    );
    expect(login.exitCode, login.stderr).toBe(0);
    await mistrive(home, ['projects', 'create', 'shop', '--display-name', 'The shop']);
    await mistrive(home, ['projects', 'create', 'tools']);
  });
  afterAll(async () => {
    await registry?.close();
    await home?.remove();
  });

  const inTerminal = (args: string[], env: Record<string, string> = {}, typed = '') =>
    runInTerminal(home, args, { env, typed });

  it('aligns tables under a header, without colour when NO_COLOR is set', async () => {
    const { exitCode, screen } = await inTerminal(['projects', 'list'], { NO_COLOR: '1' });
    expect(exitCode, screen).toBe(0);
    const lines = screen.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PROJECT {2}DISPLAY NAME {2}ORGANIZATION {2}CREATED$/);
    expect(lines[1]).toMatch(/^shop {5}The shop {6}default {7}\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(lines[2]).toMatch(/^tools {4} {14}default {7}\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(screen).not.toContain(`${esc}[`);
  });

  it('uses colour when allowed', async () => {
    const { screen } = await inTerminal(['projects', 'list']);
    expect(screen).toContain(`${esc}[1mPROJECT`);
  });

  it('asks before deleting, and keeps everything when the answer is no', async () => {
    const { exitCode, screen } = await inTerminal(['projects', 'delete', 'tools'], { NO_COLOR: '1' }, 'n\n');
    expect(screen).toContain('Delete project tools and everything in it? [y/N]');
    // Answering no is not an error: it says nothing was deleted, with its own exit code.
    expect(screen).toContain('Nothing was deleted.');
    expect(screen).not.toContain('Error:');
    expect(exitCode).toBe(13);
    const list = await mistrive(home, ['projects', 'list']);
    expect(list.stdout).toContain('tools\t');

    await mistrive(home, ['projects', 'create', 'scratch']);
    const yes = await inTerminal(['projects', 'delete', 'scratch'], { NO_COLOR: '1' }, 'y\n');
    expect(yes.exitCode, yes.screen).toBe(0);
    expect(yes.screen).toContain('Deleted project scratch.');
    expect((await mistrive(home, ['projects', 'list'])).stdout).not.toContain('scratch');
  });

  it('says so when a list is empty, and prints nothing when piped', async () => {
    await mistrive(home, ['repos', 'create', 'empty', '--project', 'shop']);
    const repos = await inTerminal(['repos', 'list', '--project', 'tools'], { NO_COLOR: '1' });
    expect(repos.exitCode, repos.screen).toBe(0);
    expect(repos.screen.trimEnd()).toBe(
      'No repositories you can see in project tools. Create one with `mistrive repos create ID --project tools`.',
    );
    const images = await inTerminal(['images', 'list', 'shop/empty'], { NO_COLOR: '1' });
    expect(images.screen.trimEnd()).toBe('No images in shop/empty.');
    const untagged = await inTerminal(['images', 'list', 'shop/empty', '--untagged'], { NO_COLOR: '1' });
    expect(untagged.screen.trimEnd()).toBe('No untagged images in shop/empty.');
    const accounts = await inTerminal(['service-accounts', 'list', '--project', 'shop'], { NO_COLOR: '1' });
    expect(accounts.screen.trimEnd()).toBe('No service accounts in project shop.');
    const piped = await mistrive(home, ['images', 'list', 'shop/empty']);
    expect(piped).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('prints the same data as tab-separated lines when piped', async () => {
    const piped = await mistrive(home, ['projects', 'list']);
    expect(piped.stdout.split('\n').map((line) => line.split('\t').slice(0, 3))).toEqual([
      ['shop', 'The shop', 'default'],
      ['tools', '', 'default'],
      [''],
    ]);
  });

  it('asks for the password without echo when --username is given without --password-stdin', {
    timeout: 120_000,
  }, async () => {
    const session = await tmuxSession(['auth', 'login', '--registry', registry.url, '--username', 'admin']);
    try {
      await session.waitForScreen(/Password for admin:/);
      await session.type(testAdminPassword);
      const screen = await session.waitForScreen(/EXIT=\d+/);
      expect(screen).toContain('EXIT=0');
      expect(screen).toContain(`Signed in to ${registry.url} as admin.`);
      expect(screen).not.toContain(testAdminPassword);
    } finally {
      await session.kill();
    }
    const piped = await mistrive(home, ['auth', 'login', '--registry', registry.url, '--username', 'admin']);
    expect(piped).toEqual({
      exitCode: 2,
      stdout: '',
      stderr:
        'Error: no password for admin: there is no terminal to ask on\nHint: pipe it in: `printf %s "$PASSWORD" | mistrive auth login --username U --password-stdin`\n',
    });
  });

  /**
   * `mistrive ARGS` in a tmux session of its own: keys are typed once the screen shows what the
   * program asks, as a person would, and the screen is read as the terminal shows it.
   */
  async function tmuxSession(args: string[]) {
    const socket = join(home.path, `tmux-${args.length}-${Date.now()}`);
    const tmux = (more: string[]) =>
      execa('tmux', ['-S', socket, '-f', '/dev/null', ...more], {
        env: { ...home.env, TERM: 'xterm-256color', NO_COLOR: '1' },
        extendEnv: false,
        cwd: repositoryRoot,
      });
    const command = `${[process.execPath, cliBin, ...args].map((word) => `'${word}'`).join(' ')}; echo EXIT=$?; sleep 600`;
    await tmux(['new-session', '-d', '-x', '120', '-y', '40', command]);
    const screen = async () => String((await tmux(['capture-pane', '-p'])).stdout);
    return {
      waitForScreen: (pattern: RegExp) =>
        waitFor(
          `the terminal to show ${pattern}`,
          async () => {
            const text = await screen();
            return pattern.test(text) ? text : undefined;
          },
          60_000,
          100,
        ),
      type: async (text: string) => {
        await tmux(['send-keys', '-l', text]);
        await tmux(['send-keys', 'Enter']);
      },
      kill: () => tmux(['kill-server']).catch(() => undefined),
    };
  }

  it('shows a spinner while waiting for the browser, only on a terminal', async () => {
    // A launcher that opens nothing: the CLI waits, with a spinner, until its timeout.
    const { exitCode, screen } = await inTerminal(
      ['auth', 'login', '--registry', registry.url, '--timeout', '3'],
      {
        NO_COLOR: '1',
        MISTRIVE_BROWSER: '/bin/true',
      },
    );
    expect(exitCode).toBe(8);
    expect(screen).toContain('Waiting for you to sign in in the browser');
    expect(screen).toContain('✖ Sign-in timed out');
    // Cursor movement, but no colour: NO_COLOR is set.
    expect(screen).not.toMatch(new RegExp(`${esc}\\[(3|9)\\dm`));
    const piped = await mistrive(home, ['auth', 'login', '--registry', registry.url, '--timeout', '3'], {
      env: { MISTRIVE_BROWSER: '/bin/true' },
    });
    expect(piped.exitCode).toBe(8);
    expect(piped.stderr).not.toContain('Waiting for you');
  });
});
