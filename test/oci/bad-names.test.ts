import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import {
  expectError,
  expectImageIntact,
  type PushedImage,
  pushImage,
  rawError,
  rawHttp,
  sha256,
} from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

/** Invalid names, path tricks, bad tags and bad digests in URLs: a 4xx with the right code, never a 500. */
let registry: TestRegistry;
const name = 'bad/names/app';
let image: PushedImage;

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: true });
  image = await pushImage(registry.url, name, 'v1', [300, 40]);
});
afterAll(() => registry.close());

const anyDigest = sha256('any');

/** One request per kind of endpoint that takes a name. */
const endpoints: [string, (image: string) => string, RequestInit][] = [
  ['GET manifest', (n) => `/v2/${n}/manifests/v1`, {}],
  ['PUT manifest', (n) => `/v2/${n}/manifests/v1`, { method: 'PUT', body: '{}' }],
  ['DELETE manifest', (n) => `/v2/${n}/manifests/v1`, { method: 'DELETE' }],
  ['GET blob', (n) => `/v2/${n}/blobs/${anyDigest}`, {}],
  ['DELETE blob', (n) => `/v2/${n}/blobs/${anyDigest}`, { method: 'DELETE' }],
  ['POST upload', (n) => `/v2/${n}/blobs/uploads/`, { method: 'POST' }],
  ['POST monolithic', (n) => `/v2/${n}/blobs/uploads/?digest=${sha256('x')}`, { method: 'POST', body: 'x' }],
  ['GET tags', (n) => `/v2/${n}/tags/list`, {}],
  ['GET referrers', (n) => `/v2/${n}/referrers/${anyDigest}`, {}],
];

const invalidNames: [string, string, RegExp][] = [
  ['uppercase letters', 'Bad/names/app', /component "Bad"/],
  ['an uppercase image', 'bad/names/App', /component "App"/],
  // One and two components are taken here (auto-create); test/oci/short-names.test.ts has them refused.
  ['one uppercase component', 'Bad', /component "Bad"/],
  ['two components, the first no ID', 'na_mes/app', /invalid repository ID "na_mes"/],
  ['a project ID starting with a digit', '1bad/names/app', /invalid project ID "1bad"/],
  ['a repository ID starting with a digit', 'bad/9names/app', /invalid repository ID "9names"/],
  ['a repository ID with an underscore', 'bad/na_mes/app', /invalid repository ID "na_mes"/],
  ['a project ID longer than 63 characters', `b${'x'.repeat(63)}/names/app`, /invalid project ID/],
  ['a trailing separator', 'bad/names/app-', /component "app-"/],
  ['two dots in a row', 'bad/names/a..b', /component "a..b"/],
  ['a name longer than 255 characters', `bad/names/${'a'.repeat(246)}`, /longer than 255/],
];

describe.each(invalidNames)('a name with %s', (_, invalid, message) => {
  it.each(endpoints)('is refused by %s with 400 NAME_INVALID', async (_, path, init) => {
    await expectError(
      await adminFetch(`${registry.url}${path(invalid)}`, init),
      400,
      'NAME_INVALID',
      message,
    );
  });
});

