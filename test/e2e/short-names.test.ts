import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { type Dockerd, startDockerd } from '../support/dockerd.js';
import { buildImage, readOciLayout, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import { podmanIn } from '../support/podman.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { pullLayout, pushArgs, runSkopeo } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';

/**
 * One- and two-part names with the real clients: skopeo, podman and docker (with a real dockerd).
 * Without --auto-create-repositories each shows the registry's NAME_INVALID message, not a bare
 * "400 Bad Request"; with it, they push and pull as against any local registry.
 */

const nameInvalid = /PROJECT\/REPOSITORY\/IMAGE/;

let work: Awaited<ReturnType<typeof tempDir>>;
let layout: string;
let dockerd: Dockerd;

/** podman as root, with its own storage, against a plain-HTTP loopback registry. */
function podman(args: readonly string[], input?: string | Buffer) {
  return podmanIn(join(work.path, 'podman'))(args, input);
}

beforeAll(async () => {
  work = await tempDir('mistrive-e2e-short-');
  layout = join(work.path, 'layout');
  await writeOciLayout(layout, 'v1', buildImage([await tarGzLayer({ 'bin/app': randomBytes(32 * 1024) })]));
  dockerd = await startDockerd();
  const tar = (await tarGzLayer({ 'hello.txt': 'hello from a local build\n' })).bytes;
  for (const client of [dockerd.docker, podman]) {
    const imported = await client(['import', '-', 'short-names-test:v1'], tar);
    expect(imported.exitCode, imported.all).toBe(0);
  }
}, 120_000);
afterAll(async () => {
  await dockerd?.stop();
  await work?.remove();
});

describe.each([
  { autoCreate: false, what: 'without --auto-create-repositories' },
  { autoCreate: true, what: 'with --auto-create-repositories' },
])('one- and two-part names $what', { timeout: 300_000 }, ({ autoCreate }) => {
  let registry: TestRegistry;
  let host: string;
  beforeAll(async () => {
    registry = await startTestRegistry({ autoCreateRepositories: autoCreate });
    host = new URL(registry.url).host;
    for (const client of [podman, dockerd.docker]) {
      const login = await client(
        [
          'login',
          '--username',
          'admin',
          '--password-stdin',
          ...(client === podman ? ['--tls-verify=false'] : []),
          host,
        ],
        testAdminPassword,
      );
      expect(login.exitCode, login.all).toBe(0);
    }
  });
  afterAll(() => registry?.close());

  it.each(['myapp', 'team/myapp'])('skopeo pushes and pulls %s', async (name) => {
    const pushed = await runSkopeo(pushArgs(registry.url, layout, 'v1', name)).done;
    if (!autoCreate) {
      expect(pushed.exitCode).not.toBe(0);
      expect(pushed.all).toMatch(nameInvalid);
      expect(pushed.all).toContain('--auto-create-repositories');
      return;
    }
    expect(pushed.exitCode, pushed.all).toBe(0);
    const copy = join(work.path, `skopeo-${name.replace('/', '-')}`);
    await pullLayout(registry.url, name, 'v1', copy);
    expect((await readOciLayout(copy, 'v1')).root.digest).toBe(
      (await readOciLayout(layout, 'v1')).root.digest,
    );
  });

  it.each(['myapp', 'team/myapp'])('podman pushes and pulls %s', async (name) => {
    const reference = `${host}/${name}:podman`;
    expect((await podman(['tag', 'short-names-test:v1', reference])).exitCode).toBe(0);
    const pushed = await podman(['push', '--tls-verify=false', reference]);
    if (!autoCreate) {
      expect(pushed.exitCode).not.toBe(0);
      expect(pushed.all).toMatch(nameInvalid);
      expect(pushed.all).not.toMatch(/400 \(Bad Request\)\s*$/);
      const pulled = await podman(['pull', '--tls-verify=false', reference]);
      expect(pulled.exitCode).not.toBe(0);
      expect(pulled.all).toMatch(nameInvalid);
      return;
    }
    expect(pushed.exitCode, pushed.all).toBe(0);
    expect((await podman(['rmi', reference])).exitCode).toBe(0);
    const pulled = await podman(['pull', '--tls-verify=false', reference]);
    expect(pulled.exitCode, pulled.all).toBe(0);
  });

  it.each(['myapp', 'team/myapp'])('docker pushes and pulls %s', async (name) => {
    const reference = `${host}/${name}:docker`;
    expect((await dockerd.docker(['tag', 'short-names-test:v1', reference])).exitCode).toBe(0);
    if (!autoCreate) {
      // docker retries a refused layer push five times (about 50 s): one name shows the message.
      if (name === 'myapp') {
        const pushed = await dockerd.docker(['push', reference]);
        expect(pushed.exitCode).not.toBe(0);
        expect(pushed.all).toMatch(nameInvalid);
      }
      const pulled = await dockerd.docker(['pull', reference]);
      expect(pulled.exitCode).not.toBe(0);
      expect(pulled.all).toMatch(nameInvalid);
      return;
    }
    const pushed = await dockerd.docker(['push', reference]);
    expect(pushed.exitCode, pushed.all).toBe(0);
    expect((await dockerd.docker(['rmi', reference])).exitCode).toBe(0);
    const pulled = await dockerd.docker(['pull', reference]);
    expect(pulled.exitCode, pulled.all).toBe(0);
    // The same image under its full name.
    const full = name.includes('/') ? `local/${name}` : `local/library/${name}`;
    const again = await dockerd.docker(['pull', `${host}/${full}:docker`]);
    expect(again.exitCode, again.all).toBe(0);
  });
});
