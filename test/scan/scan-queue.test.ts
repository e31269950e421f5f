import { randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { blobFiles } from '../support/data-dir.js';
import { type BuiltImage, buildImage, tarGzLayer } from '../support/oci-layout.js';
import { openTestMetadataStore } from '../support/postgres.js';
import type { TestRegistry } from '../support/registry.js';
import { blobsOnS3 } from '../support/s3.js';
import { createRepository, pushBuiltImage, startScanningRegistry, waitForScan } from '../support/scanning.js';
import { overwriteStoredBlob, storeOf } from '../support/stored-blobs.js';
import { tempDir } from '../support/temp.js';
import { fullCounts, installStandin, type Standin, type StandinOptions } from '../support/trivy-standin.js';
import { waitFor } from '../support/wait.js';

/** A small real image: gzip tar layers and a config whose diff_ids match them. */
async function smallImage(): Promise<BuiltImage> {
  return buildImage([
    await tarGzLayer({ 'etc/os-release': 'ID=debian\nVERSION_ID="10"\n', 'bin/sh': randomBytes(2048) }),
    await tarGzLayer({ 'usr/bin/app': `app ${randomBytes(8).toString('hex')}` }),
  ]);
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  standinOptions: StandinOptions,
  scanning: Parameters<typeof startScanningRegistry>[1] = {},
  dataDir?: string,
): Promise<{ standin: Standin; registry: TestRegistry }> {
  const standin = await installStandin(standinOptions);
  cleanups.push(() => standin.remove());
  const registry = await startScanningRegistry(standin, scanning, { dataDir });
  cleanups.push(() => registry.close());
  await createRepository(registry.registry.context.metadata, 'proj', 'scanned', true);
  await createRepository(registry.registry.context.metadata, 'proj', 'plain', false);
  return { standin, registry };
}

describe('the scan queue', { timeout: 60_000 }, () => {
  it('scans an image pushed to a scanning repository, through hard links, and keeps every finding', async () => {
    const { standin, registry } = await setup({ report: 'debian-buster.json', version: '0.57.1-standin' });
    const image = await smallImage();
    const digest = await pushBuiltImage(registry.url, 'proj/scanned/app', 'v1', image);

    const scan = await waitForScan(registry.registry.scans, digest);
    expect(scan.status).toBe('succeeded');
    expect(scan.reason).toBeUndefined();
    expect(scan.attempts).toBe(1);
    expect(scan.result?.summary).toEqual(fullCounts('debian-buster.json'));
    expect(scan.result?.scannerVersion).toBe('0.57.1-standin');
    expect(scan.result?.scannedAt.getTime()).toBeGreaterThanOrEqual(scan.queuedAt.getTime());

    const report = await registry.registry.scans.report(digest);
    expect(report?.findings.map((finding) => [finding.vulnerabilityId, finding.severity])).toEqual([
      ['CVE-2019-18224', 'CRITICAL'],
      ['CVE-2019-18276', 'LOW'],
    ]);
    expect(report?.findings[0]?.references.length).toBeGreaterThan(0);
    const critical = await registry.registry.scans.report(digest, { minSeverity: 'HIGH' });
    expect(critical?.findings.map((finding) => finding.vulnerabilityId)).toEqual(['CVE-2019-18224']);
    const low = await registry.registry.scans.report(digest, { severities: ['LOW', 'MEDIUM'] });
    expect(low?.findings.map((finding) => finding.vulnerabilityId)).toEqual(['CVE-2019-18276']);

    const layout = (await standin.log()).find((entry) => entry.event === 'layout');
    const expected = [image.manifest, image.config, ...image.layers].map((blob) => blob.descriptor.digest);
    expect(layout?.blobs?.map((blob) => blob.digest).sort()).toEqual([...expected].sort());
    if (blobsOnS3()) {
      // Blobs in a bucket are downloaded: each layout file is a copy of its own.
      for (const blob of layout?.blobs ?? []) expect(blob.links, blob.what).toBe(1);
    } else {
      // The stand-in read hard links to the stored blobs: the same inodes, no copies.
      const stored = new Map((await blobFiles(registry.dataDir)).map((file) => [file.digest, file.inode]));
      for (const blob of layout?.blobs ?? []) {
        expect(blob.inode, blob.what).toBe(stored.get(blob.digest));
        expect(blob.links, blob.what).toBeGreaterThanOrEqual(2);
      }
    }
    // The layout is gone once the scan is over.
    expect(await readdir(join(registry.dataDir, 'scan-work'))).toEqual([]);
  });

  it('queues nothing for a repository without scanning, and scans a digest once unless asked', async () => {
    const { standin, registry } = await setup({ report: 'alpine-310.json' });
    const { scans } = registry.registry;
    const plain = await smallImage();
    const plainDigest = await pushBuiltImage(registry.url, 'proj/plain/app', 'v1', plain);
    const image = await smallImage();
    const digest = await pushBuiltImage(registry.url, 'proj/scanned/app', 'v1', image);
    const first = await waitForScan(scans, digest);
    expect(first.result?.summary).toEqual(fullCounts('alpine-310.json'));
    expect(await scans.statuses([plainDigest])).toEqual([{ digest: plainDigest, status: 'not_scanned' }]);
    expect(await scans.report(plainDigest)).toBeUndefined();

    // The same image again, under another tag and another name: already scanned.
    await pushBuiltImage(registry.url, 'proj/scanned/app', 'v1-again', image);
    await pushBuiltImage(registry.url, 'proj/scanned/other', 'v1', image);
    const [again] = await scans.statuses([digest]);
    expect(again).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await standin.scans()).toHaveLength(1);

    // Asked for: scanned again, the earlier result still shown until the new one lands.
    const [requeued] = await scans.rescan(digest);
    expect(requeued).toMatchObject({ digest, status: 'queued' });
    expect(requeued && 'result' in requeued && requeued.result?.summary).toEqual(first.result?.summary);
    const second = await waitForScan(scans, digest);
    expect(second.status).toBe('succeeded');
    expect(second.result?.scannedAt.getTime()).toBeGreaterThanOrEqual(first.result?.scannedAt.getTime() ?? 0);
    expect(await standin.scans()).toHaveLength(2);
    expect((await scans.report(digest))?.findings).toHaveLength(4);
  });

  it.each([
    {
      what: 'a non-zero exit, retried up to maxAttempts',
      standin: { mode: 'fail' },
      status: 'failed',
      reason: /^Trivy exited with code 1: FATAL\s+image scan error: scan failed.*\(attempt 3 of 3\)$/,
      runs: 3,
    },
    {
      what: 'a crash, retried',
      standin: { mode: 'crash' },
      status: 'failed',
      reason: /^Trivy was killed by SIGKILL \(attempt 3 of 3\)$/,
      runs: 3,
    },
    {
      what: 'output that is not a report, not retried',
      standin: { mode: 'garbage' },
      status: 'failed',
      reason: /^Trivy printed something that is not a JSON report .*panic: runtime error/,
      runs: 1,
    },
    {
      what: 'a hang past the timeout, retried',
      standin: { mode: 'hang' },
      scanning: { timeout: '1s', maxAttempts: 2 },
      status: 'failed',
      reason: /^Trivy did not finish within 1s and was stopped \(attempt 2 of 2\)$/,
      runs: 2,
    },
    {
      what: 'a failure that passes on the next attempt',
      standin: { failFirst: 1, report: 'centos-7.json' },
      status: 'succeeded',
      reason: undefined,
      runs: 2,
    },
  ] as const)('ends $what in $status', async (testCase) => {
    const { standin, registry } = await setup(testCase.standin, {
      maxAttempts: 3,
      ...('scanning' in testCase ? testCase.scanning : {}),
    });
    const digest = await pushBuiltImage(registry.url, 'proj/scanned/app', 'v1', await smallImage());
    const scan = await waitForScan(registry.registry.scans, digest);
    expect(scan.status).toBe(testCase.status);
    if (testCase.reason) expect(scan.reason).toMatch(testCase.reason);
    else expect(scan.reason).toBeUndefined();
    expect(scan.attempts).toBe(testCase.runs);
    expect(await standin.scans()).toHaveLength(testCase.runs);
    if (testCase.status === 'failed') {
      // Never a silent success: no result, no findings.
      expect(scan.result).toBeUndefined();
      expect((await registry.registry.scans.report(digest))?.findings).toEqual([]);
    } else {
      expect(scan.result?.summary).toEqual(fullCounts('centos-7.json'));
    }
    // Every run's processes are gone (the hanging one was stopped) and so are their layouts.
    for (const run of await standin.scans()) expect(() => process.kill(run.pid, 0)).toThrow();
    expect(await readdir(join(registry.dataDir, 'scan-work'))).toEqual([]);
  });

  it('reports scanner_unavailable, without retrying, when Trivy is not installed', async () => {
    const { standin, registry } = await setup({ report: 'debian-buster.json' }, { maxAttempts: 3 });
    const { scans } = registry.registry;
    await rm(standin.path);
    const image = await smallImage();
    const digest = await pushBuiltImage(registry.url, 'proj/scanned/app', 'v1', image);
    const scan = await waitForScan(scans, digest);
    expect(scan.status).toBe('scanner_unavailable');
    expect(scan.reason).toBe(
      `Trivy is not found at ${standin.path}: install Trivy, or set scanning.trivy.path to where it is`,
    );
    expect(scan.attempts).toBe(1);
    expect(scan.result).toBeUndefined();

    // Once Trivy is installed, pushing the image again queues it again.
    await standin.configure({ report: 'debian-buster.json' });
    await pushBuiltImage(registry.url, 'proj/scanned/app', 'v1-again', image);
    const scanned = await waitForScan(scans, digest);
    expect(scanned).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(scanned.result?.summary).toEqual(fullCounts('debian-buster.json'));
  });

  it.each([
    // Never two at once with one worker, whatever the timing.
    { workers: 1, delayMs: 300 },
    // Long enough that the two workers' scans overlap even on a busy machine.
    { workers: 2, delayMs: 1500 },
  ])('runs at most $workers scans at a time', async ({ workers, delayMs }) => {
    const { standin, registry } = await setup(
      { report: 'distroless-base.json', mode: 'slow', delayMs },
      { workers },
    );
    // Pushed where nothing is scanned, then all asked for at once: four jobs due together.
    const digests: string[] = [];
    for (let index = 0; index < 4; index++) {
      digests.push(await pushBuiltImage(registry.url, `proj/plain/app${index}`, 'v1', await smallImage()));
    }
    await Promise.all(digests.map((digest) => registry.registry.scans.rescan(digest)));
    for (const digest of digests)
      expect((await waitForScan(registry.registry.scans, digest)).status).toBe('succeeded');
    const log = await standin.log();
    const spans = log
      .filter((entry) => entry.event === 'start')
      .map((start) => ({
        start: start.at,
        end:
          log.find((entry) => entry.event === 'end' && entry.pid === start.pid)?.at ??
          Number.POSITIVE_INFINITY,
      }));
    expect(spans).toHaveLength(4);
    const overlap = Math.max(
      ...spans.map(
        (span) => spans.filter((other) => other.start <= span.start && span.start < other.end).length,
      ),
    );
    expect(overlap).toBe(workers);
  });

  it('gives a running scan back to the queue on shutdown, and finishes it after the restart', async () => {
    const data = await tempDir();
    cleanups.push(() => data.remove());
    const { standin, registry } = await setup({ mode: 'hang' }, {}, data.path);
    const digest = await pushBuiltImage(registry.url, 'proj/scanned/app', 'v1', await smallImage());
    await waitFor('the scan to start', async () => ((await standin.scans()).length > 0 ? true : undefined));
    await registry.close();
    const [run] = await standin.scans();
    expect(() => process.kill(run?.pid ?? 0, 0)).toThrow();
    const store = await openTestMetadataStore(registry.dataDir);
    try {
      const scan = (await store.scans.find([digest])).get(digest);
      // Back in the queue, and the interrupted attempt does not count.
      expect(scan).toMatchObject({ status: 'queued', attempts: 0 });
    } finally {
      await store.close();
    }

    await standin.configure({ report: 'busybox-with-lockfile.json' });
    const restarted = await startScanningRegistry(standin, {}, { dataDir: registry.dataDir });
    cleanups.push(() => restarted.close());
    const scan = await waitForScan(restarted.registry.scans, digest);
    expect(scan).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(scan.result?.summary).toEqual(fullCounts('busybox-with-lockfile.json'));
  });

  it('fails the scan when a stored blob no longer matches its digest', async () => {
    const { standin, registry } = await setup({ report: 'debian-buster.json' }, { maxAttempts: 1 });
    const image = await smallImage();
    const digest = await pushBuiltImage(registry.url, 'proj/plain/app', 'v1', image);
    const layer = image.layers[1]?.descriptor.digest ?? '';
    const bytes = await (await storeOf(registry.dataDir)).readAll(layer);
    bytes[bytes.length - 1] = (bytes.at(-1) ?? 0) ^ 0xff;
    await overwriteStoredBlob(registry.dataDir, layer, bytes);

    await registry.registry.scans.rescan(digest);
    const scan = await waitForScan(registry.registry.scans, digest);
    expect(scan.status).toBe('failed');
    expect(scan.reason).toContain(`invalid OCI layout: layer 1 ${layer} hashes to`);
    expect(await standin.scans()).toHaveLength(1);
  });

  it('passes the database and server options to Trivy', async () => {
    const cache = await tempDir('mistrive-trivy-cache-');
    cleanups.push(() => cache.remove());
    const standalone = await setup(
      { report: 'debian-buster.json' },
      {
        timeout: '90s',
        trivy: {
          cacheDir: cache.path,
          skipDbUpdate: true,
          offlineScan: true,
          dbRepository: 'mirror.example.com/aquasec/trivy-db:2',
          extraArgs: ['--skip-java-db-update'],
        },
      },
    );
    const digest = await pushBuiltImage(
      standalone.registry.url,
      'proj/scanned/app',
      'v1',
      await smallImage(),
    );
    expect((await waitForScan(standalone.registry.registry.scans, digest)).status).toBe('succeeded');
    const [run] = await standalone.standin.scans();
    expect(run?.args).toEqual([
      'image',
      '--input',
      expect.stringContaining(join(standalone.registry.dataDir, 'scan-work')),
      '--format',
      'json',
      '--quiet',
      '--scanners',
      'vuln',
      '--timeout',
      '90s',
      '--cache-dir',
      cache.path,
      '--skip-db-update',
      '--db-repository',
      'mirror.example.com/aquasec/trivy-db:2',
      '--offline-scan',
      '--skip-java-db-update',
    ]);

    const client = await setup(
      { report: 'debian-buster.json' },
      { trivy: { server: 'http://trivy.internal:4954', skipDbUpdate: true, dbRepository: 'ignored/here' } },
    );
    const other = await pushBuiltImage(client.registry.url, 'proj/scanned/app', 'v1', await smallImage());
    expect((await waitForScan(client.registry.registry.scans, other)).status).toBe('succeeded');
    const [clientRun] = await client.standin.scans();
    expect(clientRun?.args).toContain('--server');
    expect(clientRun?.args?.[(clientRun?.args?.indexOf('--server') ?? 0) + 1]).toBe(
      'http://trivy.internal:4954',
    );
    // The server holds the database: no database options on the client.
    expect(clientRun?.args).not.toContain('--skip-db-update');
    expect(clientRun?.args).not.toContain('--db-repository');
  });
});
