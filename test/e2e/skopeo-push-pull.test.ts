import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import { blobFiles } from '../support/data-dir.js';
import {
  type BuiltImage,
  type BuiltIndex,
  blobsOf,
  buildImage,
  buildIndex,
  type Layer,
  layoutMediaTypes,
  readOciLayout,
  tarGzLayer,
  writeOciLayout,
} from '../support/oci-layout.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { pullLayout, pushLayout } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';

/** What skopeo copies back must be what was pushed: the same root digest and the same bytes for every blob. */
async function expectFaithfulCopy(layoutDir: string, tag: string, built: BuiltImage | BuiltIndex) {
  const copy = await readOciLayout(layoutDir, tag);
  const root = 'index' in built ? built.index : built.manifest;
  expect(copy.root.digest).toBe(root.descriptor.digest);
  expect(copy.root.mediaType).toBe(root.descriptor.mediaType);
  const expected = new Map(blobsOf(built).map((blob) => [blob.descriptor.digest, blob.bytes]));
  expect([...copy.blobs.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [digest, bytes] of copy.blobs) expect(bytes.equals(expected.get(digest) as Buffer)).toBe(true);
}

describe('skopeo against the registry', { timeout: 180_000 }, () => {
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let base: Layer;
  let data: Layer;
  let app: Layer;
  let image: BuiltImage;

  beforeAll(async () => {
    registry = await startTestRegistry({ autoCreateRepositories: true });
    work = await tempDir('mistrive-e2e-skopeo-');
    base = await tarGzLayer({
      'etc/os-release': 'NAME="Mistrive test base"\nID=mistrive\n',
      'bin/busybox': randomBytes(256 * 1024),
    });
    // Incompressible and several MiB: the upload spans many chunks and several disk batches.
    data = await tarGzLayer({ 'srv/data/blob.bin': randomBytes(6 * 1024 * 1024) }, 1);
    app = await tarGzLayer({
      'bin/app': '#!/bin/sh\necho hello from the app\n',
      'etc/app/config.yaml': 'listen: 8080\n',
    });
    image = buildImage([base, data, app]);
  });
  afterAll(async () => {
    await registry?.close();
    await work?.remove();
  });

  it('pushes a multi-layer image and copies it back with every digest unchanged', async () => {
    const source = join(work.path, 'multi-layer');
    await writeOciLayout(source, 'v1', image);
    await pushLayout(registry.url, source, 'v1', 'proj/repo/app');

    const manifest = await adminFetch(`${registry.url}/v2/proj/repo/app/manifests/v1`);
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('docker-content-digest')).toBe(image.manifest.descriptor.digest);
    expect(Buffer.from(await manifest.arrayBuffer()).equals(image.manifest.bytes)).toBe(true);

    const copy = join(work.path, 'multi-layer-copy');
    await pullLayout(registry.url, 'proj/repo/app', 'v1', copy);
    await expectFaithfulCopy(copy, 'v1', image);
  });

  it('pushes a two-platform index with --all and copies the whole index back unchanged', async () => {
    const amd64 = { architecture: 'amd64', os: 'linux' };
    const arm64 = { architecture: 'arm64', os: 'linux', variant: 'v8' };
    const amd64Tools = await tarGzLayer({
      'usr/bin/tool': `tool built for amd64 ${randomBytes(8).toString('hex')}`,
    });
    const arm64Tools = await tarGzLayer({
      'usr/bin/tool': `tool built for arm64 ${randomBytes(8).toString('hex')}`,
    });
    // Both platforms share the base and data layers; only the top layer and the config differ.
    const index = buildIndex([
      { image: buildImage([base, data, amd64Tools], amd64), platform: amd64 },
      { image: buildImage([base, data, arm64Tools], arm64), platform: arm64 },
    ]);
    const source = join(work.path, 'two-platform');
    await writeOciLayout(source, 'multi', index);
    await pushLayout(registry.url, source, 'multi', 'proj/repo/multi-arch', { all: true });

    const pushed = await adminFetch(`${registry.url}/v2/proj/repo/multi-arch/manifests/multi`, {
      headers: { Accept: layoutMediaTypes.index },
    });
    expect(pushed.status).toBe(200);
    expect(pushed.headers.get('content-type')).toBe(layoutMediaTypes.index);
    expect(pushed.headers.get('docker-content-digest')).toBe(index.index.descriptor.digest);
    for (const platformImage of index.images) {
      const byDigest = await adminFetch(
        `${registry.url}/v2/proj/repo/multi-arch/manifests/${platformImage.manifest.descriptor.digest}`,
        { method: 'HEAD' },
      );
      expect(byDigest.status).toBe(200);
    }

    const copy = join(work.path, 'two-platform-copy');
    await pullLayout(registry.url, 'proj/repo/multi-arch', 'multi', copy, { all: true });
    await expectFaithfulCopy(copy, 'multi', index);
  });

  it('keeps one copy of layer bytes when another image pushes the same layers under another name', async () => {
    const firstLayout = join(work.path, 'dedup-first');
    await writeOciLayout(firstLayout, 'v1', image);
    await pushLayout(registry.url, firstLayout, 'v1', 'proj/dedup/first');
    const before = new Map((await blobFiles(registry.dataDir)).map((file) => [file.digest, file]));

    const tool = await tarGzLayer({ 'usr/bin/other-tool': randomBytes(64 * 1024) });
    const second = buildImage([base, data, tool]);
    const secondLayout = join(work.path, 'dedup-second');
    await writeOciLayout(secondLayout, 'v2', second);
    const output = await pushLayout(registry.url, secondLayout, 'v2', 'other/place/tool');
    // A fresh client cache means skopeo sends the shared layers' bytes again rather than skipping them.
    expect(output).not.toMatch(/skipped/i);
    const after = new Map((await blobFiles(registry.dataDir)).map((file) => [file.digest, file]));

    for (const shared of [base, data]) {
      const file = after.get(shared.descriptor.digest);
      expect(file, shared.descriptor.digest).toBeDefined();
      // The very same file: not replaced by the second upload, and no second copy anywhere.
      expect(file?.inode).toBe(before.get(shared.descriptor.digest)?.inode);
      expect(file?.size).toBe(shared.descriptor.size);
    }
    const added = [...after.keys()].filter((digest) => !before.has(digest)).sort();
    expect(added).toEqual(
      [tool.descriptor.digest, second.config.descriptor.digest, second.manifest.descriptor.digest].sort(),
    );
    const bytesOnDisk = (files: Map<string, { size: number }>) =>
      [...files.values()].reduce((total, file) => total + file.size, 0);
    expect(bytesOnDisk(after) - bytesOnDisk(before)).toBe(
      tool.descriptor.size + second.config.descriptor.size + second.manifest.descriptor.size,
    );

    // Stored once, yet visible under both names.
    for (const name of ['proj/dedup/first', 'other/place/tool']) {
      const head = await adminFetch(`${registry.url}/v2/${name}/blobs/${data.descriptor.digest}`, {
        method: 'HEAD',
      });
      expect(head.status).toBe(200);
      expect(Number(head.headers.get('content-length'))).toBe(data.descriptor.size);
    }
    const copy = join(work.path, 'dedup-second-copy');
    await pullLayout(registry.url, 'other/place/tool', 'v2', copy);
    await expectFaithfulCopy(copy, 'v2', second);
  });
});
