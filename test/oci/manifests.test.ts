import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import {
  descriptor,
  emptyJson,
  expectError,
  manifestBytes,
  type PushedImage,
  pushBlob,
  pushImage,
  pushManifest,
  putManifest,
  randomBlob,
  sha256,
  sha512,
  types,
} from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
const name = 'manifests/store/app';
const manifestUrl = (reference: string, image = name) => `${registry.url}/v2/${image}/manifests/${reference}`;

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: true });
});
afterAll(() => registry.close());

/** GETs and HEADs a manifest and checks both answer with exactly these bytes and this type. */
async function expectManifest(reference: string, bytes: Buffer, mediaType: string, image = name) {
  const digest = reference.includes(':') ? reference : sha256(bytes);
  const got = await adminFetch(manifestUrl(reference, image), { headers: { Accept: mediaType } });
  expect(got.status).toBe(200);
  expect(got.headers.get('content-type')).toBe(mediaType);
  expect(got.headers.get('docker-content-digest')).toBe(digest);
  // Digests rather than a deep comparison: these bodies go up to 4 MiB.
  expect(sha256(Buffer.from(await got.arrayBuffer()))).toBe(sha256(bytes));
  const head = await adminFetch(manifestUrl(reference, image), { method: 'HEAD' });
  expect(head.status).toBe(200);
  expect(head.headers.get('content-type')).toBe(mediaType);
  expect(head.headers.get('content-length')).toBe(String(bytes.length));
  expect(head.headers.get('docker-content-digest')).toBe(digest);
  expect(await head.text()).toBe('');
}

/** An image of each family: its config and one layer pushed, its manifest not yet. */
async function imageManifest(family: 'oci' | 'docker', image = name): Promise<Buffer> {
  const config = Buffer.from(JSON.stringify({ architecture: 'arm64', os: 'linux', family }));
  const layer = randomBlob(256);
  await pushBlob(registry.url, image, config);
  await pushBlob(registry.url, image, layer);
  const oci = family === 'oci';
  return manifestBytes({
    schemaVersion: 2,
    mediaType: oci ? types.ociManifest : types.dockerManifest,
    config: descriptor(oci ? types.ociConfig : types.dockerConfig, config),
    layers: [descriptor(oci ? types.ociLayer : types.dockerLayer, layer)],
  });
}

