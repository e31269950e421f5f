import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ClientResult, runClient } from './client-run.js';
import { tempDir } from './temp.js';
import { waitFor } from './wait.js';

/**
 * A real Docker engine of its own (Debian's dockerd, as root), on a private socket and data root,
 * with vfs storage and no networking: enough for `docker import`, `push`, `pull` and `login`.
 * Docker talks plain HTTP to loopback registries only, so push to `127.0.0.1:PORT` or `localhost:PORT`.
 */
export interface Dockerd {
  /** Runs the docker CLI against this engine, with its own Docker config; never throws on exit codes. */
  docker(args: readonly string[], input?: string | Buffer): Promise<ClientResult>;
  stop(): Promise<void>;
}

export async function startDockerd(): Promise<Dockerd> {
  const dir = await tempDir('mistrive-dockerd-');
  const socket = join(dir.path, 'docker.sock');
  await mkdir(join(dir.path, 'config'));
  const engine: ChildProcess = spawn(
    'dockerd',
    [
      '--data-root',
      join(dir.path, 'root'),
      '--exec-root',
      join(dir.path, 'exec'),
      '--pidfile',
      join(dir.path, 'docker.pid'),
      '-H',
      `unix://${socket}`,
      '--storage-driver=vfs',
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
    ],
    { stdio: 'ignore' },
  );
  const exited = once(engine, 'exit');
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir.path,
    DOCKER_HOST: `unix://${socket}`,
    DOCKER_CONFIG: join(dir.path, 'config'),
  };
  const docker: Dockerd['docker'] = (args, input) => runClient('docker', args, env, input);
  const stop = async () => {
    if (engine.exitCode === null && engine.signalCode === null) {
      engine.kill('SIGTERM');
      await exited;
    }
    await dir.remove();
  };
  try {
    await waitFor(
      'dockerd to answer',
      async () => ((await docker(['version'])).exitCode === 0 ? true : undefined),
      30_000,
      200,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { docker, stop };
}
