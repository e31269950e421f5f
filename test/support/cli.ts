import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { tempDir } from './temp.js';

/**
 * Runs the built CLI and the credential helper as their own processes, the way people and Docker
 * do, each test with its own HOME, config directory and Docker config in a temporary directory.
 */

export const cliBin = fileURLToPath(new URL('../../bin/run.js', import.meta.url));
export const helperBin = fileURLToPath(new URL('../../bin/docker-credential-mistrive.js', import.meta.url));
export const browserLauncher = fileURLToPath(new URL('./browser-launcher.sh', import.meta.url));
export const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface CliHome {
  readonly path: string;
  /** The environment every process of this test runs with: no real home, no keychain unless asked. */
  readonly env: Record<string, string>;
  /** Where the CLI keeps its files. */
  readonly configDir: string;
  /** The Docker config file. */
  readonly dockerConfig: string;
  /** A directory holding `docker-credential-mistrive`, first on PATH. */
  readonly binDir: string;
  remove(): Promise<void>;
}

export async function cliHome(extraEnv: Record<string, string> = {}): Promise<CliHome> {
  const dir = await tempDir('mistrive-cli-');
  const binDir = join(dir.path, 'bin');
  await mkdir(binDir);
  await symlink(helperBin, join(binDir, 'docker-credential-mistrive'));
  const env: Record<string, string> = {
    PATH: `${binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: dir.path,
    XDG_CONFIG_HOME: join(dir.path, 'config'),
    XDG_DATA_HOME: join(dir.path, 'data'),
    XDG_RUNTIME_DIR: dir.path,
    DOCKER_CONFIG: join(dir.path, 'docker'),
    LANG: 'C.UTF-8',
    ...extraEnv,
  };
  return {
    path: dir.path,
    env,
    configDir: join(dir.path, 'config', 'mistrive'),
    dockerConfig: join(dir.path, 'docker', 'config.json'),
    binDir,
    remove: dir.remove,
  };
}

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly input?: string;
  readonly env?: Record<string, string | undefined>;
  readonly timeoutMs?: number;
}

async function run(
  file: string,
  args: readonly string[],
  home: CliHome,
  options: RunOptions,
): Promise<CliResult> {
  const result = await execa(process.execPath, [file, ...args], {
    env: { ...home.env, ...options.env },
    extendEnv: false,
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 60_000,
    reject: false,
    stripFinalNewline: false,
    cwd: repositoryRoot,
  });
  if (result.exitCode === undefined) throw new Error(`${args.join(' ')} did not finish: ${result.message}`);
  return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** `mistrive ARGS…` to completion. */
export function mistrive(
  home: CliHome,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CliResult> {
  return run(cliBin, args, home, options);
}

/** `mistrive ARGS… --json`, parsed; a non-zero exit throws with what the command printed. */
export async function mistriveJson<T>(
  home: CliHome,
  args: readonly string[],
  options: RunOptions = {},
): Promise<T> {
  const result = await mistrive(home, [...args, '--json'], options);
  if (result.exitCode !== 0) {
    throw new Error(
      `mistrive ${args.join(' ')} exited ${result.exitCode}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return JSON.parse(result.stdout) as T;
}

/** Signs `home` in to the registry at `url` with a password, as a script would; fails the test otherwise. */
export async function signIn(home: CliHome, url: string, username: string, password: string): Promise<void> {
  const result = await mistrive(
    home,
    ['auth', 'login', '--registry', url, '--username', username, '--password-stdin'],
    {
      input: password,
    },
  );
  if (result.exitCode !== 0) throw new Error(`signing in as ${username} failed:\n${result.stderr}`);
}

/**
 * Creates the service account `NAME@PROJECT.iam.mistrive` as `admin` (signed in already), makes it
 * an editor of `editorOf` (`PROJECT/REPOSITORY`) when given, and writes a key for it to `keyFile`.
 * Returns the key as `MISTRIVE_KEY` takes it (base64 of the file).
 */
export async function serviceAccountKey(
  admin: CliHome,
  account: {
    readonly project: string;
    readonly name: string;
    readonly keyFile: string;
    readonly editorOf?: string;
  },
): Promise<string> {
  const email = `${account.name}@${account.project}.iam.mistrive`;
  await mistriveJson(admin, ['service-accounts', 'create', account.name, '--project', account.project]);
  if (account.editorOf) {
    await mistriveJson(admin, [
      'repos',
      'add-iam-policy-binding',
      account.editorOf,
      '--member',
      `serviceAccount:${email}`,
      '--role',
      'editor',
    ]);
  }
  await mistriveJson(admin, [
    'service-accounts',
    'keys',
    'create',
    account.keyFile,
    '--service-account',
    email,
  ]);
  return (await readFile(account.keyFile)).toString('base64');
}

/** `docker-credential-mistrive VERB` with `input` on stdin, as Docker runs it. */
export function credentialHelper(
  home: CliHome,
  args: readonly string[],
  input = '',
  options: RunOptions = {},
): Promise<CliResult> {
  return run(helperBin, args, home, { ...options, input });
}

/**
 * Runs `mistrive ARGS` with a pseudo-terminal (`script`) as stdin, stdout and stderr, of `columns`
 * columns as a terminal window would have; `typed` is what the person types. Returns what the
 * terminal showed.
 */
export async function inTerminal(
  home: CliHome,
  args: readonly string[],
  options: { env?: Record<string, string>; typed?: string; columns?: number } = {},
): Promise<{ exitCode: number; screen: string }> {
  const command = `stty cols ${options.columns ?? 120} rows 40; ${[process.execPath, cliBin, ...args].map((word) => `'${word}'`).join(' ')}`;
  const result = await execa('script', ['-qec', command, '/dev/null'], {
    env: { ...home.env, TERM: 'xterm-256color', ...options.env },
    timeout: 30_000,
    input: options.typed ?? '',
    extendEnv: false,
    cwd: repositoryRoot,
    reject: false,
  });
  return { exitCode: result.exitCode ?? -1, screen: String(result.stdout).replaceAll('\r\n', '\n') };
}

/** A CLI process left running (browser and device sign-in), with its output so far. */
export interface RunningCli {
  readonly process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr matches. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  done: Promise<CliResult>;
}

export function startMistrive(
  home: CliHome,
  args: readonly string[],
  env: Record<string, string> = {},
): RunningCli {
  const child = spawn(process.execPath, [cliBin, ...args], {
    env: { ...home.env, ...env },
    cwd: repositoryRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = once(child, 'exit').then(([code]) => ({ exitCode: code as number, stdout, stderr }));
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitForStderr(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stderr);
          if (!match) return false;
          clearTimeout(timer);
          child.stderr.off('data', check);
          resolve(match);
          return true;
        };
        const timer = setTimeout(() => {
          child.stderr.off('data', check);
          reject(new Error(`stderr never matched ${pattern}:\n${stderr}`));
        }, timeoutMs);
        if (!check()) child.stderr.on('data', check);
      });
    },
    done,
  };
}

/** An oclif error message as one line: without the `›` its wrapped lines start with. */
export function unwrapped(stderr: string): string {
  return stderr.replace(/\s*›\s*/g, ' ').replace(/\s+/g, ' ');
}