describe('image manifests', () => {
  it.each([
    ['an OCI image manifest', 'oci', types.ociManifest],
    ['a Docker schema 2 manifest', 'docker', types.dockerManifest],
  ] as const)('stores %s by tag and serves it by tag and digest', async (_, family, mediaType) => {
    const bytes = await imageManifest(family);
    const response = await putManifest(registry.url, name, `${family}-tag`, bytes, mediaType);
    expect(response.status).toBe(201);
    const digest = sha256(bytes);
    expect(response.headers.get('location')).toBe(`/v2/${name}/manifests/${digest}`);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    expect(response.headers.get('oci-subject')).toBeNull();
    await expectManifest(`${family}-tag`, bytes, mediaType);
    await expectManifest(digest, bytes, mediaType);
  });

  it('stores a manifest by digest without tagging it', async () => {
    const bytes = await imageManifest('oci');
    const digest = sha256(bytes);
    const response = await putManifest(registry.url, name, digest, bytes);
    expect(response.status).toBe(201);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    await expectManifest(digest, bytes, types.ociManifest);
    const tags = (await (await adminFetch(`${registry.url}/v2/${name}/tags/list`)).json()) as {
      tags: string[];
    };
    expect(tags.tags).not.toContain(digest);
  });

  it('stores a manifest by its sha512 digest and serves it under that digest', async () => {
    const bytes = await imageManifest('oci');
    const digest = sha512(bytes);
    const response = await putManifest(registry.url, name, digest, bytes);
    expect(response.status).toBe(201);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    expect(response.headers.get('location')).toBe(`/v2/${name}/manifests/${digest}`);
    await expectManifest(digest, bytes, types.ociManifest);
  });

  it('takes its media type from the mediaType field when Content-Type is generic or missing', async () => {
    for (const contentType of [null, 'application/json', 'application/octet-stream']) {
      const bytes = await imageManifest('docker');
      expect((await putManifest(registry.url, name, 'generic', bytes, contentType)).status).toBe(201);
      await expectManifest('generic', bytes, types.dockerManifest);
    }
  });

  it('moves a tag to the manifest pushed last and keeps the earlier one by digest', async () => {
    const first = await imageManifest('oci');
    const second = await imageManifest('oci');
    await pushManifest(registry.url, name, 'moving', first);
    await pushManifest(registry.url, name, 'moving', second);
    await expectManifest('moving', second, types.ociManifest);
    await expectManifest(sha256(first), first, types.ociManifest);
  });

  it('accepts layers that live outside the registry without their blobs', async () => {
    const config = Buffer.from('{"os":"windows","architecture":"amd64"}');
    await pushBlob(registry.url, name, config);
    const bytes = manifestBytes({
      schemaVersion: 2,
      mediaType: types.dockerManifest,
      config: descriptor(types.dockerConfig, config),
      layers: [
        descriptor('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', randomBlob(10), {
          urls: ['https://example.invalid/base-layer'],
        }),
      ],
    });
    expect((await putManifest(registry.url, name, 'foreign', bytes, types.dockerManifest)).status).toBe(201);
  });

  it('answers MANIFEST_UNKNOWN for a tag or digest the repository does not hold', async () => {
    await expectError(await adminFetch(manifestUrl('no-such-tag')), 404, 'MANIFEST_UNKNOWN', /no-such-tag/);
    const digest = sha256('no such manifest');
    await expectError(await adminFetch(manifestUrl(digest)), 404, 'MANIFEST_UNKNOWN', new RegExp(digest));
    expect((await adminFetch(manifestUrl('no-such-tag'), { method: 'HEAD' })).status).toBe(404);
  });

  it.each(['.INVALID_MANIFEST_NAME', '-v1', 'a'.repeat(129)])(
    'answers GET and HEAD of %s, a reference that cannot be a tag, with 404 MANIFEST_UNKNOWN',
    async (reference) => {
      await expectError(await adminFetch(manifestUrl(reference)), 404, 'MANIFEST_UNKNOWN', /invalid tag/);
      const head = await adminFetch(manifestUrl(reference), { method: 'HEAD' });
      expect(head.status).toBe(404);
      expect(await head.text()).toBe('');
      // In a repository that does not exist the answer stays NAME_UNKNOWN.
      const missing = await adminFetch(manifestUrl(reference, 'manifests/store/missing'));
      await expectError(missing, 404, 'NAME_UNKNOWN');
    },
  );

  it('answers If-None-Match naming the current digest with 304 and no body, on GET and HEAD', async () => {
    const bytes = await imageManifest('oci');
    const digest = sha256(bytes);
    await pushManifest(registry.url, name, 'cached', bytes);
    for (const reference of ['cached', digest]) {
      for (const method of ['GET', 'HEAD']) {
        for (const ifNoneMatch of [`"${digest}"`, `W/"${digest}"`, `"sha256:other", "${digest}"`, '*']) {
          const response = await adminFetch(manifestUrl(reference), {
            method,
            headers: { 'If-None-Match': ifNoneMatch },
          });
          expect(response.status, `${method} ${reference} ${ifNoneMatch}`).toBe(304);
          expect(response.headers.get('etag')).toBe(`"${digest}"`);
          expect(response.headers.get('docker-content-digest')).toBe(digest);
          expect(await response.text()).toBe('');
        }
      }
    }
    // Another digest, or a tag moved elsewhere since, gets the manifest.
    const stale = await adminFetch(manifestUrl('cached'), {
      headers: { 'If-None-Match': `"${sha256('an older manifest')}"` },
    });
    expect(stale.status).toBe(200);
    expect(sha256(Buffer.from(await stale.arrayBuffer()))).toBe(digest);
  });

  it('does not serve a manifest by digest through a repository that never received it', async () => {
    const bytes = await imageManifest('oci', 'manifests/store/neighbour');
    await pushManifest(registry.url, 'manifests/store/neighbour', 'v1', bytes);
    await expectError(await adminFetch(manifestUrl(sha256(bytes))), 404, 'MANIFEST_UNKNOWN');
    // Nor as a blob: a manifest is not a layer of the repository that holds it.
    const asBlob = await adminFetch(`${registry.url}/v2/manifests/store/neighbour/blobs/${sha256(bytes)}`);
    await expectError(asBlob, 404, 'BLOB_UNKNOWN');
  });
});

describe('indexes', () => {
  it.each([
    ['an OCI index', 'oci', types.ociIndex, types.ociManifest],
    ['a Docker manifest list', 'docker', types.dockerList, types.dockerManifest],
  ] as const)('stores %s over manifests the repository holds', async (_, family, mediaType, childType) => {
    const platforms = ['amd64', 'arm64'];
    const children: Buffer[] = [];
    for (const _platform of platforms) {
      const child = await imageManifest(family);
      await pushManifest(registry.url, name, sha256(child), child, childType);
      children.push(child);
    }
    const bytes = manifestBytes({
      schemaVersion: 2,
      mediaType,
      manifests: children.map((child, i) =>
        descriptor(childType, child, { platform: { architecture: platforms[i] ?? '', os: 'linux' } }),
      ),
    });
    const response = await putManifest(registry.url, name, `${family}-index`, bytes, mediaType);
    expect(response.status).toBe(201);
    await expectManifest(`${family}-index`, bytes, mediaType);
  });

  it('refuses an index whose child manifest the repository does not hold', async () => {
    const child = await imageManifest('oci', 'manifests/store/elsewhere');
    // The child exists, but only in another repository.
    await pushManifest(registry.url, 'manifests/store/elsewhere', sha256(child), child);
    const bytes = manifestBytes({
      schemaVersion: 2,
      mediaType: types.ociIndex,
      manifests: [descriptor(types.ociManifest, child)],
    });
    const response = await putManifest(registry.url, name, 'orphan-index', bytes, types.ociIndex);
    await expectError(response, 404, 'MANIFEST_BLOB_UNKNOWN', new RegExp(sha256(child)));
    await expectError(await adminFetch(manifestUrl('orphan-index')), 404, 'MANIFEST_UNKNOWN');
  });
});

