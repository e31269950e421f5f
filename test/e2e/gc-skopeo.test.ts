import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectThroughApi, deleteManifest } from '../gc/support.js';
import { adminFetch } from '../support/admin-session.js';
import { blobFiles, corruptBlobFiles } from '../support/data-dir.js';
import { blobsOf, buildImage, readOciLayout, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { pullLayout, pushLayout } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';

describe('garbage collection in the daemon, with skopeo', { timeout: 180_000 }, () => {
  let daemon: Daemon;
  let work: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    work = await tempDir('mistrive-e2e-gc-');
    const config = join(work.path, 'config.yaml');
    await writeFile(config, 'autoCreateRepositories: true\ngc:\n  interval: 0s\n  delay: 0s\n');
    daemon = await startDaemon(join(work.path, 'data'), ['--config', config]);
  });
  afterAll(async () => {
    await daemon?.stop();
    await work?.remove();
  });

  it('removes a deleted image’s files, keeps the layers it shared, and a dry run removes nothing', async () => {
    const dataDir = join(work.path, 'data');
    const shared = await tarGzLayer({ 'lib/shared.so': randomBytes(64 * 1024) });
    const onlyOld = await tarGzLayer({ 'bin/old': randomBytes(32 * 1024) });
    const onlyKept = await tarGzLayer({ 'bin/kept': randomBytes(16 * 1024) });
    const old = buildImage([shared, onlyOld]);
    const kept = buildImage([shared, onlyKept]);
    for (const [name, image] of [
      ['old', old],
      ['kept', kept],
    ] as const) {
      const layout = join(work.path, name);
      await writeOciLayout(layout, 'v1', image);
      await pushLayout(daemon.url, layout, 'v1', `proj/repo/${name}`);
    }
    await deleteManifest(daemon.url, 'proj/repo/old', old.manifest.descriptor.digest);
    const goneDigests = [
      old.manifest.descriptor.digest,
      old.config.descriptor.digest,
      onlyOld.descriptor.digest,
    ];

    const dry = await collectThroughApi(daemon.url, true);
    expect(dry.blobs.items).toEqual(expect.arrayContaining(goneDigests));
    const onDisk = new Set((await blobFiles(dataDir)).map((file) => file.digest));
    for (const digest of goneDigests) expect(onDisk.has(digest)).toBe(true);

    const report = await collectThroughApi(daemon.url);
    expect(new Set(report.blobs.items)).toEqual(new Set(goneDigests));
    expect(report.bytesReclaimed).toBe(dry.bytesReclaimed);
    const after = new Set((await blobFiles(dataDir)).map((file) => file.digest));
    for (const digest of goneDigests) expect(after.has(digest)).toBe(false);
    expect([...after].sort()).toEqual(
      blobsOf(kept)
        .map((blob) => blob.descriptor.digest)
        .sort(),
    );
    expect(await corruptBlobFiles(dataDir)).toEqual([]);

    const copy = join(work.path, 'kept-copy');
    await pullLayout(daemon.url, 'proj/repo/kept', 'v1', copy);
    const pulled = await readOciLayout(copy, 'v1');
    expect(pulled.root.digest).toBe(kept.manifest.descriptor.digest);
    for (const blob of blobsOf(kept)) {
      expect(pulled.blobs.get(blob.descriptor.digest)?.equals(blob.bytes)).toBe(true);
    }
    expect((await adminFetch(`${daemon.url}/v2/proj/repo/old/manifests/v1`)).status).toBe(404);
  });
});
