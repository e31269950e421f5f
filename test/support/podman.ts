import { join } from 'node:path';
import { type ClientResult, runClient } from './client-run.js';

/** podman as root, with its own storage under `root`, against a plain-HTTP loopback registry. */
export function podmanIn(root: string) {
  return (args: readonly string[], input?: string | Buffer): Promise<ClientResult> => {
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
    return runClient(
      'podman',
      [...storage, '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', ...args],
      env,
      input,
    );
  };
}