describe('names at the longest allowed', () => {
  it('accepts a name of exactly 255 characters', async () => {
    const longest = `bad/names/${'a'.repeat(245)}`;
    expect(longest).toHaveLength(255);
    const pushed = await pushImage(registry.url, longest, 'v1', [5]);
    const response = await adminFetch(`${registry.url}/v2/${longest}/manifests/v1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-content-digest')).toBe(pushed.digest);
  });
});

describe('path tricks', () => {
  it.each([
    ['a parent segment', `/v2/bad/names/../names/app/manifests/v1`, 400, 'NAME_INVALID'],
    ['parent segments climbing out', `/v2/bad/names/app/../../../etc/manifests/v1`, 400, 'NAME_INVALID'],
    ['a current-directory segment', `/v2/bad/names/./app/manifests/v1`, 400, 'NAME_INVALID'],
    ['an encoded slash', `/v2/bad%2Fnames%2Fapp/manifests/v1`, 400, 'NAME_INVALID'],
    ['an encoded slash inside a name', `/v2/bad/names/app%2Fother/manifests/v1`, 400, 'NAME_INVALID'],
    ['encoded dots', `/v2/bad/names/%2e%2e/manifests/v1`, 400, 'NAME_INVALID'],
    ['encoded dots and slash', `/v2/bad/names/%2e%2e%2f%2e%2e/manifests/v1`, 400, 'NAME_INVALID'],
    ['an encoded letter', `/v2/bad/names/%61pp/manifests/v1`, 400, 'NAME_INVALID'],
    ['an encoded NUL', `/v2/bad/names/app%00/manifests/v1`, 400, 'NAME_INVALID'],
    ['a backslash', `/v2/bad/names/..\\app/manifests/v1`, 400, 'NAME_INVALID'],
    ['a double slash', `/v2/bad//names/app/manifests/v1`, 400, 'NAME_INVALID'],
    ['a double slash before the endpoint', `/v2/bad/names/app//manifests/v1`, 400, 'NAME_INVALID'],
    ['an absolute path as the name', `/v2//etc/passwd/x/manifests/v1`, 400, 'NAME_INVALID'],
    ['an encoded absolute path', `/v2/%2Fetc%2Fpasswd/x/y/manifests/v1`, 400, 'NAME_INVALID'],
    // A read by a reference that cannot be a tag names nothing: 404, as the conformance suite expects.
    ['a parent segment as the tag', `/v2/${name}/manifests/..`, 404, 'MANIFEST_UNKNOWN'],
    ['encoded dots as the tag', `/v2/${name}/manifests/%2e%2e`, 404, 'MANIFEST_UNKNOWN'],
    ['a path in the digest', `/v2/${name}/manifests/sha256:..%2F..%2Fmetadata.db`, 400, 'DIGEST_INVALID'],
    ['a path as a blob digest', `/v2/${name}/blobs/..%2F..%2Fmetadata.db`, 400, 'DIGEST_INVALID'],
    ['a path after the algorithm', `/v2/${name}/blobs/sha256:..%2F..%2Fx`, 400, 'DIGEST_INVALID'],
    ['a path as an upload ID', `/v2/${name}/blobs/uploads/..%2F..%2Fmetadata.db`, 404, 'BLOB_UPLOAD_UNKNOWN'],
    ['parent segments after uploads', `/v2/${name}/blobs/uploads/../../../metadata.db`, 404, 'UNSUPPORTED'],
    ['a parent segment as an upload ID', `/v2/${name}/blobs/uploads/..`, 404, 'BLOB_UPLOAD_UNKNOWN'],
    ['parent segments after a digest', `/v2/${name}/manifests/sha256:../../x`, 404, 'UNSUPPORTED'],
  ])('refuses %s: %s', async (_, path, status, code) => {
    const response = await rawHttp(registry.url, `GET ${path} HTTP/1.1`);
    expect(response.status, response.body).toBe(status);
    expect(rawError(response)?.code).toBe(code);
    expect(rawError(response)?.message).toBeTruthy();
  });

  it('refuses parent segments in an absolute-form request target', async () => {
    const response = await rawHttp(registry.url, `GET ${registry.url}/v2/bad/../../x/manifests/v1 HTTP/1.1`);
    expect(response.status).toBe(400);
    expect(rawError(response)?.code).toBe('NAME_INVALID');
  });

  it('ignores the host of an absolute-form target and serves only its own content', async () => {
    const response = await rawHttp(
      registry.url,
      `GET http://elsewhere.invalid/v2/${name}/manifests/v1 HTTP/1.1`,
    );
    expect(response.status).toBe(200);
    expect(response.headers['docker-content-digest']).toBe(image.digest);
  });
});

describe('tags', () => {
  it.each([
    ['a leading dash', '-v1', 'TAG_INVALID'],
    ['a leading dot', '.v1', 'TAG_INVALID'],
    ['129 characters', 'a'.repeat(129), 'TAG_INVALID'],
    ['a plus sign', 'v1+build', 'TAG_INVALID'],
    ['an at sign', 'v1@x', 'TAG_INVALID'],
    ['an encoded space', 'v%201', 'TAG_INVALID'],
    ['a colon, which makes it a digest', 'v1:latest', 'DIGEST_INVALID'],
  ])('refuses a tag with %s on PUT, and finds nothing by it on GET', async (_, tag, code) => {
    const message = code === 'TAG_INVALID' ? /invalid tag/ : /digest algorithm "v1"/;
    const got = await adminFetch(`${registry.url}/v2/${name}/manifests/${tag}`);
    if (code === 'TAG_INVALID') await expectError(got, 404, 'MANIFEST_UNKNOWN', message);
    else await expectError(got, 400, code, message);
    const put = await adminFetch(`${registry.url}/v2/${name}/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      body: image.manifest,
    });
    await expectError(put, 400, code, message);
  });

  it('accepts a tag of 128 characters starting with an underscore', async () => {
    const tag = `_${'a'.repeat(127)}`;
    const put = await adminFetch(`${registry.url}/v2/${name}/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
      body: image.manifest,
    });
    expect(put.status).toBe(201);
    expect(
      (await adminFetch(`${registry.url}/v2/${name}/manifests/${tag}`, { method: 'DELETE' })).status,
    ).toBe(202);
  });
});