describe('artifacts', () => {
  it('stores an artifact with an artifactType and the empty config', async () => {
    const payload = Buffer.from('{"sbom":true}');
    await pushBlob(registry.url, name, emptyJson);
    await pushBlob(registry.url, name, payload);
    const bytes = manifestBytes({
      schemaVersion: 2,
      mediaType: types.ociManifest,
      artifactType: 'application/vnd.example.sbom.v1+json',
      config: descriptor(types.ociEmpty, emptyJson),
      layers: [descriptor('application/vnd.example.sbom.v1+json', payload)],
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
    });
    expect((await putManifest(registry.url, name, 'sbom', bytes)).status).toBe(201);
    await expectManifest('sbom', bytes, types.ociManifest);
  });

  it('stores an artifact whose only layer is the empty descriptor', async () => {
    await pushBlob(registry.url, name, emptyJson);
    const empty = descriptor(types.ociEmpty, emptyJson);
    const bytes = manifestBytes({
      schemaVersion: 2,
      mediaType: types.ociManifest,
      artifactType: 'application/vnd.example.marker',
      config: empty,
      layers: [empty],
    });
    expect((await putManifest(registry.url, name, 'marker', bytes)).status).toBe(201);
  });
});

describe('references to blobs the repository does not hold', () => {
  let image: PushedImage;
  beforeAll(async () => {
    image = await pushImage(registry.url, 'manifests/store/other', 'v1', [100]);
  });

  it.each([
    ['a layer nobody pushed', 'layer'],
    ['a config nobody pushed', 'config'],
    ['a layer held only by another repository', 'foreign-layer'],
    ['a config held only by another repository', 'foreign-config'],
  ])('refuses a manifest that references %s with MANIFEST_BLOB_UNKNOWN', async (_, what) => {
    const config = Buffer.from('{"os":"linux"}');
    const layer = randomBlob(20);
    await pushBlob(registry.url, name, config);
    await pushBlob(registry.url, name, layer);
    const configDescriptor = descriptor(types.ociConfig, config);
    const layerDescriptor = descriptor(types.ociLayer, layer);
    const missing = {
      layer: { ...layerDescriptor, digest: sha256('never pushed layer') },
      config: { ...configDescriptor, digest: sha256('never pushed config') },
      'foreign-layer': { ...layerDescriptor, digest: image.layers[0] ?? '' },
      'foreign-config': { ...configDescriptor, digest: image.config },
    }[what];
    const bytes = manifestBytes({
      schemaVersion: 2,
      mediaType: types.ociManifest,
      config: what.endsWith('config') ? missing : configDescriptor,
      layers: what.endsWith('layer') ? [missing] : [layerDescriptor],
    });
    const response = await putManifest(registry.url, name, `missing-${what}`, bytes);
    await expectError(response, 404, 'MANIFEST_BLOB_UNKNOWN', new RegExp(missing?.digest ?? ''));
    await expectError(await adminFetch(manifestUrl(`missing-${what}`)), 404, 'MANIFEST_UNKNOWN');
  });
});

