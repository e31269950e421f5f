import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliHome, cliHome, mistrive } from '../support/cli.js';

/** What the command line itself gets wrong: extra arguments and unknown commands are usage errors (exit 2). */

describe('a command line that names no command as typed', () => {
  let home: CliHome;
  beforeAll(async () => {
    home = await cliHome();
  });
  afterAll(async () => {
    await home?.remove();
  });

  it.each([
    [
      ['auth', 'login', '127.0.0.1:5000'],
      'Error: unexpected argument: 127.0.0.1:5000\nHint: this command takes no registry argument: name the registry with --registry 127.0.0.1:5000\n',
    ],
    [
      ['auth', 'docker-login', 'localhost:5000'],
      'Error: unexpected argument: localhost:5000\nHint: this command takes no registry argument: name the registry with --registry localhost:5000\n',
    ],
    [
      ['projects', 'list', 'foo'],
      'Error: unexpected argument: foo\nHint: see `--help` for the flags and arguments this command takes\n',
    ],
    [
      ['projects', 'describe', 'shop', 'extra'],
      'Error: unexpected argument: extra\nHint: see `--help` for the flags and arguments this command takes\n',
    ],
  ])('%j is a usage error naming the extra argument', async (args, stderr) => {
    const result = await mistrive(home, args);
    expect(result).toEqual({ exitCode: 2, stdout: '', stderr });
  });

  it('reports an extra argument as JSON with --json', async () => {
    const result = await mistrive(home, ['auth', 'login', '127.0.0.1:5000', '--json']);
    expect(result.exitCode).toBe(2);
    expect(JSON.parse(result.stderr)).toEqual({
      error: {
        code: 'USAGE',
        message: 'unexpected argument: 127.0.0.1:5000',
        hint: 'this command takes no registry argument: name the registry with --registry 127.0.0.1:5000',
      },
    });
  });

  it('exits 2 for an unknown command, after saying it is not one', async () => {
    const result = await mistrive(home, ['bogus']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('`mistrive bogus` is not a mistrive command.');
    const inTopic = await mistrive(home, ['auth', 'bogus', 'x']);
    expect(inTopic.exitCode).toBe(2);
    expect(inTopic.stderr).toContain('`mistrive auth bogus` is not a mistrive command.');
  });
});
