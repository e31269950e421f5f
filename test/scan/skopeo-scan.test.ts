import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Blob,
  type BuiltImage,
  buildImage,
  buildIndex,
  type Layer,
  sha256Digest,
  tarGzLayer,
  writeOciLayout,
} from '../support/oci-layout.js';
import type { TestRegistry } from '../support/registry.js';
import { createRepository, startScanningRegistry, waitForScan } from '../support/scanning.js';
import { pushLayout } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';
import { fullCounts, installStandin, type Standin } from '../support/trivy-standin.js';

/** The manifest digests the stand-in was asked to scan, in order. */
async function scannedManifests(standin: Standin): Promise<string[]> {
  return (await standin.log())
    .filter((entry) => entry.event === 'layout')
    .map((entry) => entry.blobs?.find((blob) => blob.what === 'manifest')?.digest ?? '');
}

/** An OCI artifact: a manifest whose config and layers are not a container image's. */
async function writeArtifactLayout(
  dir: string,
  tag: string,
  types: { config: string; layer: string; artifactType: string | undefined },
) {
  const blob = (mediaType: string, bytes: Buffer): Blob => ({
    descriptor: { mediaType, digest: sha256Digest(bytes), size: bytes.length },
    bytes,
  });
  const empty = types.config === 'application/vnd.oci.empty.v1+json';
  const config = blob(
    types.config,
    Buffer.from(empty ? '{}' : JSON.stringify({ name: 'chart', version: '1.0.0', apiVersion: 'v2' })),
  );
  const layer: Layer = { ...blob(types.layer, randomBytes(512)), diffId: '' };
  const manifest = blob(
    'application/vnd.oci.image.manifest.v1+json',
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        ...(types.artifactType ? { artifactType: types.artifactType } : {}),
        config: config.descriptor,
        layers: [layer.descriptor],
      }),
    ),
  );
  const artifact: BuiltImage = { manifest, config, layers: [layer] };
  await writeOciLayout(dir, tag, artifact);
  return artifact;
}

describe('scanning what skopeo pushes', { timeout: 180_000 }, () => {
  let standin: Standin;
  let registry: TestRegistry;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let base: Layer;

  beforeAll(async () => {
    standin = await installStandin({ report: 'debian-buster.json' });
    registry = await startScanningRegistry(standin);
    work = await tempDir('mistrive-scan-skopeo-');
    const { metadata } = registry.registry.context;
    await createRepository(metadata, 'proj', 'scanned', true);
    await createRepository(metadata, 'proj', 'plain', false);
    base = await tarGzLayer({
      'etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 10 (buster)"\nID=debian\nVERSION_ID="10"\n',
      'var/lib/dpkg/status': 'Package: libidn2-0\nStatus: install ok installed\nVersion: 2.0.5-1\n',
      'bin/bash': randomBytes(64 * 1024),
    });
  });
  afterAll(async () => {
    await registry?.close();
    await standin?.remove();
    await work?.remove();
  });

  it('scans an image pushed to a scanning repository: the stored counts are those of the report', async () => {
    const image = buildImage([
      base,
      await tarGzLayer({ 'usr/bin/api': `api ${randomBytes(8).toString('hex')}` }),
    ]);
    const source = join(work.path, 'image');
    await writeOciLayout(source, 'v1', image);
    const plainImage = buildImage([base, await tarGzLayer({ 'usr/bin/other': randomBytes(1024) })]);
    const plainSource = join(work.path, 'plain');
    await writeOciLayout(plainSource, 'v1', plainImage);

    await pushLayout(registry.url, plainSource, 'v1', 'proj/plain/other');
    await pushLayout(registry.url, source, 'v1', 'proj/scanned/api');
    const digest = image.manifest.descriptor.digest;
    const scan = await waitForScan(registry.registry.scans, digest);
    expect(scan).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(scan.result?.summary).toEqual(fullCounts('debian-buster.json'));
    expect((await registry.registry.scans.report(digest))?.findings).toHaveLength(2);

    // The push to the repository without scanning was first, and is still not scanned.
    const plainDigest = plainImage.manifest.descriptor.digest;
    expect(await registry.registry.scans.statuses([plainDigest])).toEqual([
      { digest: plainDigest, status: 'not_scanned' },
    ]);
    expect(await scannedManifests(standin)).toEqual([digest]);
  });

  it('scans each platform image of an index, not the index', async () => {
    const amd64 = { architecture: 'amd64', os: 'linux' };
    const arm64 = { architecture: 'arm64', os: 'linux', variant: 'v8' };
    const index = buildIndex([
      {
        image: buildImage(
          [base, await tarGzLayer({ 'usr/bin/tool': `amd64 ${randomBytes(8).toString('hex')}` })],
          amd64,
        ),
        platform: amd64,
      },
      {
        image: buildImage(
          [base, await tarGzLayer({ 'usr/bin/tool': `arm64 ${randomBytes(8).toString('hex')}` })],
          arm64,
        ),
        platform: arm64,
      },
    ]);
    const source = join(work.path, 'multi');
    await writeOciLayout(source, 'multi', index);
    const before = (await scannedManifests(standin)).length;
    await pushLayout(registry.url, source, 'multi', 'proj/scanned/multi', { all: true });

    const platformDigests = index.images.map((image) => image.manifest.descriptor.digest);
    for (const digest of platformDigests) {
      const scan = await waitForScan(registry.registry.scans, digest);
      expect(scan.status).toBe('succeeded');
      expect(scan.result?.summary).toEqual(fullCounts('debian-buster.json'));
    }
    const indexDigest = index.index.descriptor.digest;
    expect((await registry.registry.scans.statuses([indexDigest]))[0]?.status).toBe('not_scanned');
    const scans = await registry.registry.scans.scansOf(indexDigest);
    expect(scans.map((scan) => [scan.digest, scan.platform?.architecture, scan.scan.status])).toEqual([
      [platformDigests[0], 'amd64', 'succeeded'],
      [platformDigests[1], 'arm64', 'succeeded'],
    ]);
    // One scan per platform image, each once.
    expect((await scannedManifests(standin)).slice(before).sort()).toEqual([...platformDigests].sort());
  });

  it.each([
    {
      what: 'a Helm chart',
      config: 'application/vnd.cncf.helm.config.v1+json',
      layer: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
      artifactType: undefined,
      type: 'application/vnd.cncf.helm.config.v1+json',
    },
    {
      what: 'an SBOM',
      config: 'application/vnd.oci.empty.v1+json',
      layer: 'application/spdx+json',
      artifactType: 'application/spdx+json',
      type: 'application/spdx+json',
    },
  ])('records $what as unsupported, without running the scanner', async (types) => {
    const source = join(work.path, `artifact-${randomBytes(4).toString('hex')}`);
    const artifact = await writeArtifactLayout(source, 'v1', types);
    const before = (await scannedManifests(standin)).length;
    await pushLayout(registry.url, source, 'v1', 'proj/scanned/charts');

    const scan = await waitForScan(registry.registry.scans, artifact.manifest.descriptor.digest);
    expect(scan.status).toBe('unsupported');
    expect(scan.reason).toBe(`not a container image: an artifact of type ${types.type}`);
    expect(scan.result).toBeUndefined();
    expect((await scannedManifests(standin)).length).toBe(before);
    // Asking again does not change the answer.
    const [again] = await registry.registry.scans.rescan(artifact.manifest.descriptor.digest);
    expect(again?.status).toBe('unsupported');
  });
});