describe('manifest size limit', () => {
  /** An image manifest padded with an annotation to exactly `size` bytes. */
  async function paddedManifest(size: number): Promise<Buffer> {
    const config = Buffer.from('{"padded":true}');
    await pushBlob(registry.url, name, config);
    const document = (padding: string) => ({
      schemaVersion: 2,
      mediaType: types.ociManifest,
      config: descriptor(types.ociConfig, config),
      layers: [],
      annotations: { padding },
    });
    const overhead = manifestBytes(document('')).length;
    const bytes = manifestBytes(document('x'.repeat(size - overhead)));
    expect(bytes.length).toBe(size);
    return bytes;
  }

  it('accepts a manifest of exactly 4 MiB', async () => {
    const bytes = await paddedManifest(4 * 1024 * 1024);
    expect((await putManifest(registry.url, name, 'four-mib', bytes)).status).toBe(201);
    await expectManifest('four-mib', bytes, types.ociManifest);
  });

  it('refuses a manifest streamed without Content-Length once it passes 4 MiB', async () => {
    const piece = new Uint8Array(64 * 1024).fill(0x20);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let sent = 0; sent < 5 * 1024 * 1024; sent += piece.length) controller.enqueue(piece);
        controller.close();
      },
    });
    const response = await adminFetch(manifestUrl('streamed-too-big'), {
      method: 'PUT',
      headers: { 'Content-Type': types.ociManifest },
      body,
      duplex: 'half',
    } as RequestInit);
    await expectError(response, 413, 'SIZE_INVALID', /the limit is 4194304/);
  });

  it('refuses a manifest one byte over 4 MiB with 413', async () => {
    const bytes = await paddedManifest(4 * 1024 * 1024 + 1);
    const response = await putManifest(registry.url, name, 'too-big', bytes);
    await expectError(response, 413, 'SIZE_INVALID', /the limit is 4194304/);
    await expectError(await adminFetch(manifestUrl('too-big')), 404, 'MANIFEST_UNKNOWN');
  });
});

describe('manifest DELETE', () => {
  it('deletes only the tag when given a tag', async () => {
    const bytes = await imageManifest('oci');
    await pushManifest(registry.url, name, 'doomed-tag', bytes);
    await pushManifest(registry.url, name, 'kept-tag', bytes);
    expect((await adminFetch(manifestUrl('doomed-tag'), { method: 'DELETE' })).status).toBe(202);
    await expectError(await adminFetch(manifestUrl('doomed-tag')), 404, 'MANIFEST_UNKNOWN');
    await expectManifest('kept-tag', bytes, types.ociManifest);
    await expectManifest(sha256(bytes), bytes, types.ociManifest);
  });

  it('deletes the manifest and every tag on it when given a digest', async () => {
    const bytes = await imageManifest('oci');
    const digest = sha256(bytes);
    await pushManifest(registry.url, name, 'gone-one', bytes);
    await pushManifest(registry.url, name, 'gone-two', bytes);
    expect((await adminFetch(manifestUrl(digest), { method: 'DELETE' })).status).toBe(202);
    for (const reference of [digest, 'gone-one', 'gone-two']) {
      await expectError(await adminFetch(manifestUrl(reference)), 404, 'MANIFEST_UNKNOWN');
    }
    const tags = (await (await adminFetch(`${registry.url}/v2/${name}/tags/list`)).json()) as {
      tags: string[];
    };
    expect(tags.tags).not.toContain('gone-one');
    expect(tags.tags).not.toContain('gone-two');
  });

  it('refuses to delete a manifest an index still lists (405 naming the index), then allows it once the index is gone', async () => {
    const child = await imageManifest('oci');
    const childDigest = await pushManifest(registry.url, name, sha256(child), child);
    const index = manifestBytes({
      schemaVersion: 2,
      mediaType: types.ociIndex,
      manifests: [descriptor(types.ociManifest, child)],
    });
    const indexDigest = await pushManifest(registry.url, name, 'listing-index', index, types.ociIndex);
    const refused = await adminFetch(manifestUrl(childDigest), { method: 'DELETE' });
    await expectError(refused, 405, 'UNSUPPORTED', new RegExp(`listed by index ${indexDigest}`));
    await expectManifest('listing-index', index, types.ociIndex);
    await expectManifest(childDigest, child, types.ociManifest);
    expect((await adminFetch(manifestUrl(indexDigest), { method: 'DELETE' })).status).toBe(202);
    expect((await adminFetch(manifestUrl(childDigest), { method: 'DELETE' })).status).toBe(202);
    await expectError(await adminFetch(manifestUrl(childDigest)), 404, 'MANIFEST_UNKNOWN');
  });

  it('lets a deleted manifest be pushed again', async () => {
    const bytes = await imageManifest('oci');
    await pushManifest(registry.url, name, 'again', bytes);
    expect((await adminFetch(manifestUrl(sha256(bytes)), { method: 'DELETE' })).status).toBe(202);
    await pushManifest(registry.url, name, 'again', bytes);
    await expectManifest('again', bytes, types.ociManifest);
  });

  it.each([
    ['a tag', 'never-tagged'],
    ['a digest', sha256('never pushed')],
  ])('answers MANIFEST_UNKNOWN when deleting %s the repository does not hold', async (_, reference) => {
    const response = await adminFetch(manifestUrl(reference), { method: 'DELETE' });
    await expectError(response, 404, 'MANIFEST_UNKNOWN');
  });

  it('answers NAME_UNKNOWN when deleting from a repository that does not exist', async () => {
    const response = await adminFetch(manifestUrl('v1', 'manifests/store/none'), { method: 'DELETE' });
    await expectError(response, 404, 'NAME_UNKNOWN');
  });
});
