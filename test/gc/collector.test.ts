import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectorLease } from '../../src/db/lifecycle.js';
import { adminFetch, signInAdmin } from '../support/admin-session.js';
import { FakeClock } from '../support/fake-clock.js';
import {
  errorCode,
  imageManifest,
  pushBlob,
  pushImage,
  putManifest,
  randomBlob,
  sha256,
} from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';
import { blobStored, storedSize, storeOf } from '../support/stored-blobs.js';
import { collectThroughApi, deleteManifest, headBlob } from './support.js';

const delay = 10 * 60_000;
let registry: TestRegistry;
let clock: FakeClock;

beforeEach(async () => {
  clock = new FakeClock();
  registry = await startTestRegistry(
    { autoCreateRepositories: true, gc: { interval: '0s', delay: '10m' } },
    { clock },
  );
});

afterEach(async () => {
  await registry.close();
});

/** Moves the registry's clock, and signs the administrator in again so its token stays valid. */
const advance = async (ms: number) => {
  clock.advance(ms);
  await signInAdmin(registry.url);
};

const collect = async (dryRun = false) => {
  const report = await registry.registry.maintenance.collect({ dryRun, scheduled: false });
  if (!report) throw new Error('collection did not run');
  return report;
};

describe('garbage collection', () => {
  it('removes a deleted image’s blobs and manifest once the delay has passed, and reports the bytes', async () => {
    const name = 'p/r/app';
    const image = await pushImage(registry.url, name, 'v1', [3000, 5000]);
    await deleteManifest(registry.url, name, image.digest);
    await advance(2 * delay);

    const digests = [image.config, ...image.layers, image.digest];
    const sizes = await Promise.all(digests.map((d) => storedSize(registry.dataDir, d)));
    const expectedBytes = sizes.reduce((sum, size) => sum + size, 0);
    expect(expectedBytes).toBeGreaterThan(8000 + image.manifest.length);
    const preview = await collect(true);
    expect(preview.blobs.count).toBe(4);
    expect(preview.bytesReclaimed).toBe(expectedBytes);
    for (const digest of [image.config, ...image.layers, image.digest]) {
      expect(await blobStored(registry.dataDir, digest)).toBe(true);
    }

    const report = await collect();
    expect(report.dryRun).toBe(false);
    expect(new Set(report.blobs.items)).toEqual(new Set([image.config, ...image.layers, image.digest]));
    expect(report.bytesReclaimed).toBe(preview.bytesReclaimed);
    expect(report.bytesReclaimed).toBe(expectedBytes);
    for (const digest of [image.config, ...image.layers, image.digest]) {
      expect(await blobStored(registry.dataDir, digest)).toBe(false);
    }
    expect(report.images.items).toEqual([name]);
    expect((await collect()).bytesReclaimed).toBe(0);
  });

  it('keeps the layers another image still references', async () => {
    const shared = await pushBlob(registry.url, 'p/r/a', randomBlob(2048));
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const configDigest = await pushBlob(registry.url, 'p/r/a', config);
    await pushBlob(registry.url, 'p/r/b', randomBlob(1)); // creates b
    for (const name of ['p/r/a', 'p/r/b']) {
      await adminFetch(`${registry.url}/v2/${name}/blobs/uploads/?mount=${shared}&from=p/r/a`, {
        method: 'POST',
      });
      await adminFetch(`${registry.url}/v2/${name}/blobs/uploads/?mount=${configDigest}&from=p/r/a`, {
        method: 'POST',
      });
    }
    const manifest = (extra: string) =>
      imageManifest({ digest: configDigest, size: config.length }, [{ digest: shared, size: 2048 }], {
        annotations: { which: extra },
      });
    const a = manifest('a');
    expect((await putManifest(registry.url, 'p/r/a', 'v1', a)).status).toBe(201);
    expect((await putManifest(registry.url, 'p/r/b', 'v1', manifest('b'))).status).toBe(201);
    await deleteManifest(registry.url, 'p/r/a', sha256(a));
    await advance(2 * delay);

    const report = await collect();
    expect(report.blobs.items).toContain(sha256(a));
    expect(report.blobs.items).not.toContain(shared);
    expect(await blobStored(registry.dataDir, shared)).toBe(true);
    const pulled = await adminFetch(`${registry.url}/v2/p/r/b/blobs/${shared}`);
    expect(pulled.status).toBe(200);
    expect(sha256(Buffer.from(await pulled.arrayBuffer()))).toBe(shared);
  });

  it('keeps a blob for the delay after its upload, so a manifest pushed later succeeds (invariant 2)', async () => {
    const name = 'p/r/late';
    const bytes = randomBlob(1000);
    const digest = await pushBlob(registry.url, name, bytes);
    const config = await pushBlob(registry.url, name, Buffer.from('{}'));
    await advance(8 * 60_000);
    await collect();
    expect(await blobStored(registry.dataDir, digest)).toBe(true);
    const body = imageManifest({ digest: config, size: 2 }, [{ digest, size: 1000 }]);
    expect((await putManifest(registry.url, name, 'v1', body)).status).toBe(201);
  });

  it('counts the delay from the last HEAD that told a client the blob exists (invariant 2)', async () => {
    const name = 'p/r/headed';
    const digest = await pushBlob(registry.url, name, randomBlob(1000));
    const config = await pushBlob(registry.url, name, Buffer.from('{}'));
    await advance(8 * 60_000);
    expect(await headBlob(registry.url, name, digest)).toBe(200);
    expect(await headBlob(registry.url, name, config)).toBe(200);
    await advance(8 * 60_000);
    await collect();
    expect(await blobStored(registry.dataDir, digest)).toBe(true);
    const body = imageManifest({ digest: config, size: 2 }, [{ digest, size: 1000 }]);
    expect((await putManifest(registry.url, name, 'v1', body)).status).toBe(201);
  });

  it('collects a blob nobody was told of for longer than the delay; a manifest pushed after is refused', async () => {
    const name = 'p/r/abandoned';
    const digest = await pushBlob(registry.url, name, randomBlob(1000));
    const config = await pushBlob(registry.url, name, Buffer.from('{}'));
    await advance(2 * delay);
    const report = await collect();
    expect(report.links.count).toBe(2);
    expect(report.blobs.items).toContain(digest);
    expect(await blobStored(registry.dataDir, digest)).toBe(false);
    const body = imageManifest({ digest: config, size: 2 }, [{ digest, size: 1000 }]);
    const response = await putManifest(registry.url, name, 'v1', body);
    expect(response.status).toBe(404);
    expect(await errorCode(response)).toBe('MANIFEST_BLOB_UNKNOWN');
  });

  it('ends a manifest PUT racing the sweep of its blob stored with the blob kept, or refused (invariant 3)', async () => {
    const outcomes = new Set<string>();
    for (let round = 0; round < 12; round++) {
      const name = `p/r/race${round}`;
      const layer = randomBlob(512);
      const digest = await pushBlob(registry.url, name, layer);
      const config = await pushBlob(registry.url, name, Buffer.from(`{"round":${round}}`));
      await advance(2 * delay);
      const body = imageManifest({ digest: config, size: Buffer.from(`{"round":${round}}`).length }, [
        { digest, size: 512 },
      ]);
      // Started together: which one wins depends on how their steps interleave.
      const [response] = await Promise.all([
        putManifest(registry.url, name, 'v1', body),
        round % 2 === 0 ? collect() : new Promise((resolve) => setImmediate(resolve)).then(() => collect()),
      ]);
      if (response.status === 201) {
        outcomes.add('stored');
        expect(await blobStored(registry.dataDir, digest)).toBe(true);
        await collect();
        const pulled = await adminFetch(`${registry.url}/v2/${name}/blobs/${digest}`);
        expect(pulled.status).toBe(200);
        expect(Buffer.from(await pulled.arrayBuffer()).equals(layer)).toBe(true);
      } else {
        outcomes.add('refused');
        expect(response.status).toBe(404);
        expect(await errorCode(response)).toBe('MANIFEST_BLOB_UNKNOWN');
      }
    }
    expect(outcomes.size).toBeGreaterThan(0);
  });

  it('makes an upload of a blob being swept wait, then puts the bytes back (the deleting state)', async () => {
    const { lifecycle } = registry.registry.context.metadata;
    const name = 'p/r/sweep';
    const bytes = randomBlob(4096);
    const digest = await pushBlob(registry.url, name, bytes);
    await advance(2 * delay);
    // A collector in the middle of a sweep: it holds the lease and has marked the blob.
    const now = clock.now();
    expect(
      await lifecycle.acquireLease(collectorLease, 'sweeper', now, new Date(now.getTime() + delay)),
    ).toBe(true);
    const before = registry.registry.context.promises.expiredBefore(now);
    await lifecycle.expireLinks(await lifecycle.expirableLinks(before, undefined, 10), before);
    expect(await lifecycle.markDeleting([digest], 'sweeper', now)).toEqual([digest]);

    let answered = false;
    const upload = pushBlob(registry.url, name, bytes).then((result) => {
      answered = true;
      return result;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answered).toBe(false);
    // The sweeper unlinks, then forgets the row: the upload now puts its bytes back.
    await registry.registry.context.blobs.delete(digest);
    await lifecycle.forgetDeleted([digest], 'sweeper');
    await lifecycle.releaseLease(collectorLease, 'sweeper');
    expect(await upload).toBe(digest);
    expect(await blobStored(registry.dataDir, digest)).toBe(true);
    expect(await headBlob(registry.url, name, digest)).toBe(200);
  });

  it('finishes the deletions of a collector killed mid-sweep, and a push takes back what it needs (invariant 4)', async () => {
    const { lifecycle } = registry.registry.context.metadata;
    const doomed = await pushBlob(registry.url, 'p/r/crash', randomBlob(100));
    const wanted = randomBlob(200);
    const revived = await pushBlob(registry.url, 'p/r/crash', wanted);
    await advance(2 * delay);
    let now = clock.now();
    await lifecycle.acquireLease(collectorLease, 'dead', now, new Date(now.getTime() + 60_000));
    const before = registry.registry.context.promises.expiredBefore(now);
    await lifecycle.expireLinks(await lifecycle.expirableLinks(before, undefined, 10), before);
    expect(await lifecycle.markDeleting([doomed, revived], 'dead', now)).toHaveLength(2);
    // Killed here, after marking: the lease runs out.
    await advance(2 * 60_000);
    now = clock.now();

    // A push of a marked blob no longer waits for the dead collector: it takes it back.
    expect(await pushBlob(registry.url, 'p/r/crash', wanted)).toBe(revived);
    const report = await collect();
    expect(report.resumed.items).toEqual([doomed]);
    expect(await blobStored(registry.dataDir, doomed)).toBe(false);
    expect(await blobStored(registry.dataDir, revived)).toBe(true);
    expect(await headBlob(registry.url, 'p/r/crash', revived)).toBe(200);
  });

  it('removes files the metadata does not know of once older than the delay', async () => {
    const stray = randomBlob(300);
    await (await storeOf(registry.dataDir)).put(sha256(stray), stray);
    // Younger than the delay, it may be a push about to be recorded: kept.
    expect((await collect()).unknownFiles.items).toEqual([]);
    expect(await blobStored(registry.dataDir, sha256(stray))).toBe(true);
    await advance(2 * delay);
    const report = await collect();
    expect(report.unknownFiles.items).toEqual([sha256(stray)]);
    expect(report.unknownFiles.bytes).toBe(300);
    expect(await blobStored(registry.dataDir, sha256(stray))).toBe(false);
  });

  it('runs one collector at a time: a scheduled run skips while another instance holds the lease', async () => {
    const { lifecycle } = registry.registry.context.metadata;
    const image = await pushImage(registry.url, 'p/r/one', 'v1');
    await deleteManifest(registry.url, 'p/r/one', image.digest);
    await advance(2 * delay);
    const now = clock.now();
    await lifecycle.acquireLease(collectorLease, 'other-instance', now, new Date(now.getTime() + 60_000));
    expect(await registry.registry.maintenance.collect({ dryRun: false, scheduled: true })).toBeUndefined();
    expect(await blobStored(registry.dataDir, image.digest)).toBe(true);
    await lifecycle.releaseLease(collectorLease, 'other-instance');
    expect((await collect()).blobs.items).toContain(image.digest);
  });

  it('removes scan records of digests no repository holds', async () => {
    const { scans } = registry.registry.context.metadata;
    const image = await pushImage(registry.url, 'p/r/scanned', 'v1');
    await scans.enqueue(image.digest, clock.now());
    await scans.enqueue('sha256:'.padEnd(71, '0'), clock.now());
    const report = await collect();
    expect(report.scans.items).toEqual(['sha256:'.padEnd(71, '0')]);
    expect((await scans.find([image.digest])).size).toBe(1);
  });

  it('is started by the administrator through the API, and refused to anyone else', async () => {
    const image = await pushImage(registry.url, 'p/r/api', 'v1');
    await deleteManifest(registry.url, 'p/r/api', image.digest);
    await advance(2 * delay);
    const dry = await collectThroughApi(registry.url, true);
    expect(dry.blobs.items).toContain(image.digest);
    expect(await blobStored(registry.dataDir, image.digest)).toBe(true);
    const report = await collectThroughApi(registry.url);
    expect(report.blobs.items).toContain(image.digest);
    expect(await blobStored(registry.dataDir, image.digest)).toBe(false);

    const anonymous = await fetch(`${registry.url}/api/v1/admin/gc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(anonymous.status).toBe(401);
    const unknownRun = await adminFetch(`${registry.url}/api/v1/admin/gc/nope`);
    expect(unknownRun.status).toBe(404);
  });
});

describe('garbage collection with two instances on one metadata store', () => {
  let first: TestRegistry;
  let second: TestRegistry;
  const clock = new FakeClock();

  beforeEach(async () => {
    first = await startTestRegistry(
      { autoCreateRepositories: true, gc: { interval: '0s', delay: '10m' } },
      { clock },
    );
    second = await startTestRegistry(
      { autoCreateRepositories: true, dataDir: first.dataDir, gc: { interval: '0s', delay: '10m' } },
      { clock },
    );
  });
  afterEach(async () => {
    await second.close();
    await first.close();
  });

  it('never removes what the other instance just promised, whichever of them collects', async () => {
    const name = 'p/r/shared';
    const digest = await pushBlob(first.url, name, randomBlob(700));
    const config = await pushBlob(first.url, name, Buffer.from('{}'));
    clock.advance(8 * 60_000);
    // Told to a client by the second instance: the promise lives in the shared metadata store.
    await signInAdmin(second.url);
    expect(await headBlob(second.url, name, digest)).toBe(200);
    expect(await headBlob(second.url, name, config)).toBe(200);
    clock.advance(8 * 60_000);
    await signInAdmin(first.url);
    const runs = await Promise.all([
      first.registry.maintenance.collect({ dryRun: false, scheduled: true }),
      second.registry.maintenance.collect({ dryRun: false, scheduled: true }),
    ]);
    // Started together, they run one after the other or one skips for the other's lease.
    expect(runs.some((report) => report !== undefined)).toBe(true);
    expect(await blobStored(first.dataDir, digest)).toBe(true);
    const body = imageManifest({ digest: config, size: 2 }, [{ digest, size: 700 }]);
    expect((await putManifest(first.url, name, 'v1', body)).status).toBe(201);
  });
});
