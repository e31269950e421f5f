import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import { blobFiles, corruptBlobFiles, uploadFiles } from '../support/data-dir.js';
import { errorCode, pushBlob } from '../support/oci-client.js';
import {
  type BuiltImage,
  buildImage,
  layoutMediaTypes,
  readOciLayout,
  tarGzLayer,
  writeOciLayout,
} from '../support/oci-layout.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { pullLayout, pushArgs, pushLayout, runSkopeo } from '../support/skopeo.js';
import { openStreamingRequest } from '../support/streaming-request.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const name = 'proj/repo/crash-push';
const tag = 'v1';

async function expectNoManifest(url: string, image: BuiltImage): Promise<void> {
  for (const reference of [tag, image.manifest.descriptor.digest]) {
    const response = await adminFetch(`${url}/v2/${name}/manifests/${reference}`);
    expect(response.status, reference).toBe(404);
    expect(await errorCode(response)).toBe('MANIFEST_UNKNOWN');
  }
  const tags = await adminFetch(`${url}/v2/${name}/tags/list`);
  if (tags.status === 200) expect(((await tags.json()) as { tags: string[] | null }).tags ?? []).toEqual([]);
  else expect(tags.status).toBe(404);
}

/** A skopeo push of the same image completes after the crash, and what comes back is what was pushed. */
async function expectPushAndPullIntact(url: string, work: string, image: BuiltImage): Promise<void> {
  const source = join(work, 'source');
  await pushLayout(url, source, tag, name);
  const copyDir = join(work, `copy-${randomBytes(4).toString('hex')}`);
  await pullLayout(url, name, tag, copyDir);
  const copy = await readOciLayout(copyDir, tag);
  expect(copy.root.digest).toBe(image.manifest.descriptor.digest);
  expect([...copy.blobs.keys()].sort()).toEqual(
    [image.config, ...image.layers, image.manifest].map((blob) => blob.descriptor.digest).sort(),
  );
  for (const layer of image.layers)
    expect(copy.blobs.get(layer.descriptor.digest)?.equals(layer.bytes)).toBe(true);
}

describe('kill -9 in the middle of an image push', { timeout: 180_000 }, () => {
  let image: BuiltImage;
  let data: Awaited<ReturnType<typeof tempDir>>;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon | undefined;

  beforeAll(async () => {
    image = buildImage([
      await tarGzLayer({ 'etc/os-release': 'ID=mistrive\n', 'bin/busybox': randomBytes(128 * 1024) }),
      // Large enough that skopeo is still sending it when the daemon is killed.
      await tarGzLayer({ 'srv/data.bin': randomBytes(48 * 1024 * 1024) }, 1),
      await tarGzLayer({ 'bin/app': '#!/bin/sh\necho app\n' }),
    ]);
  });
  beforeEach(async () => {
    data = await tempDir('mistrive-e2e-crash-push-');
    work = await tempDir('mistrive-e2e-crash-push-work-');
    await writeOciLayout(join(work.path, 'source'), tag, image);
    daemon = await startDaemon(data.path, ['--auto-create-repositories']);
  });
  afterEach(async () => {
    await daemon?.stop();
    await data.remove();
    await work.remove();
  });

  it.each([
    { inFlight: 'nothing: every blob is pushed, the manifest not yet', manifestBytes: 0 },
    { inFlight: 'half of the manifest body', manifestBytes: 0.5 },
  ])(
    'keeps every acknowledged blob and no manifest when killed with $inFlight',
    async ({ manifestBytes }) => {
      const running = daemon as Daemon;
      for (const blob of [image.config, ...image.layers]) {
        expect(await pushBlob(running.url, name, blob.bytes)).toBe(blob.descriptor.digest);
      }
      if (manifestBytes > 0) {
        const put = openStreamingRequest(`${running.url}/v2/${name}/manifests/${tag}`, 'PUT', {
          'Content-Type': layoutMediaTypes.manifest,
          'Content-Length': image.manifest.bytes.length,
        });
        await put.continued;
        await put.write(
          image.manifest.bytes.subarray(0, Math.floor(image.manifest.bytes.length * manifestBytes)),
        );
        await running.kill();
        expect('error' in (await put.outcome)).toBe(true);
      } else {
        await running.kill();
      }

      daemon = await startDaemon(data.path, ['--auto-create-repositories']);
      await expectNoManifest(daemon.url, image);
      expect((await blobFiles(data.path)).map((file) => file.digest)).not.toContain(
        image.manifest.descriptor.digest,
      );
      expect(await corruptBlobFiles(data.path)).toEqual([]);
      // A blob the registry acknowledged with 201 survives the crash whole.
      for (const blob of [image.config, ...image.layers]) {
        const response = await adminFetch(`${daemon.url}/v2/${name}/blobs/${blob.descriptor.digest}`);
        expect(response.status).toBe(200);
        expect(Buffer.from(await response.arrayBuffer()).equals(blob.bytes)).toBe(true);
      }
      await expectPushAndPullIntact(daemon.url, work.path, image);
    },
  );

  it('recovers when skopeo is cut off while it uploads a layer', async () => {
    const running = daemon as Daemon;
    const push = runSkopeo(pushArgs(running.url, join(work.path, 'source'), tag, name));
    const big = image.layers[1]?.descriptor.digest ?? '';
    // Kill while the large layer's bytes are arriving: only its upload file grows past 1 MiB.
    await waitFor('skopeo to upload part of the large layer', async () => {
      const sizes = [...(await uploadFiles(data.path)).values()];
      return sizes.some((size) => size > 1024 * 1024) ? true : undefined;
    });
    await running.kill();
    const result = await push.done;
    expect(result.exitCode, result.all).not.toBe(0);

    daemon = await startDaemon(data.path, ['--auto-create-repositories']);
    await expectNoManifest(daemon.url, image);
    const head = await adminFetch(`${daemon.url}/v2/${name}/blobs/${big}`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(await corruptBlobFiles(data.path)).toEqual([]);
    await expectPushAndPullIntact(daemon.url, work.path, image);
  });
});
