import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Cleanup, stopChild } from './cleanup.js';
import { ProcessWatch } from './process-watch.js';
import { type Login, RegistryAuth } from './registry-auth.js';

/** The two registries compared, and the bare receiver that shows what the machine allows. */
export type ServerName = 'mistrive' | 'reference' | 'bare';

export interface RunningServer {
  readonly name: ServerName;
  readonly url: string;
  readonly pid: number;
  /** Spawn to ready, in milliseconds. */
  readonly readyMs: number;
  /** Tokens for this server, shared by every client of the run. */
  readonly auth: RegistryAuth;
  /** Its memory and CPU time. */
  readonly watch: ProcessWatch;
  stop(): Promise<void>;
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const mistriveBin = join(repoRoot, 'bin', 'run.js');
const bareServerScript = join(repoRoot, 'bench', 'bare-server.ts');
const readyTimeoutMs = 20_000;

/** The administrator of the mistrive daemons of this run; a fresh password each run. */
export const mistriveAdmin: Login = { username: 'admin', password: randomBytes(18).toString('base64url') };

/**
 * `mistrive serve` from the build, ready when it prints its listening line. Pushes create their
 * projects and repositories (as the reference does), and clients authenticate as the administrator.
 */
export function startMistrive(
  cleanup: Cleanup,
  dataDir: string,
  /** More `serve` arguments (a config file) and environment (credentials). */
  extra: { readonly args?: readonly string[]; readonly env?: Record<string, string> } = {},
): Promise<RunningServer> {
  return startWithReadyLine(
    cleanup,
    'mistrive',
    process.execPath,
    [
      mistriveBin,
      'serve',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      '--auto-create-repositories',
      ...(extra.args ?? []),
    ],
    /listening on (http:\/\/[^\s,]+)/,
    { ...extra.env, MISTRIVE_ADMIN_PASSWORD: mistriveAdmin.password },
    mistriveAdmin,
  );
}

/** The ceiling: node:http that only hashes and stores one PUT body. */
export function startBareServer(cleanup: Cleanup, dataDir: string): Promise<RunningServer> {
  return startWithReadyLine(
    cleanup,
    'bare',
    process.execPath,
    ['--import', 'tsx', bareServerScript, dataDir],
    /listening on (http:\/\/\S+)/,
  );
}

/**
 * The reference registry with filesystem storage in `dataDir`, deletes enabled and the in-memory
 * blob descriptor cache its sample configuration ships with. It logs nothing on start at warn
 * level, so readiness is polled on `GET /v2/`.
 */
export async function startReference(
  cleanup: Cleanup,
  dataDir: string,
  referenceBin: string,
): Promise<RunningServer> {
  const port = await freePort();
  const configPath = join(dataDir, 'config.yml');
  await writeFile(
    configPath,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(dataDir, 'storage')}`,
      '  delete:',
      '    enabled: true',
      '  cache:',
      '    blobdescriptor: inmemory',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: mistrive-bench-not-secret',
      '',
    ].join('\n'),
  );
  const started = performance.now();
  const child = cleanup.track(
    spawn(referenceBin, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] }),
  );
  const output = collect(child);
  const url = `http://127.0.0.1:${port}`;
  const deadline = started + readyTimeoutMs;
  while (!(await answers(`${url}/v2/`))) {
    if (child.exitCode !== null)
      throw new Error(`${referenceBin} exited with ${child.exitCode}: ${output()}`);
    if (performance.now() > deadline) throw new Error(`${referenceBin} not ready in ${readyTimeoutMs} ms`);
    await sleep(5);
  }
  return running('reference', child, url, performance.now() - started);
}

async function startWithReadyLine(
  cleanup: Cleanup,
  name: ServerName,
  command: string,
  args: string[],
  readyLine: RegExp,
  env: Record<string, string> = {},
  login?: Login,
): Promise<RunningServer> {
  const started = performance.now();
  const child = cleanup.track(
    spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } }),
  );
  const output = collect(child);
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready in ${readyTimeoutMs} ms`)),
      readyTimeoutMs,
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = readyLine.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready: ${stdout}${output()}`));
    });
  });
  return running(name, child, url, performance.now() - started, login);
}

function running(
  name: ServerName,
  child: ChildProcess,
  url: string,
  readyMs: number,
  login?: Login,
): RunningServer {
  if (child.pid === undefined) throw new Error(`${name} has no process id`);
  const auth = new RegistryAuth(url, login);
  const watch = new ProcessWatch(child.pid);
  return { name, url, pid: child.pid, readyMs, auth, watch, stop: () => stopChild(child) };
}

/** The last few kilobytes of a child's stderr, for error messages. */
function collect(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-4096);
  });
  return () => text;
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
