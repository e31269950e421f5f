import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { Agent, get, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import { unwrapped } from '../support/cli.js';
import { uploadFiles } from '../support/data-dir.js';
import { errorCode, pushBlob, sha256 } from '../support/oci-client.js';
import { type Daemon, mistriveBin, startDaemon } from '../support/registry.js';
import { openStreamingRequest, responseOf } from '../support/streaming-request.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const name = 'proj/repo/lifecycle';

async function startUpload(url: string): Promise<string> {
  const response = await adminFetch(`${url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  expect(response.status).toBe(202);
  return new URL(response.headers.get('location') ?? '', url).href;
}

/** The CLI's error text with the terminal line wrapping and `›` margins taken out. */
/** The exit code, or 'still running' when the process has not exited within 20 s. */
async function exitOrTimeout(exited: Promise<number | null>): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'still running'>((resolve) => {
    timer = setTimeout(resolve, 20_000, 'still running');
  });
  try {
    return await Promise.race([exited, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** True once nothing accepts connections on the daemon's port any more. */
async function refusesConnections(url: string): Promise<true | undefined> {
  try {
    await adminFetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
    return undefined;
  } catch {
    return true;
  }
}

describe('the registry daemon', { timeout: 120_000 }, () => {
  let data: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon | undefined;

  beforeEach(async () => {
    data = await tempDir('mistrive-e2e-daemon-');
    daemon = undefined;
  });
  afterEach(async () => {
    if (daemon && daemon.process.exitCode === null && daemon.process.signalCode === null) await daemon.stop();
    await data.remove();
  });

  it('prints one readable ready line on stdout and logs structured lines on stderr', async () => {
    daemon = await startDaemon(data.path, ['--auto-create-repositories', '--host', '127.0.0.1']);
    // The ready line comes last, once the port is bound: scripts wait for it.
    const lines = daemon.stdout().split('\n').filter(Boolean);
    expect(lines.at(-1)).toMatch(/^Mistrive registry listening on http:\/\/127\.0\.0\.1:\d+ \(data in .+\)$/);
    expect(lines.at(-1)).toContain(data.path);
    const base = await adminFetch(`${daemon.url}/v2/`);
    expect(base.status).toBe(200);
    expect(base.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(await daemon.stop()).toBe(0);
    const logLines = daemon.stderr().trim().split('\n');
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it('with --host 0.0.0.0 --insecure-http warns, and prints the addresses clients can use, loopback first, never 0.0.0.0', async () => {
    daemon = await startDaemon(data.path, ['--host', '0.0.0.0', '--insecure-http']);
    expect(daemon.stderr()).toContain('serving plain HTTP on 0.0.0.0 (--insecure-http)');
    const ready = daemon.stdout().split('\n').filter(Boolean).at(-1) ?? '';
    expect(ready).not.toContain('0.0.0.0');
    const urls = /listening on (.+) \(data in/.exec(ready)?.[1]?.split(', ') ?? [];
    expect(urls[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const url of urls) {
      expect((await fetch(`${url}/v2/`)).status, url).toBe(401);
    }
  });

  it('on SIGTERM stops accepting connections, lets a request in flight finish, and exits 0', async () => {
    // A grace period far longer than the test waits: the exit must not come from it running out.
    const config = join(data.path, 'serve.yaml');
    await writeFile(config, 'shutdownGrace: 10m\n');
    const running = await startDaemon(join(data.path, 'data'), [
      '--auto-create-repositories',
      '--config',
      config,
    ]);
    daemon = running;
    const location = await startUpload(running.url);
    const body = randomBytes(4 * 1024 * 1024);
    // Like Go clients (skopeo, docker), keep idle connections open rather than closing them soon.
    const agent = new Agent({ keepAlive: true });
    const patch = openStreamingRequest(
      location,
      'PATCH',
      { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length },
      agent,
    );
    await patch.continued;
    await patch.write(body.subarray(0, 1024 * 1024));
    const exited = new Promise<number | null>((resolve) => running.process.once('exit', resolve));
    running.process.kill('SIGTERM');
    await waitFor('the daemon to stop listening', () => refusesConnections(running.url), 15_000);
    expect(running.process.exitCode).toBeNull();

    await patch.write(body.subarray(1024 * 1024));
    patch.end();
    const response = responseOf(await patch.outcome);
    expect(response.status, response.body).toBe(202);
    expect(response.headers.range).toBe(`0-${body.length - 1}`);
    expect(await exitOrTimeout(exited)).toBe(0);
    agent.destroy();
    expect(running.stderr()).toContain('"signal":"SIGTERM"');

    // What the finished request stored is there after a restart.
    daemon = await startDaemon(join(data.path, 'data'), ['--auto-create-repositories']);
    const resumed = location.replace(running.url, daemon.url);
    const done = await adminFetch(`${resumed}?digest=${sha256(body)}`, { method: 'PUT' });
    expect(done.status).toBe(201);
  });

  it('on SIGTERM lets a blob download in flight finish intact, then exits 0', async () => {
    const config = join(data.path, 'serve.yaml');
    await writeFile(config, 'shutdownGrace: 10m\n');
    const running = await startDaemon(join(data.path, 'data'), [
      '--auto-create-repositories',
      '--config',
      config,
    ]);
    daemon = running;
    // Far more than the socket buffers hold, so the daemon is still sending when the signal comes.
    const blob = randomBytes(64 * 1024 * 1024);
    const digest = await pushBlob(running.url, name, blob);
    const agent = new Agent({ keepAlive: true });
    const chunks: Buffer[] = [];
    const download = new Promise<IncomingMessage>((resolve, reject) =>
      get(
        `${running.url}/v2/${name}/blobs/${digest}`,
        { agent, headers: { Authorization: `Bearer ${running.adminToken}` } },
        resolve,
      ).once('error', reject),
    );
    const response = await download;
    expect(response.statusCode).toBe(200);
    expect(response.headers.connection).toBe('keep-alive');
    const first = await new Promise<Buffer>((resolve) => response.once('data', resolve));
    response.pause();
    chunks.push(first);
    const exited = new Promise<number | null>((resolve) => running.process.once('exit', resolve));
    running.process.kill('SIGTERM');
    await waitFor('the daemon to stop listening', () => refusesConnections(running.url), 15_000);
    expect(running.process.exitCode).toBeNull();

    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise<void>((resolve, reject) => {
      response.once('end', resolve).once('error', reject);
      response.resume();
    });
    expect(sha256(Buffer.concat(chunks))).toBe(digest);
    expect(await exitOrTimeout(exited)).toBe(0);
    agent.destroy();
  });

  it.each([
    {
      problem: 'an unknown setting',
      yaml: 'uploads:\n  purgeAfter: 1s\n  purgeEvry: 1s\n',
      says: /purgeEvry/,
    },
    {
      problem: 'a malformed duration',
      yaml: 'uploads:\n  purgeAfter: soon\n',
      says: /uploads\.purgeAfter.*"soon"/,
    },
    { problem: 'an unknown log level', yaml: 'logLevel: loud\n', says: /logLevel/ },
    { problem: 'text that is not YAML', yaml: 'port: [5000,\n', says: /not valid YAML/ },
  ])(
    'refuses a config file with $problem: clear message, non-zero exit, never serves',
    async ({ yaml, says }) => {
      const config = join(data.path, 'serve.yaml');
      await writeFile(config, yaml);
      const result = await execa(
        process.execPath,
        [mistriveBin, 'serve', '--port', '0', '--data-dir', join(data.path, 'data'), '--config', config],
        { reject: false, timeout: 15_000 },
      );
      expect(result.exitCode, result.stderr).toBe(2);
      const message = unwrapped(result.stderr);
      expect(message).toMatch(says);
      expect(message).toContain(config);
      // One clear sentence, not a stack trace.
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.stdout).not.toContain('listening');
    },
  );

  it('refuses a config file that does not exist', async () => {
    const missing = join(data.path, 'nowhere.yaml');
    const result = await execa(
      process.execPath,
      [mistriveBin, 'serve', '--port', '0', '--data-dir', join(data.path, 'data'), '--config', missing],
      { reject: false, timeout: 15_000 },
    );
    expect(result.exitCode).not.toBe(0);
    expect(unwrapped(result.stderr)).toContain(missing);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stdout).not.toContain('listening');
  });

  it.each([
    [
      'a port already in use',
      'busy-port',
      /cannot listen on 127\.0\.0\.1:\d+: the port is already in use; .*--port/,
    ],
    [
      'a data directory that is a file',
      'file-dir',
      /cannot use .* as the data directory: .* is a file, not a directory; .*--data-dir/,
    ],
  ] as const)(
    'refuses %s with one sentence that says what to change, and no stack',
    async (_, kind, message) => {
      const file = join(data.path, 'plain-file');
      await writeFile(file, '');
      const busy = kind === 'busy-port' ? await startDaemon(join(data.path, 'first')) : undefined;
      daemon = busy;
      const port = busy ? new URL(busy.url).port : '0';
      const dataDir = kind === 'file-dir' ? file : join(data.path, 'second');
      const result = await execa(
        process.execPath,
        [mistriveBin, 'serve', '--port', port, '--data-dir', dataDir],
        {
          reject: false,
          timeout: 15_000,
          env: { MISTRIVE_ADMIN_PASSWORD: 'unused-password-123' },
        },
      );
      expect(result.exitCode).toBe(1);
      expect(unwrapped(result.stderr)).toMatch(message);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.stderr).not.toMatch(/EADDRINUSE|EEXIST/);
      expect(result.stdout).not.toContain('listening');
    },
  );

  it('creates the metadata database, its WAL files and the signing key 0600 in an existing 0755 directory, whatever the umask', async () => {
    const dataDir = join(data.path, 'data');
    await mkdir(dataDir, { mode: 0o755 });
    await chmod(dataDir, 0o755);
    daemon = await startDaemon(dataDir, [], {}, { umask: '000' });
    // A write, so the WAL is in use.
    expect(
      (
        await adminFetch(`${daemon.url}/api/v1/projects`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ projectId: 'modes' }),
        })
      ).status,
    ).toBe(201);
    const keys = (await readdir(join(dataDir, 'keys'))).map((file) => join('keys', file));
    expect(keys.length).toBeGreaterThan(0);
    for (const file of ['metadata.db', 'metadata.db-wal', 'metadata.db-shm', ...keys]) {
      expect(((await stat(join(dataDir, file))).mode & 0o777).toString(8), file).toBe('600');
    }
    expect(((await stat(join(dataDir, 'keys'))).mode & 0o777).toString(8)).toBe('700');
  });

  it('takes a metadata database and key left readable by others back to 0600 on the next start', async () => {
    const dataDir = join(data.path, 'data');
    daemon = await startDaemon(dataDir);
    expect(await daemon.stop()).toBe(0);
    const key = join('keys', (await readdir(join(dataDir, 'keys')))[0] ?? '');
    for (const file of ['metadata.db', key]) await chmod(join(dataDir, file), 0o644);
    daemon = await startDaemon(dataDir);
    for (const file of ['metadata.db', key]) {
      expect(((await stat(join(dataDir, file))).mode & 0o777).toString(8), file).toBe('600');
    }
  });

  it('purges an abandoned upload session after the configured age, but not one still being written', async () => {
    const config = join(data.path, 'serve.yaml');
    await writeFile(config, 'uploads:\n  purgeAfter: 1s\n  purgeEvery: 1s\n');
    daemon = await startDaemon(join(data.path, 'data'), ['--auto-create-repositories', '--config', config]);
    const dataDir = join(data.path, 'data');
    // The active session is the older of the two: only its recent writes may keep it alive.
    const active = await startUpload(daemon.url);
    const abandoned = await startUpload(daemon.url);
    const abandonedId = abandoned.split('/').at(-1) ?? '';
    const first = await adminFetch(abandoned, { method: 'PATCH', body: randomBytes(1000) });
    expect(first.status).toBe(202);
    expect((await uploadFiles(dataDir)).get(abandonedId)).toBe(1000);

    const written: Buffer[] = [];
    await waitFor(
      'the abandoned upload to be purged',
      async () => {
        const chunk = randomBytes(1024);
        const offset = written.reduce((total, piece) => total + piece.length, 0);
        const patch = await adminFetch(active, {
          method: 'PATCH',
          headers: { 'Content-Range': `${offset}-${offset + chunk.length - 1}` },
          body: chunk,
        });
        expect(patch.status, await patch.text()).toBe(202);
        written.push(chunk);
        const status = await adminFetch(abandoned);
        if (status.status === 204) return undefined;
        expect(status.status).toBe(404);
        expect(await errorCode(status)).toBe('BLOB_UPLOAD_UNKNOWN');
        return true;
      },
      15_000,
      50,
    );
    expect((await uploadFiles(dataDir)).has(abandonedId)).toBe(false);
    expect(daemon.stderr()).toContain('purged abandoned upload sessions');

    const whole = Buffer.concat(written);
    const done = await adminFetch(`${active}?digest=${sha256(whole)}`, { method: 'PUT' });
    expect(done.status, await done.text()).toBe(201);
  });
});
