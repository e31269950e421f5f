import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { loadServeConfig, type ServeOverrides } from '../../src/config/config.js';
import { type RunningRegistry, type StartOptions, startRegistry } from '../../src/server/app.js';
import { testAdminPassword } from './admin-password.js';
import { signInAdmin } from './admin-session.js';
import { testMetadata, testMetadataEnv } from './postgres.js';
import { blobsOnS3, daemonOnS3, prefixFor, s3Settings, useS3Server } from './s3.js';
import { tempDir } from './temp.js';

export { testAdminPassword };

export interface TestRegistry {
  readonly url: string;
  readonly dataDir: string;
  readonly registry: RunningRegistry;
  /** The administrator's OAuth access token: `adminFetch` sends it to this registry. */
  readonly adminToken: string;
  close(): Promise<void>;
}

/**
 * The real registry, in this process, on a free loopback port, with its own data directory.
 * `options` hands it a fake clock where time matters. With `MISTRIVE_TEST_BLOBS=s3` its blobs are
 * in the run's S3 server, under a prefix named after the data directory.
 */
export async function startTestRegistry(
  overrides: ServeOverrides = {},
  options: StartOptions = {},
): Promise<TestRegistry> {
  const dir = overrides.dataDir ? undefined : await tempDir();
  const dataDir = overrides.dataDir ?? (dir?.path as string);
  const metadata = overrides.metadata ?? (await testMetadata(dataDir));
  const blobs =
    overrides.blobs ??
    (blobsOnS3() ? { s3: s3Settings(await useS3Server(), prefixFor(dataDir)) } : undefined);
  const config = loadServeConfig(
    undefined,
    { port: 0, logLevel: 'silent', ...overrides, dataDir, metadata, blobs },
    { MISTRIVE_ADMIN_PASSWORD: testAdminPassword },
  );
  const registry = await startRegistry(config, options);
  return {
    url: registry.url,
    dataDir,
    registry,
    adminToken: await signInAdmin(registry.url),
    async close() {
      await registry.close();
      await dir?.remove();
    },
  };
}

export const mistriveBin = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface Daemon {
  readonly url: string;
  readonly process: ChildProcess;
  /** The administrator's OAuth access token: `adminFetch` sends it to this daemon. */
  readonly adminToken: string;
  /** Everything the daemon wrote to stdout so far (its ready line). */
  stdout(): string;
  /** Everything the daemon wrote to stderr so far (its structured log). */
  stderr(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

export interface DaemonOptions {
  /** The file-mode creation mask to start it with, e.g. `000` to see what modes it sets itself. */
  readonly umask?: string;
  /**
   * MISTRIVE_ADMIN_PASSWORD (the test password by default, which the daemon's `adminToken` is
   * signed in with); undefined starts it without one, as a person would, and signs nobody in.
   */
  readonly adminPassword?: string | undefined;
  /** Whether to sign the administrator in once ready (true by default; a daemon with its own CA needs the CA for that). */
  readonly signIn?: boolean;
}

function withAdminPassword(env: NodeJS.ProcessEnv, password: string | undefined): NodeJS.ProcessEnv {
  const { MISTRIVE_ADMIN_PASSWORD: _, ...rest } = env;
  return password === undefined ? rest : { ...rest, MISTRIVE_ADMIN_PASSWORD: password };
}

/** `mistrive serve` as its own process (the built CLI), ready once it prints its listening line. */
export async function startDaemon(
  dataDir: string,
  extraArgs: string[] = [],
  /** Variables added to the test's environment (PATH with a stand-in program on it). */
  env: NodeJS.ProcessEnv = {},
  options: DaemonOptions = {},
): Promise<Daemon> {
  const { umask } = options;
  const onS3 = blobsOnS3() ? await daemonOnS3(dataDir, extraArgs) : undefined;
  const serveArgs = onS3?.args ?? extraArgs;
  const serveEnv = { ...env, ...onS3?.env };
  const adminPassword = 'adminPassword' in options ? options.adminPassword : testAdminPassword;
  const args = [
    mistriveBin,
    'serve',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--log-level',
    'info',
    ...serveArgs,
  ];
  const child = spawn(
    umask === undefined ? process.execPath : '/bin/sh',
    umask === undefined ? args : ['-c', `umask ${umask} && exec "$0" "$@"`, process.execPath, ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: withAdminPassword(
        { ...process.env, ...(await testMetadataEnv(dataDir)), ...serveEnv },
        adminPassword,
      ),
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    // On S3 a start also loads the SDK and checks the bucket, which takes seconds on a loaded machine.
    const readySeconds = onS3 ? 45 : 15;
    const timer = setTimeout(
      () => reject(new Error(`daemon not ready in ${readySeconds} s:\n${stdout}\n${stderr}`)),
      readySeconds * 1000,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (https?:\/\/[^\s,]+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before it was ready:\n${stdout}\n${stderr}`));
    });
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    url,
    process: child,
    adminToken: adminPassword === undefined || options.signIn === false ? '' : await signInAdmin(url),
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
