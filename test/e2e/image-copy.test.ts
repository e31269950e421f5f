import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import { type CliHome, cliHome, inTerminal, mistrive, mistriveJson, signIn } from '../support/cli.js';
import {
  type BuiltIndex,
  buildImage,
  buildIndex,
  tarGzLayer,
  writeOciLayout,
} from '../support/oci-layout.js';
import { type ReferenceRegistry, startReferenceRegistry } from '../support/reference-registry.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { pushLayout } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';
import { manifestAt, pushReferrer } from '../support/transfer.js';

/**
 * `mistrive images copy` with real peers: within one `mistrive serve` (blobs mounted, never
 * uploaded), to a second `mistrive serve`, and to Debian's `docker-registry`; an index with every
 * platform or one, referrers, every tag, and a second run that finds everything there. Digests are
 * compared at both ends: a copy is byte-identical.
 */

interface CopyJson {
  images: { source: string; destination: string; digest: string }[];
  manifests: { digest: string; action: string }[];
  blobs: { digest: string; action: string }[];
  mounted: number;
  copied: number;
  skipped: number;
  bytesCopied: number;
}

describe('images copy, end to end', { timeout: 240_000 }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let first: Daemon;
  let second: Daemon;
  let reference: ReferenceRegistry;
  let home: CliHome;
  let index: BuiltIndex;
  let referrer: string;
  const hostOf = (daemon: Daemon) => new URL(daemon.url).host;

  beforeAll(async () => {
    work = await tempDir('mistrive-copy-');
    // One after the other, so that each is stopped after the tests even when a later one fails to start.
    first = await startDaemon(join(work.path, 'first'));
    second = await startDaemon(join(work.path, 'second'));
    reference = await startReferenceRegistry();
    home = await cliHome();
    for (const daemon of [first, second]) {
      await signIn(home, daemon.url, 'admin', testAdminPassword);
      await mistriveJson(home, ['projects', 'create', 'shop', '--registry', daemon.url]);
      for (const repository of ['apps', 'releases']) {
        await mistriveJson(home, [
          'repos',
          'create',
          repository,
          '--project',
          'shop',
          '--registry',
          daemon.url,
        ]);
      }
    }
    const amd64 = buildImage([
      await tarGzLayer({ 'bin/app': randomBytes(300_000) }),
      await tarGzLayer({ 'etc/conf': 'x' }),
    ]);
    const arm64 = buildImage([await tarGzLayer({ 'bin/app': randomBytes(200_000) })], {
      architecture: 'arm64',
      os: 'linux',
    });
    index = buildIndex([
      { image: amd64, platform: { architecture: 'amd64', os: 'linux' } },
      { image: arm64, platform: { architecture: 'arm64', os: 'linux' } },
    ]);
    await writeOciLayout(join(work.path, 'layout'), 'v1', index);
    await pushLayout(first.url, join(work.path, 'layout'), 'v1', 'shop/apps/web', { all: true });
    await pushLayout(first.url, join(work.path, 'layout'), 'v1', 'shop/apps/web', { all: true });
    await mistriveJson(home, [
      'tags',
      'add',
      `${first.url.replace('http://', '')}/shop/apps/web:v1`,
      'v2',
      '--registry',
      first.url,
    ]);
    referrer = await pushReferrer(
      first.url,
      'shop/apps/web',
      index.index.descriptor,
      '{"spdxVersion":"SPDX-2.3"}',
    );
  }, 240_000);

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop(), reference?.stop()]);
    await home?.remove();
    await work?.remove();
  });

  it('copies within one registry by mounting every blob, and the digests are the same', async () => {
    const result = await mistriveJson<CopyJson>(home, [
      'images',
      'copy',
      `${hostOf(first)}/shop/apps/web:v1`,
      `${hostOf(first)}/shop/releases/web:v1`,
      '--with-referrers',
    ]);
    expect(result.copied).toBe(0);
    expect(result.bytesCopied).toBe(0);
    expect(result.mounted).toBeGreaterThanOrEqual(5);
    expect(result.images[0]?.digest).toBe(index.index.descriptor.digest);
    const copied = await manifestAt(first.url, 'shop/releases/web', 'v1');
    expect(copied.digest).toBe(index.index.descriptor.digest);
    expect(copied.bytes.equals(index.index.bytes)).toBe(true);
    expect((await manifestAt(first.url, 'shop/releases/web', referrer)).status).toBe(200);
  });

  it('copies an index with every platform and its referrers to another Mistrive, then skips everything on a second run', async () => {
    const args = [
      'images',
      'copy',
      `${hostOf(first)}/shop/apps/web:v1`,
      `${hostOf(second)}/shop/apps/web`,
      '--with-referrers',
      '--concurrency',
      '3',
    ];
    const result = await mistriveJson<CopyJson>(home, args);
    expect(result.mounted).toBe(0);
    expect(result.copied).toBeGreaterThanOrEqual(6);
    expect(result.images[0]?.destination).toBe(`${hostOf(second)}/shop/apps/web:v1`);
    for (const digest of [
      index.index.descriptor.digest,
      ...index.images.map((i) => i.manifest.descriptor.digest),
      referrer,
    ]) {
      const there = await manifestAt(second.url, 'shop/apps/web', digest);
      expect(there.status).toBe(200);
      expect(there.digest).toBe(digest);
    }
    expect((await manifestAt(second.url, 'shop/apps/web', 'v1')).digest).toBe(index.index.descriptor.digest);

    const again = await mistriveJson<CopyJson>(home, args);
    expect(again.copied).toBe(0);
    expect(again.bytesCopied).toBe(0);
    expect(again.manifests.filter((m) => m.action === 'skipped').length).toBeGreaterThanOrEqual(2);
  });

  it('copies one platform of an index with --platform', async () => {
    const result = await mistriveJson<CopyJson>(home, [
      'images',
      'copy',
      `${hostOf(first)}/shop/apps/web:v1`,
      `${hostOf(second)}/shop/releases/web-arm64:v1`,
      '--platform',
      'linux/arm64',
    ]);
    const arm64 = index.images[1]?.manifest.descriptor.digest;
    expect(result.images[0]?.digest).toBe(arm64);
    expect((await manifestAt(second.url, 'shop/releases/web-arm64', 'v1')).digest).toBe(arm64);
    const missing = await mistrive(home, [
      'images',
      'copy',
      `${hostOf(first)}/shop/apps/web:v1`,
      `${hostOf(second)}/shop/releases/web-s390x:v1`,
      '--platform',
      'linux/s390x',
    ]);
    expect(missing.exitCode).toBe(5);
    expect(missing.stderr).toMatch(/has no image for linux\/s390x/);
    expect(missing.stderr).toMatch(/linux\/amd64, linux\/arm64/);
  });

  it('copies every tag to the reference registry (docker-registry), anonymously', async () => {
    const result = await mistriveJson<CopyJson>(home, [
      'images',
      'copy',
      `${hostOf(first)}/shop/apps/web`,
      `${reference.host}/mirror/web`,
      '--all-tags',
    ]);
    expect(result.images.map((image) => image.destination).sort()).toEqual([
      `${reference.host}/mirror/web:v1`,
      `${reference.host}/mirror/web:v2`,
    ]);
    for (const tag of ['v1', 'v2']) {
      const there = await manifestAt(reference.url, 'mirror/web', tag);
      expect(there.digest).toBe(index.index.descriptor.digest);
    }
    for (const image of index.images) {
      const there = await manifestAt(reference.url, 'mirror/web', image.manifest.descriptor.digest);
      expect(there.bytes.equals(image.manifest.bytes)).toBe(true);
    }
    // And back from the reference registry into Mistrive.
    const back = await mistriveJson<CopyJson>(home, [
      'images',
      'copy',
      `${reference.host}/mirror/web:v2`,
      `${hostOf(second)}/shop/releases/web:v2`,
    ]);
    expect(back.images[0]?.digest).toBe(index.index.descriptor.digest);
  });

  it('shows progress on a terminal, and prints only the summary when piped', async () => {
    const piped = await mistrive(home, [
      'images',
      'copy',
      `${hostOf(first)}/shop/apps/web:v1`,
      `${hostOf(second)}/shop/releases/piped:v1`,
    ]);
    expect(piped.exitCode, piped.stderr).toBe(0);
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toMatch(
      /^Copied .*shop\/apps\/web@sha256:[a-f0-9]{64} to .*shop\/releases\/piped:v1\n/,
    );
    expect(piped.stdout).toMatch(/Blobs copied\t\d+ \(/);

    const shown = await inTerminal(home, [
      'images',
      'copy',
      `${hostOf(first)}/shop/apps/web:v1`,
      `${hostOf(second)}/shop/releases/shown:v1`,
    ]);
    expect(shown.exitCode, shown.screen).toBe(0);
    expect(shown.screen).toMatch(
      /Copying: \d+\/\d+ blobs, [\d.]+ (B|KiB|MiB) of [\d.]+ (B|KiB|MiB), [\d.]+ (B|kB|MB)\/s/,
    );
    expect(shown.screen).toMatch(/Copied .*shop\/releases\/shown:v1/);
  });

  it('signs in to a registry the CLI has no account for with the Docker config: auths, credHelpers, credsStore', async () => {
    const stranger = await cliHome();
    try {
      const args = [
        'images',
        'copy',
        `${hostOf(first)}/shop/apps/web:v1`,
        `${reference.host}/docker-config/web:v1`,
      ];
      const anonymous = await mistrive(stranger, args);
      expect(anonymous.exitCode).toBe(3);
      expect(anonymous.stderr.replace(/\s+/g, ' ')).toMatch(
        /UNAUTHORIZED: authentication required \(no credentials for it were found/,
      );

      const basic = Buffer.from(`admin:${testAdminPassword}`).toString('base64');
      await mkdir(dirname(stranger.dockerConfig), { recursive: true });
      await writeFile(stranger.dockerConfig, JSON.stringify({ auths: { [hostOf(first)]: { auth: basic } } }));
      expect((await mistrive(stranger, args)).exitCode).toBe(0);

      // A credential helper of the Docker protocol, first on PATH: `get` reads the server from stdin.
      const helper = join(stranger.binDir, 'docker-credential-fixture');
      await writeFile(
        helper,
        `#!/bin/sh\nread server\n[ "$server" = "${hostOf(first)}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '{"ServerURL":"'$server'","Username":"admin","Secret":"${testAdminPassword}"}'\n`,
        { mode: 0o755 },
      );
      for (const config of [{ credHelpers: { [hostOf(first)]: 'fixture' } }, { credsStore: 'fixture' }]) {
        await writeFile(stranger.dockerConfig, JSON.stringify(config));
        const viaHelper = await mistrive(stranger, args);
        expect(viaHelper.exitCode, viaHelper.stderr).toBe(0);
      }
    } finally {
      await stranger.remove();
    }
  });

  it('refuses a destination the account may not write, saying so', async () => {
    const reader = await cliHome();
    try {
      await mistriveJson(
        home,
        ['users', 'create', 'rita@example.com', '--password-stdin', '--registry', first.url],
        {
          input: 'rita-password-1',
        },
      );
      await mistriveJson(home, [
        'repos',
        'add-iam-policy-binding',
        'shop/apps',
        '--member',
        'user:rita@example.com',
        '--role',
        'viewer',
        '--registry',
        first.url,
      ]);
      await signIn(reader, first.url, 'rita@example.com', 'rita-password-1');
      const refused = await mistrive(reader, [
        'images',
        'copy',
        `${hostOf(first)}/shop/apps/web:v1`,
        `${hostOf(first)}/shop/apps/web-copy:v1`,
      ]);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toMatch(/DENIED|UNAUTHORIZED|refused/);
      expect((await manifestAt(first.url, 'shop/apps/web-copy', 'v1')).status).toBe(404);
    } finally {
      await reader.remove();
    }
  });
});
