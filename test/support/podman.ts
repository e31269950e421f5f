import { join } from 'node:path';
import { testAdminPassword } from './admin-password.js';
import { type ClientResult, runClient } from './client-run.js';

/**
 * podman as root with storage, run directory, sign-ins and home of its own under `root` (vfs, no
 * cgroups or events to set up): what one test's pulls, tags and pushes need.
 */
export function podmanIn(
  root: string,
): (args: readonly string[], input?: string | Buffer) => Promise<ClientResult> {
  const storage = [
    '--root',
    join(root, 'storage'),
    '--runroot',
    join(root, 'run'),
    '--storage-driver',
    'vfs',
  ];
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: root,
    REGISTRY_AUTH_FILE: join(root, 'auth.json'),
  };
  return (args, input) =>
    runClient(
      'podman',
      [...storage, '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', ...args],
      env,
      input,
    );
}

type Client = (args: readonly string[], input?: string | Buffer) => Promise<ClientResult>;

/** Signs podman and docker in to the registry at `host` as the administrator (podman over plain HTTP). */
export async function signInClients(host: string, podman: Client, docker: Client): Promise<void> {
  for (const [client, extra] of [
    [podman, ['--tls-verify=false']],
    [docker, []],
  ] as const) {
    const login = await client(
      ['login', '--username', 'admin', '--password-stdin', ...extra, host],
      testAdminPassword,
    );
    if (login.exitCode !== 0) throw new Error(`login to ${host} failed:\n${login.all}`);
  }
}