describe('digests in URLs', () => {
  const badDigests: [string, string, RegExp][] = [
    ['a short hex part', 'sha256:abc', /expected 64 lowercase hex/],
    ['uppercase hex', `sha256:${'A'.repeat(64)}`, /expected 64 lowercase hex/],
    ['non-hex characters', `sha256:${'g'.repeat(64)}`, /expected 64 lowercase hex/],
    ['a sha256-length sha512', `sha512:${'a'.repeat(64)}`, /expected 128 lowercase hex/],
    ['an unsupported algorithm', `md5:${'a'.repeat(32)}`, /unsupported digest algorithm "md5"/],
    ['no algorithm', `:${'a'.repeat(64)}`, /expected algorithm:hex/],
    ['an empty hex part', 'sha256:', /expected algorithm:hex/],
  ];

  it.each(badDigests)('refuses a digest with %s everywhere a digest is taken', async (_, digest, message) => {
    const base = `${registry.url}/v2/${name}`;
    const requests: [string, RequestInit][] = [
      [`${base}/blobs/${digest}`, {}],
      [`${base}/blobs/${digest}`, { method: 'DELETE' }],
      [`${base}/manifests/${digest}`, {}],
      [`${base}/manifests/${digest}`, { method: 'PUT', body: image.manifest }],
      [`${base}/manifests/${digest}`, { method: 'DELETE' }],
      [`${base}/referrers/${digest}`, {}],
      [`${base}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: 'x' }],
      [`${base}/blobs/uploads/?mount=${digest}&from=${name}`, { method: 'POST' }],
    ];
    for (const [url, init] of requests) {
      await expectError(await adminFetch(url, init), 400, 'DIGEST_INVALID', message);
    }
  });

  it('refuses a blob digest without a colon with DIGEST_INVALID', async () => {
    await expectError(await adminFetch(`${registry.url}/v2/${name}/blobs/latest`), 400, 'DIGEST_INVALID');
  });
});

describe('after the bad requests', () => {
  it('still serves the image byte for byte under the same digests', async () => {
    await expectImageIntact(registry.url, name, 'v1', image);
    const tags = await (await adminFetch(`${registry.url}/v2/${name}/tags/list`)).json();
    expect(tags).toEqual({ name, tags: ['v1'] });
  });

  it('created no image for any refused name', async () => {
    const catalog = (await (await adminFetch(`${registry.url}/v2/_catalog`)).json()) as {
      repositories: string[];
    };
    expect(catalog.repositories).toEqual([`bad/names/${'a'.repeat(245)}`, name]);
  });
});
