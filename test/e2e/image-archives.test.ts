import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testAdminPassword } from '../support/admin-password.js';
import {
  type CliHome,
  cliBin,
  cliHome,
  mistrive,
  mistriveJson,
  repositoryRoot,
  signIn,
} from '../support/cli.js';
import { blobFiles } from '../support/data-dir.js';
import { type Dockerd, startDockerd } from '../support/dockerd.js';
import {
  type BuiltIndex,
  buildImage,
  buildIndex,
  readOciLayout,
  sha256Digest,
  tarGzLayer,
  writeOciLayout,
} from '../support/oci-layout.js';
import { podmanIn } from '../support/podman.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { pushLayout, skopeo } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';
import { manifestAt } from '../support/transfer.js';

/**
 * `images export` read back by skopeo, podman and a real Docker engine; `images import` of archives
 * written by skopeo, podman, docker and by export itself (plain and gzip); and archives built to
 * attack or broken on purpose, each refused with what is wrong and nothing stored.
 */

interface ImportJson {
  image: string;
  format: string;
  digest: string;
  blobs: { digest: string; action: string }[];
}

async function tarOf(
  entries: { name: string; body?: Buffer | string; type?: 'symlink' | 'link'; linkname?: string }[],
) {
  const archive = pack();
  for (const entry of entries) {
    if (entry.type) archive.entry({ name: entry.name, type: entry.type, linkname: entry.linkname });
    else archive.entry({ name: entry.name }, entry.body ?? '');
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('images export and import, end to end', { timeout: 300_000 }, () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon;
  let dataDir: string;
  let home: CliHome;
  let dockerd: Dockerd;
  let index: BuiltIndex;
  let host: string;
  const file = (name: string) => join(work.path, name);

  const podman = (args: readonly string[], input?: string | Buffer) => podmanIn(file('podman'))(args, input);

  beforeAll(async () => {
    work = await tempDir('mistrive-archives-');
    dataDir = join(work.path, 'data');
    daemon = await startDaemon(dataDir);
    dockerd = await startDockerd();
    host = new URL(daemon.url).host;
    home = await cliHome();
    await signIn(home, daemon.url, 'admin', testAdminPassword);
    await mistriveJson(home, ['projects', 'create', 'shop']);
    await mistriveJson(home, ['repos', 'create', 'apps', '--project', 'shop']);
    const amd64 = buildImage([
      await tarGzLayer({ 'bin/app': randomBytes(200_000) }),
      await tarGzLayer({ 'etc/x': 'x' }),
    ]);
    const arm64 = buildImage([await tarGzLayer({ 'bin/app': randomBytes(100_000) })], {
      architecture: 'arm64',
      os: 'linux',
    });
    index = buildIndex([
      { image: amd64, platform: { architecture: 'amd64', os: 'linux' } },
      { image: arm64, platform: { architecture: 'arm64', os: 'linux' } },
    ]);
    await writeOciLayout(file('layout'), 'v1', index);
    await pushLayout(daemon.url, file('layout'), 'v1', 'shop/apps/web', { all: true });
  }, 240_000);

  afterAll(async () => {
    await Promise.all([daemon?.stop(), dockerd?.stop()]);
    await home?.remove();
    await work?.remove();
  });

  it('exports an index with every platform as an OCI archive that skopeo reads with the same digests', async () => {
    const result = await mistriveJson<{ digest: string; manifests: number }>(home, [
      'images',
      'export',
      `${host}/shop/apps/web:v1`,
      '-o',
      file('web-oci.tar'),
      '--format',
      'oci',
    ]);
    expect(result.digest).toBe(index.index.descriptor.digest);
    expect(result.manifests).toBe(3);
    await skopeo([
      'copy',
      '--all',
      '--preserve-digests',
      `oci-archive:${file('web-oci.tar')}:v1`,
      `oci:${file('from-oci')}:v1`,
    ]);
    const read = await readOciLayout(file('from-oci'), 'v1');
    expect(read.root.digest).toBe(index.index.descriptor.digest);
    expect(read.blobs.size).toBe(8);
  });

  it('exports one platform in the docker save format that skopeo, podman and docker load', async () => {
    const refused = await mistrive(home, [
      'images',
      'export',
      `${host}/shop/apps/web:v1`,
      '-o',
      file('refused.tar'),
    ]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/index of 2 platforms; the docker format holds one/);
    await expect(stat(file('refused.tar'))).rejects.toThrow();

    await mistriveJson(home, [
      'images',
      'export',
      `${host}/shop/apps/web:v1`,
      '-o',
      file('web-docker.tar'),
      '--platform',
      'linux/amd64',
    ]);
    const amd64 = index.images[0];
    const configDigest = amd64?.config.descriptor.digest;
    const inspected = JSON.parse(
      await skopeo(['inspect', '--config', `docker-archive:${file('web-docker.tar')}`]),
    );
    expect(inspected.rootfs.diff_ids).toEqual(amd64?.layers.map((layer) => layer.diffId));

    const loaded = await dockerd.docker(['load', '-i', file('web-docker.tar')]);
    expect(loaded.exitCode, loaded.all).toBe(0);
    expect(loaded.all).toContain(`${host}/shop/apps/web:v1`);
    const id = await dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', `${host}/shop/apps/web:v1`]);
    expect(id.all.trim()).toBe(configDigest);

    const podmanLoaded = await podman(['load', '-i', file('web-docker.tar')]);
    expect(podmanLoaded.exitCode, podmanLoaded.all).toBe(0);
    const podmanOci = await podman(['load', '-i', file('web-oci.tar')]);
    expect(podmanOci.exitCode, podmanOci.all).toBe(0);
  });

  it('exports to stdout with -o -', async () => {
    await execa(
      'sh',
      [
        '-c',
        `"${process.execPath}" "${cliBin}" images export ${host}/shop/apps/web:v1 --platform linux/arm64 -o - > "${file('stdout.tar')}"`,
      ],
      {
        env: home.env,
        extendEnv: false,
        cwd: repositoryRoot,
      },
    );
    const inspected = JSON.parse(
      await skopeo(['inspect', '--config', `docker-archive:${file('stdout.tar')}`]),
    );
    expect(inspected.architecture).toBe('arm64');
  });

  it('imports its own OCI export, gzip-compressed, with the same digests', async () => {
    await writeFile(file('web-oci.tar.gz'), gzipSync(await readFile(file('web-oci.tar'))));
    const result = await mistriveJson<ImportJson>(home, [
      'images',
      'import',
      file('web-oci.tar.gz'),
      `${host}/shop/apps/again:v1`,
    ]);
    expect(result.format).toBe('oci');
    expect(result.digest).toBe(index.index.descriptor.digest);
    expect((await manifestAt(daemon.url, 'shop/apps/again', 'v1')).digest).toBe(
      index.index.descriptor.digest,
    );
  });

  it('imports archives written by skopeo (docker-archive and oci-archive)', async () => {
    const source = `docker://${host}/shop/apps/web:v1`;
    const creds = ['--src-creds', `admin:${testAdminPassword}`, '--src-tls-verify=false'];
    await skopeo([
      'copy',
      ...creds,
      '--override-arch',
      'arm64',
      source,
      `docker-archive:${file('skopeo-docker.tar')}:web:v1`,
    ]);
    await skopeo([
      'copy',
      ...creds,
      '--all',
      '--preserve-digests',
      source,
      `oci-archive:${file('skopeo-oci.tar')}:v1`,
    ]);

    const fromDocker = await mistriveJson<ImportJson>(home, [
      'images',
      'import',
      file('skopeo-docker.tar'),
      `${host}/shop/apps/from-skopeo:v1`,
    ]);
    expect(fromDocker.format).toBe('docker');
    // The layers are stored as the archive holds them (uncompressed), and the config is the original.
    const arm64 = index.images[1];
    const back = JSON.parse(
      await skopeo([
        'inspect',
        '--config',
        '--tls-verify=false',
        '--creds',
        `admin:${testAdminPassword}`,
        `docker://${host}/shop/apps/from-skopeo:v1`,
      ]),
    );
    expect(back.rootfs.diff_ids).toEqual(arm64?.layers.map((layer) => layer.diffId));
    const manifest = JSON.parse(
      (await manifestAt(daemon.url, 'shop/apps/from-skopeo', 'v1')).bytes.toString(),
    );
    expect(manifest.config.digest).toBe(arm64?.config.descriptor.digest);
    expect(manifest.layers.map((layer: { digest: string }) => layer.digest)).toEqual(
      arm64?.layers.map((layer) => layer.diffId),
    );

    const fromOci = await mistriveJson<ImportJson>(home, [
      'images',
      'import',
      file('skopeo-oci.tar'),
      `${host}/shop/apps/from-skopeo-oci`,
    ]);
    expect(fromOci.digest).toBe(index.index.descriptor.digest);
    expect(fromOci.image).toBe(`${host}/shop/apps/from-skopeo-oci:v1`);
  });

  it('imports archives written by docker save and podman save', async () => {
    const layer = (await tarGzLayer({ 'hello.txt': `hello ${randomBytes(4).toString('hex')}\n` })).bytes;
    for (const [client, name] of [
      [dockerd.docker, 'docker'],
      [podman, 'podman'],
    ] as const) {
      const imported = await client(['import', '-', `local/${name}-built:v3`], layer);
      expect(imported.exitCode, imported.all).toBe(0);
      const saved = await client(['save', '-o', file(`${name}-save.tar`), `local/${name}-built:v3`]);
      expect(saved.exitCode, saved.all).toBe(0);
      const result = await mistriveJson<ImportJson>(home, [
        'images',
        'import',
        file(`${name}-save.tar`),
        `${host}/shop/apps/${name}-saved`,
      ]);
      expect(result.format).toBe('docker');
      expect(result.image).toBe(`${host}/shop/apps/${name}-saved:v3`);
      const pulled = await skopeo([
        'inspect',
        '--tls-verify=false',
        '--creds',
        `admin:${testAdminPassword}`,
        `docker://${host}/shop/apps/${name}-saved:v3`,
      ]);
      expect(JSON.parse(pulled).Digest).toBe(result.digest);
    }
  });

  describe('refuses a malformed archive and stores nothing', () => {
    const layoutMarker = JSON.stringify({ imageLayoutVersion: '1.0.0' });
    const body = Buffer.from('not what the name says');
    const cases: { what: string; archive: () => Promise<Buffer>; message: RegExp }[] = [
      {
        what: 'a path that escapes the archive',
        archive: () =>
          tarOf([
            { name: '../../etc/evil', body: 'x' },
            { name: 'manifest.json', body: '[]' },
          ]),
        message: /escapes the archive/,
      },
      {
        what: 'an absolute path',
        archive: () => tarOf([{ name: '/etc/evil', body: 'x' }]),
        message: /absolute path/,
      },
      {
        what: 'a symbolic link to an absolute path',
        archive: () => tarOf([{ name: 'manifest.json', type: 'symlink', linkname: '/etc/passwd' }]),
        message: /symbolic link "manifest.json" points outside the archive/,
      },
      {
        what: 'a symbolic link that climbs out of the archive',
        archive: () => tarOf([{ name: 'abc/layer.tar', type: 'symlink', linkname: '../../../etc/shadow' }]),
        message: /symbolic link "abc\/layer.tar" points outside the archive/,
      },
      {
        what: 'a hard link to nothing the archive holds',
        archive: () => tarOf([{ name: 'layer.tar', type: 'link', linkname: 'other' }]),
        message: /hard link "layer.tar" points at "other", which the archive does not hold/,
      },
      {
        what: 'a blob whose bytes do not match its digest',
        archive: async () => {
          const fake = `sha256:${'ab'.repeat(32)}`;
          const manifest = Buffer.from(
            JSON.stringify({
              schemaVersion: 2,
              mediaType: 'application/vnd.oci.image.manifest.v1+json',
              config: {
                mediaType: 'application/vnd.oci.image.config.v1+json',
                digest: fake,
                size: body.length,
              },
              layers: [],
            }),
          );
          return tarOf([
            { name: 'oci-layout', body: layoutMarker },
            { name: `blobs/sha256/${'ab'.repeat(32)}`, body },
            { name: `blobs/sha256/${sha256Digest(manifest).slice(7)}`, body: manifest },
            {
              name: 'index.json',
              body: JSON.stringify({
                schemaVersion: 2,
                manifests: [
                  {
                    mediaType: 'application/vnd.oci.image.manifest.v1+json',
                    digest: sha256Digest(manifest),
                    size: manifest.length,
                  },
                ],
              }),
            },
          ]);
        },
        message: /digest sha256:[a-f0-9]{64}, not the one its name says/,
      },
      {
        what: 'a docker archive whose layer does not match the diff_id',
        archive: async () => {
          const config = Buffer.from(
            JSON.stringify({ rootfs: { type: 'layers', diff_ids: [`sha256:${'cd'.repeat(32)}`] } }),
          );
          return tarOf([
            { name: `${sha256Digest(config).slice(7)}.json`, body: config },
            { name: 'abc/layer.tar', body: await tarOf([{ name: 'f', body: 'x' }]) },
            {
              name: 'manifest.json',
              body: JSON.stringify([
                {
                  Config: `${sha256Digest(config).slice(7)}.json`,
                  RepoTags: ['x:1'],
                  Layers: ['abc/layer.tar'],
                },
              ]),
            },
          ]);
        },
        message: /does not match the config: its diff_id is sha256:(cd)+/,
      },
      {
        what: 'a missing manifest',
        archive: () => tarOf([{ name: 'readme.txt', body: 'hello' }]),
        message: /manifest\.json.*is missing/,
      },
      {
        what: 'truncation',
        archive: async () => {
          const whole = await readFile(file('web-oci.tar'));
          return whole.subarray(0, Math.floor(whole.length / 2) + 100);
        },
        message: /truncated/,
      },
    ];
    it.each(cases)('$what', async ({ archive, message }) => {
      const before = (await blobFiles(dataDir)).length;
      const path = file(`evil-${randomBytes(4).toString('hex')}.tar`);
      await writeFile(path, await archive());
      const result = await mistrive(home, ['images', 'import', path, `${host}/shop/apps/evil:v1`]);
      expect(result.exitCode, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/the archive is malformed/);
      expect(result.stderr.replace(/\s+/g, ' ')).toMatch(message);
      expect(result.stderr).toMatch(/nothing was imported/);
      expect((await manifestAt(daemon.url, 'shop/apps/evil', 'v1')).status).toBe(404);
      expect((await blobFiles(dataDir)).length).toBe(before);
    });
  });
});
