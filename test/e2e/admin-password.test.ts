import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliHome, cliHome, mistrive } from '../support/cli.js';
import { type Daemon, mistriveBin, startDaemon } from '../support/registry.js';
import { tempDir } from '../support/temp.js';

/** The administrator's password across failed starts, and `mistrive admin reset-password`. */

const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;

/** The status `/v2/` answers to the administrator's Basic credentials with this password. */
async function signInStatus(daemon: Daemon, password: string): Promise<number> {
  return (await fetch(`${daemon.url}/v2/`, { headers: { Authorization: basic(password) } })).status;
}

function printedPassword(output: string): string {
  const match = /password (?:for "admin": )?(\S+)$/m.exec(output.replace(/^Keep it safe.*$/m, ''));
  expect(match?.[1], output).toBeTruthy();
  return match?.[1] ?? '';
}

/** The CLI's error text with the terminal line wrapping and `›` margins taken out. */
function unwrapped(stderr: string): string {
  return stderr.replace(/\s*›\s*/g, ' ').replace(/\s+/g, ' ');
}

describe("the administrator's password", { timeout: 120_000 }, () => {
  let data: Awaited<ReturnType<typeof tempDir>>;
  let home: CliHome;
  let daemon: Daemon | undefined;
  let blocker: Server | undefined;

  beforeEach(async () => {
    data = await tempDir('mistrive-e2e-admin-');
    home = await cliHome();
    daemon = undefined;
    blocker = undefined;
  });
  afterEach(async () => {
    if (daemon && daemon.process.exitCode === null && daemon.process.signalCode === null) await daemon.stop();
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
    await home.remove();
    await data.remove();
  });

  it('is not lost to a first start that cannot listen: nothing is created, and the next good start prints it', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(0, '127.0.0.1', resolve));
    const port = String((blocker.address() as { port: number }).port);
    const dataDir = join(data.path, 'data');
    const { MISTRIVE_ADMIN_PASSWORD: _, ...env } = process.env;
    const failed = await execa(
      process.execPath,
      [mistriveBin, 'serve', '--port', port, '--data-dir', dataDir],
      {
        env,
        extendEnv: false,
        reject: false,
        timeout: 15_000,
      },
    );
    expect(failed.exitCode).toBe(1);
    const message = unwrapped(failed.stderr);
    expect(message).toMatch(/the port is already in use/);
    expect(message).toContain(`mistrive admin reset-password --data-dir ${dataDir}`);
    expect(message).toContain('MISTRIVE_ADMIN_PASSWORD');
    expect(failed.stdout).not.toMatch(/password/);
    // No data directory, so no key and no administrator nobody knows the password of.
    expect(existsSync(dataDir)).toBe(false);

    daemon = await startDaemon(dataDir, [], {}, { adminPassword: undefined });
    const password = printedPassword(daemon.stdout());
    expect(daemon.stdout()).toContain('admin reset-password');
    expect(await signInStatus(daemon, password)).toBe(200);
  });

  it('is replaced by admin reset-password with the daemon stopped, and refused while it runs', async () => {
    const dataDir = join(data.path, 'data');
    daemon = await startDaemon(dataDir, [], {}, { adminPassword: undefined });
    const first = printedPassword(daemon.stdout());

    const refused = await mistrive(home, ['admin', 'reset-password', '--data-dir', dataDir]);
    expect(refused.exitCode).toBe(6);
    expect(refused.stderr).toContain(
      `a registry daemon (process ${daemon.process.pid}) is serving ${dataDir}`,
    );
    expect(refused.stderr).toMatch(/Hint: stop it first/);
    expect(refused.stdout).toBe('');
    expect(await signInStatus(daemon, first)).toBe(200);
    expect(await daemon.stop()).toBe(0);

    const reset = await mistrive(home, ['admin', 'reset-password', '--data-dir', dataDir]);
    expect(reset.exitCode, reset.stderr).toBe(0);
    const generated = printedPassword(reset.stdout);
    expect(generated).not.toBe(first);
    daemon = await startDaemon(dataDir, [], {}, { adminPassword: undefined });
    // An existing administrator's password is never printed again.
    expect(daemon.stdout()).not.toMatch(/password/);
    expect(await signInStatus(daemon, generated)).toBe(200);
    expect(await signInStatus(daemon, first)).toBe(401);

    // A daemon killed outright leaves its process file behind; it does not block a reset.
    await daemon.kill();
    const chosen = 'a-password-of-my-choosing';
    const piped = await mistrive(
      home,
      ['admin', 'reset-password', '--data-dir', dataDir, '--password-stdin', '--json'],
      {
        input: chosen,
      },
    );
    expect(piped.exitCode, piped.stderr).toBe(0);
    expect(JSON.parse(piped.stdout)).toEqual({ login: 'admin', dataDir });
    daemon = await startDaemon(dataDir, [], {}, { adminPassword: undefined });
    expect(await signInStatus(daemon, chosen)).toBe(200);
    expect(await signInStatus(daemon, generated)).toBe(401);
  });

  it('refuses to reset in a directory that holds no registry, or to a password too short', async () => {
    const empty = await mistrive(home, ['admin', 'reset-password', '--data-dir', join(data.path, 'nothing')]);
    expect(empty.exitCode).toBe(5);
    expect(empty.stderr).toContain('holds no registry data');
    expect(existsSync(join(data.path, 'nothing'))).toBe(false);

    const dataDir = join(data.path, 'data');
    daemon = await startDaemon(dataDir);
    await daemon.stop();
    const short = await mistrive(
      home,
      ['admin', 'reset-password', '--data-dir', dataDir, '--password-stdin'],
      {
        input: 'short',
      },
    );
    expect(short.exitCode).toBe(2);
    expect(short.stderr).toContain('8 to 1024 characters');
  });
});
