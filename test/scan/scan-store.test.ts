import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetadataStore } from '../../src/db/metadata.js';
import type { Finding, ScanStore } from '../../src/db/scans.js';
import { openTestMetadataStore, testMetadataLocation } from '../support/postgres.js';
import { tempDir } from '../support/temp.js';

const digestOf = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const at = (seconds: number) => new Date(Date.UTC(2030, 0, 1) + seconds * 1000);
const summary = { CRITICAL: 1, HIGH: 0, MEDIUM: 0, LOW: 0, UNKNOWN: 0 };
const finding: Finding = {
  vulnerabilityId: 'CVE-2019-18224',
  pkgName: 'libidn2-0',
  pkgId: undefined,
  installedVersion: '2.0.5-1',
  fixedVersion: '2.0.5-1+deb10u1',
  severity: 'CRITICAL',
  title: 'libidn2: heap-based buffer overflow',
  description: undefined,
  references: ['https://example.com/CVE-2019-18224'],
  primaryUrl: undefined,
  target: 'image (debian 10.1)',
  class: 'os-pkgs',
  type: 'debian',
};

describe('the scan queue in the metadata store', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let store: MetadataStore;
  let scans: ScanStore;

  beforeEach(async () => {
    dir = await tempDir();
    store = await openTestMetadataStore(dir.path);
    scans = store.scans;
  });
  afterEach(async () => {
    await store.close();
    await dir.remove();
  });

  it('hands each queued job to exactly one of several instances racing for it', {
    timeout: 60_000,
  }, async () => {
    const digests = Array.from({ length: 60 }, (_, index) => digestOf(`image ${index}`));
    for (const digest of digests) await scans.enqueue(digest, at(0));
    const script = fileURLToPath(new URL('../fixtures/claim-scans.ts', import.meta.url));
    const location = await testMetadataLocation(dir.path);
    const startAt = Date.now() + 1500;
    const racers = await Promise.all(
      ['a', 'b', 'c'].map((worker) =>
        execa(process.execPath, ['--import', 'tsx', script, location, worker, `${startAt}`]),
      ),
    );
    const claimed = racers.flatMap((racer) => racer.stdout.split('\n').filter(Boolean));
    expect([...claimed].sort()).toEqual([...digests].sort());
    const states = await scans.find(digests);
    expect([...states.values()].every((state) => state.status === 'scanning' && state.attempts === 1)).toBe(
      true,
    );
  });

  it('queues a digest once, again after a failure, and not again after a success unless asked', async () => {
    const digest = digestOf('image');
    expect(await scans.enqueue(digest, at(0))).toBe(true);
    expect(await scans.enqueue(digest, at(1))).toBe(false);
    const claim = await scans.claim('w1', at(2), at(62));
    expect(claim).toEqual({ digest, attempt: 1 });
    expect(await scans.claim('w2', at(2), at(62))).toBeUndefined();
    expect(await scans.enqueue(digest, at(3))).toBe(false);
    expect(await scans.fail(digest, 'w1', 'failed', 'Trivy exited with code 1', at(4))).toBe(true);
    expect((await scans.find([digest])).get(digest)).toMatchObject({
      status: 'failed',
      reason: 'Trivy exited with code 1',
    });

    expect(await scans.enqueue(digest, at(5))).toBe(true);
    expect((await scans.find([digest])).get(digest)).toMatchObject({
      status: 'queued',
      attempts: 0,
      reason: undefined,
    });
    await scans.claim('w1', at(6), at(66));
    expect(
      await scans.succeed(digest, 'w1', { scannedAt: at(7), scannerVersion: '0.57.1', summary }, [finding]),
    ).toBe(true);
    expect(await scans.enqueue(digest, at(8))).toBe(false);
    expect((await scans.find([digest])).get(digest)).toMatchObject({
      status: 'succeeded',
      result: { scannedAt: at(7), scannerVersion: '0.57.1', summary },
    });
    expect(await scans.findings(digest)).toEqual([finding]);

    expect(await scans.requeue(digest, at(9))).toBe(true);
    expect(await scans.requeue(digest, at(10))).toBe(false);
    // The last result stays until a new one replaces it.
    expect((await scans.find([digest])).get(digest)).toMatchObject({
      status: 'queued',
      result: { scannedAt: at(7) },
    });
  });

  it('keeps a retried job until its next attempt is due', async () => {
    const digest = digestOf('flaky');
    await scans.enqueue(digest, at(0));
    await scans.claim('w1', at(0), at(60));
    expect(await scans.retry(digest, 'w1', 'attempt 1 of 3 failed', at(30))).toBe(true);
    expect(await scans.claim('w1', at(29), at(89))).toBeUndefined();
    expect(await scans.claim('w1', at(30), at(90))).toEqual({ digest, attempt: 2 });
  });

  it('takes back the jobs of an instance whose lease ran out, and fails them once out of attempts', async () => {
    const [first, second] = [digestOf('first'), digestOf('second')];
    await scans.enqueue(first, at(0));
    await scans.enqueue(second, at(0));
    await scans.claim('dead', at(1), at(61));
    await scans.claim('alive', at(1), at(61));
    expect(await scans.renewLease(second, 'alive', at(200))).toBe(true);

    expect((await scans.recoverExpired(at(60), 3)).workers).toEqual([]);
    const recovered = await scans.recoverExpired(at(62), 3);
    expect(recovered).toEqual({ workers: ['dead'], requeued: 1, failed: 0 });
    const states = await scans.find([first, second]);
    expect(states.get(first)).toMatchObject({ status: 'queued', attempts: 1 });
    expect(states.get(second)).toMatchObject({ status: 'scanning' });
    // The dead instance's late answer is not recorded.
    expect(await scans.succeed(first, 'dead', { scannedAt: at(63), scannerVersion: 'x', summary }, [])).toBe(
      false,
    );

    const again = await scans.claim('other', at(63), at(64));
    expect(again).toEqual({ digest: first, attempt: 2 });
    expect(await scans.recoverExpired(at(65), 2)).toEqual({ workers: ['other'], requeued: 0, failed: 1 });
    expect((await scans.find([first])).get(first)).toMatchObject({
      status: 'failed',
      reason: 'the instance running the scan stopped before it finished',
    });
  });

  it('records unsupported artifacts once, and gives a released job back without counting it', async () => {
    const [chart, image] = [digestOf('chart'), digestOf('image')];
    await scans.markUnsupported(chart, 'not a container image', at(0));
    await scans.markUnsupported(chart, 'another reason', at(1));
    expect(await scans.enqueue(chart, at(2))).toBe(false);
    expect((await scans.find([chart])).get(chart)).toMatchObject({
      status: 'unsupported',
      reason: 'not a container image',
    });

    await scans.enqueue(image, at(0));
    await scans.claim('w1', at(0), at(60));
    expect(await scans.release(image, 'w1', at(5))).toBe(true);
    expect((await scans.find([image])).get(image)).toMatchObject({ status: 'queued', attempts: 0 });
  });

  it('counts scans by status, for the queue-depth metric', async () => {
    expect(await scans.countByStatus()).toEqual({});
    const [first, second, third] = ['a', 'b', 'c'].map((name) => digestOf(`count ${name}`)) as [
      string,
      string,
      string,
    ];
    for (const digest of [first, second, third]) await scans.enqueue(digest, at(0));
    await scans.claim('w1', at(1), at(61));
    expect(await scans.countByStatus()).toEqual({ queued: 2, scanning: 1 });
    await scans.markUnsupported(digestOf('count helm chart'), 'not an image', at(2));
    expect(await scans.countByStatus()).toEqual({ queued: 2, scanning: 1, unsupported: 1 });
  });
});
