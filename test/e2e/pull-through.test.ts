import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliHome, mistrive, mistriveJson, signIn } from '../support/cli.js';
import { type Dockerd, startDockerd } from '../support/dockerd.js';
import {
  type BuiltImage,
  blobsOf,
  buildImage,
  readOciLayout,
  tarGzLayer,
  writeOciLayout,
} from '../support/oci-layout.js';
import { podmanIn, signInClients } from '../support/podman.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { pullLayout, pushArgs, pushLayout, runSkopeo } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';
import {
  type CountingProxy,
  startCountingProxy,
  startDistribution,
  type UpstreamRegistry,
} from '../support/upstream-registry.js';

/**
 * A remote repository end to end: created with the CLI on `mistrive serve`, pulled through by
 * skopeo, podman and docker (a real dockerd) from the reference registry upstream, then served from
 * the cache once the upstream is gone. Pushes are refused with the cache's DENIED message.
 */

interface Repository {
  name: string;
  remote?: { url: string; username?: string; hasPassword: boolean; prefix: string; ttl: string };
}

let work: Awaited<ReturnType<typeof tempDir>>;
let upstream: UpstreamRegistry;
let proxy: CountingProxy;
let daemon: Daemon;
let admin: CliHome;
let dockerd: Dockerd;
let image: BuiltImage;
let host: string;

/** podman as root, with its own storage, against a plain-HTTP loopback registry. */
const podman = (args: readonly string[], input?: string | Buffer) =>
  podmanIn(join(work.path, 'podman'))(args, input);

beforeAll(async () => {
  work = await tempDir('mistrive-e2e-remote-');
  upstream = await startDistribution();
  proxy = await startCountingProxy(upstream.url);
  daemon = await startDaemon(join(work.path, 'data'));
  host = new URL(daemon.url).host;
  admin = await cliHome();
  await signIn(admin, daemon.url, 'admin', testAdminPassword);
  expect((await mistrive(admin, ['projects', 'create', 'mirror'])).exitCode).toBe(0);
  image = buildImage([
    await tarGzLayer({ 'bin/tool': randomBytes(256 * 1024) }),
    await tarGzLayer({ 'etc/motd': 'pulled through a cache\n' }),
  ]);
  const layout = join(work.path, 'upstream-layout');
  await writeOciLayout(layout, '1.0', image);
  await pushLayout(upstream.url, layout, '1.0', 'library/demo', { credentials: false });
  dockerd = await startDockerd();
  await signInClients(host, podman, dockerd.docker);
}, 180_000);
afterAll(async () => {
  await dockerd?.stop();
  await daemon?.stop();
  await proxy?.close();
  await upstream?.stop();
  await admin?.remove();
  await work?.remove();
});

describe('a remote repository with real clients', { timeout: 300_000 }, () => {
  it('is created, described and updated with the CLI, never showing the password', async () => {
    const created = await mistriveJson<Repository>(admin, [
      'repos',
      'create',
      'hub',
      '--project',
      'mirror',
      '--remote-url',
      proxy.url,
      '--remote-prefix',
      'library/',
    ]);
    expect(created.remote).toEqual({ url: proxy.url, hasPassword: false, prefix: 'library/', ttl: '10m' });

    const secret = `pw-${randomBytes(6).toString('hex')}`;
    const withCredentials = await mistrive(
      admin,
      [
        'repos',
        'create',
        'private',
        '--project',
        'mirror',
        '--remote-url',
        proxy.url,
        '--remote-username',
        'bot',
        '--remote-password-stdin',
        '--remote-ttl',
        '1h',
      ],
      { input: secret },
    );
    expect(withCredentials.exitCode, withCredentials.stderr).toBe(0);
    expect(withCredentials.stdout).toContain(
      `Created remote repository mirror/private, a pull-through cache of ${proxy.url}.`,
    );
    const described = await mistrive(admin, ['repos', 'describe', 'mirror/private']);
    expect(described.stdout).toContain(`Remote URL\t${proxy.url} (pull-through cache; pushes are refused)`);
    expect(described.stdout).toContain('Remote user\tbot');
    expect(described.stdout).toContain('Remote password\tstored (never shown)');
    expect(described.stdout).toContain('Remote TTL\t1h before a cached tag is checked again');
    expect(described.stdout).not.toContain(secret);
    const json = await mistrive(admin, ['repos', 'describe', 'mirror/private', '--json']);
    expect(json.stdout).not.toContain(secret);

    const updated = await mistriveJson<Repository>(admin, [
      'repos',
      'update',
      'mirror/private',
      '--remote-anonymous',
      '--remote-ttl',
      '30s',
    ]);
    expect(updated.remote).toEqual({ url: proxy.url, hasPassword: false, prefix: '', ttl: '30s' });
    const orphan = await mistrive(admin, [
      'repos',
      'create',
      'nope',
      '--project',
      'mirror',
      '--remote-prefix',
      'library/',
    ]);
    expect(orphan.exitCode).not.toBe(0);
    expect(orphan.stderr).toContain('--remote-prefix needs --remote-url');
  });

  it('pulls through with skopeo, podman and docker, fetching each blob from upstream once', async () => {
    const copy = join(work.path, 'skopeo-copy');
    await pullLayout(daemon.url, 'mirror/hub/demo', '1.0', copy);
    expect((await readOciLayout(copy, '1.0')).root.digest).toBe(image.manifest.descriptor.digest);

    const reference = `${host}/mirror/hub/demo:1.0`;
    const pulled = await podman(['pull', '--tls-verify=false', reference]);
    expect(pulled.exitCode, pulled.all).toBe(0);
    const dockerPulled = await dockerd.docker(['pull', reference]);
    expect(dockerPulled.exitCode, dockerPulled.all).toBe(0);
    expect(dockerPulled.all).toContain(image.manifest.descriptor.digest);

    for (const blob of blobsOf(image)) {
      if (blob.descriptor.digest === image.manifest.descriptor.digest) continue;
      expect(proxy.count(`/blobs/${blob.descriptor.digest}`, 'GET')).toBe(1);
    }
  });

  it('serves from the cache once the upstream is gone', async () => {
    await proxy.down();
    const copy = join(work.path, 'skopeo-offline');
    await pullLayout(daemon.url, 'mirror/hub/demo', '1.0', copy);
    expect((await readOciLayout(copy, '1.0')).root.digest).toBe(image.manifest.descriptor.digest);
    const reference = `${host}/mirror/hub/demo:1.0`;
    expect((await podman(['rmi', reference])).exitCode).toBe(0);
    const pulled = await podman(['pull', '--tls-verify=false', reference]);
    expect(pulled.exitCode, pulled.all).toBe(0);
    expect((await dockerd.docker(['rmi', reference])).exitCode).toBe(0);
    const dockerPulled = await dockerd.docker(['pull', reference]);
    expect(dockerPulled.exitCode, dockerPulled.all).toBe(0);
  });

  it('refuses a push with DENIED and says where to push instead', async () => {
    const layout = join(work.path, 'push-layout');
    await writeOciLayout(layout, 'mine', buildImage([await tarGzLayer({ 'x.txt': randomBytes(64) })]));
    const pushed = await runSkopeo(pushArgs(daemon.url, layout, 'mine', 'mirror/hub/demo')).done;
    expect(pushed.exitCode).not.toBe(0);
    expect(pushed.all).toContain(
      `repository mirror/hub is a pull-through cache of ${proxy.url}; push to a local repository`,
    );
  });
});
