import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import {
  expectError,
  imageManifest,
  pushBlob,
  pushImage,
  putManifest,
  randomBlob,
  sha256,
  sha512,
} from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
const name = 'blobs/store/app';
const blob = randomBlob(1000);
let digest: string;

const blobUrl = (image: string, digestText: string) => `${registry.url}/v2/${image}/blobs/${digestText}`;

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: true });
  digest = await pushBlob(registry.url, name, blob);
});
afterAll(() => registry.close());

describe('blob GET and HEAD', () => {
  it('serves the blob byte for byte with its digest and length', async () => {
    const response = await adminFetch(blobUrl(name, digest));
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    expect(response.headers.get('content-length')).toBe('1000');
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await response.arrayBuffer())).toEqual(blob);
  });

  it('answers HEAD with the length and digest and no body', async () => {
    const response = await adminFetch(blobUrl(name, digest), { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('1000');
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    expect(await response.text()).toBe('');
  });

  it('answers If-None-Match naming the blob with 304 and no body, on GET and HEAD', async () => {
    for (const method of ['GET', 'HEAD']) {
      for (const ifNoneMatch of [`"${digest}"`, `W/"${digest}"`, `"sha256:x", "${digest}"`, '*']) {
        const response = await adminFetch(blobUrl(name, digest), {
          method,
          headers: { 'If-None-Match': ifNoneMatch, Range: 'bytes=0-9' },
        });
        expect(response.status, `${method} ${ifNoneMatch}`).toBe(304);
        expect(response.headers.get('etag')).toBe(`"${digest}"`);
        expect(response.headers.get('docker-content-digest')).toBe(digest);
        expect(await response.text()).toBe('');
      }
    }
    const other = await adminFetch(blobUrl(name, digest), {
      headers: { 'If-None-Match': `"${sha256('x')}"` },
    });
    expect(other.status).toBe(200);
    expect(Buffer.from(await other.arrayBuffer())).toEqual(blob);
  });

  it('answers 404 BLOB_UNKNOWN for a digest nobody pushed', async () => {
    const unknown = sha256('never pushed');
    await expectError(await adminFetch(blobUrl(name, unknown)), 404, 'BLOB_UNKNOWN', new RegExp(unknown));
    const head = await adminFetch(blobUrl(name, unknown), { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(await head.text()).toBe('');
  });

  it('does not serve a blob through a repository that never received it', async () => {
    await pushBlob(registry.url, 'blobs/store/other', randomBlob(10));
    await expectError(await adminFetch(blobUrl('blobs/store/other', digest)), 404, 'BLOB_UNKNOWN');
  });

  it('answers NAME_UNKNOWN for a repository that does not exist', async () => {
    await expectError(await adminFetch(blobUrl('blobs/store/missing', digest)), 404, 'NAME_UNKNOWN');
  });

  it('stores and serves an empty blob', async () => {
    const empty = await pushBlob(registry.url, name, Buffer.alloc(0));
    const response = await adminFetch(blobUrl(name, empty));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('0');
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('stores a sha512 blob and serves it under its sha512 digest', async () => {
    const bytes = randomBlob(3000);
    const digest512 = sha512(bytes);
    const push = await adminFetch(`${registry.url}/v2/${name}/blobs/uploads/?digest=${digest512}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: bytes,
    });
    expect(push.status).toBe(201);
    expect(push.headers.get('docker-content-digest')).toBe(digest512);
    const response = await adminFetch(blobUrl(name, digest512));
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-content-digest')).toBe(digest512);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
    // The same bytes were never pushed under their sha256 digest.
    await expectError(await adminFetch(blobUrl(name, sha256(bytes))), 404, 'BLOB_UNKNOWN');
  });
});

describe('blob GET with Range', () => {
  it.each([
    ['bytes=0-9', 0, 9],
    ['bytes=100-199', 100, 199],
    ['bytes=999-999', 999, 999],
    ['bytes=990-', 990, 999],
    ['bytes=0-', 0, 999],
    ['bytes=-10', 990, 999],
    ['bytes=-5000', 0, 999],
    ['bytes=900-5000', 900, 999],
  ])('answers %s with 206 and the bytes %i to %i', async (range, start, end) => {
    const response = await adminFetch(blobUrl(name, digest), { headers: { Range: range } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/1000`);
    expect(response.headers.get('content-length')).toBe(String(end - start + 1));
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(blob.subarray(start, end + 1));
  });

  it.each(['bytes=1000-', 'bytes=1000-1001', 'bytes=5000-6000', 'bytes=-0'])(
    'answers the unsatisfiable %s with 416 and Content-Range */size',
    async (range) => {
      const response = await adminFetch(blobUrl(name, digest), { headers: { Range: range } });
      expect(response.headers.get('content-range')).toBe('bytes */1000');
      await expectError(response, 416, 'RANGE_INVALID', /outside the blob's 1000 bytes/);
    },
  );

  it.each(['items=0-9', 'bytes=0-9,20-29', 'bytes=a-b'])(
    'ignores the range it does not serve (%s) and answers with the whole blob',
    async (range) => {
      const response = await adminFetch(blobUrl(name, digest), { headers: { Range: range } });
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer())).toEqual(blob);
    },
  );
});

describe('blob DELETE', () => {
  it('removes the blob from the repository with 202, leaving other repositories alone', async () => {
    const shared = randomBlob(64);
    const sharedDigest = await pushBlob(registry.url, 'blobs/store/first', shared);
    await pushBlob(registry.url, 'blobs/store/second', shared);

    const deleted = await adminFetch(blobUrl('blobs/store/first', sharedDigest), { method: 'DELETE' });
    expect(deleted.status).toBe(202);
    await expectError(await adminFetch(blobUrl('blobs/store/first', sharedDigest)), 404, 'BLOB_UNKNOWN');
    const kept = await adminFetch(blobUrl('blobs/store/second', sharedDigest));
    expect(kept.status).toBe(200);
    expect(Buffer.from(await kept.arrayBuffer())).toEqual(shared);
  });

  it('answers 404 BLOB_UNKNOWN when deleting a blob the repository does not hold', async () => {
    const response = await adminFetch(blobUrl(name, sha256('not here')), { method: 'DELETE' });
    await expectError(response, 404, 'BLOB_UNKNOWN');
  });

  it('answers NAME_UNKNOWN for a repository that does not exist, and does not create it', async () => {
    const response = await adminFetch(blobUrl('blobs/store/ghost', digest), { method: 'DELETE' });
    await expectError(response, 404, 'NAME_UNKNOWN');
    const catalog = (await (await adminFetch(`${registry.url}/v2/_catalog`)).json()) as {
      repositories: string[];
    };
    expect(catalog.repositories).not.toContain('blobs/store/ghost');
  });

  it('refuses, with 405, to delete a blob a manifest of the repository uses, until the manifest is gone', async () => {
    const image = await pushImage(registry.url, 'blobs/store/in-use', 'v1', [200]);
    const layer = image.layers[0] as string;
    const refused = await adminFetch(blobUrl('blobs/store/in-use', layer), { method: 'DELETE' });
    await expectError(
      refused,
      405,
      'UNSUPPORTED',
      new RegExp(`in use by manifest ${image.digest}.*delete the manifest first`),
    );
    const pulled = await adminFetch(blobUrl('blobs/store/in-use', layer));
    expect(pulled.status).toBe(200);
    expect(Buffer.from(await pulled.arrayBuffer()).length).toBe(200);

    const manifestUrl = `${registry.url}/v2/blobs/store/in-use/manifests/${image.digest}`;
    expect((await adminFetch(manifestUrl, { method: 'DELETE' })).status).toBe(202);
    expect((await adminFetch(blobUrl('blobs/store/in-use', layer), { method: 'DELETE' })).status).toBe(202);
  });

  it('never lets a manifest PUT and a DELETE of its layer racing each other both succeed', async () => {
    const image = 'blobs/store/racing';
    const config = await pushBlob(registry.url, image, Buffer.from('{"os":"linux"}'));
    for (let round = 0; round < 25; round++) {
      const layer = randomBlob(16);
      const layerDigest = await pushBlob(registry.url, image, layer);
      const manifest = imageManifest({ digest: config, size: 14 }, [{ digest: layerDigest, size: 16 }]);
      const [put, deleted] = await Promise.all([
        putManifest(registry.url, image, `round-${round}`, manifest),
        adminFetch(blobUrl(image, layerDigest), { method: 'DELETE' }),
      ]);
      // Either order is fine; a stored manifest whose layer is gone is not.
      if (put.status === 201) {
        expect(deleted.status, `round ${round}`).toBe(405);
        expect((await adminFetch(blobUrl(image, layerDigest))).status).toBe(200);
      } else {
        await expectError(put, 404, 'MANIFEST_BLOB_UNKNOWN');
        expect(deleted.status).toBe(202);
      }
    }
  });

  it('lets a deleted blob be pushed again', async () => {
    const bytes = randomBlob(32);
    const pushed = await pushBlob(registry.url, name, bytes);
    expect((await adminFetch(blobUrl(name, pushed), { method: 'DELETE' })).status).toBe(202);
    expect(await pushBlob(registry.url, name, bytes)).toBe(pushed);
    expect(Buffer.from(await (await adminFetch(blobUrl(name, pushed))).arrayBuffer())).toEqual(bytes);
  });
});
