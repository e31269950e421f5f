import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import {
  expectError,
  expectImageIntact,
  type PushedImage,
  pushImage,
  randomBlob,
  rawError,
  rawHttp,
  sha256,
  startUpload,
  withDigest,
} from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

/** Bad headers, unknown or borrowed upload IDs and bad pagination: a 4xx with the right code, never a 500. */
let registry: TestRegistry;
const name = 'bad/requests/app';
let image: PushedImage;

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: true });
  image = await pushImage(registry.url, name, 'v1', [500, 20]);
  await pushImage(registry.url, 'bad/requests/other', 'v1', [10]);
});
afterAll(() => registry.close());

const patch = (location: string, body: Buffer, headers: Record<string, string> = {}) =>
  adminFetch(location, { method: 'PATCH', headers, body });

describe('Content-Range on chunks', () => {
  it.each([
    'abc',
    '10-5',
    '0-',
    '-5',
    '0--1',
    'bytes=a-b',
    '1-2-3',
    '0-9/',
    '0x0-0x9',
    '99999999999999999999-99999999999999999999',
  ])(
    'refuses the malformed Content-Range %j with 416 BLOB_UPLOAD_INVALID and the Range stored',
    async (range) => {
      const location = await startUpload(registry.url, name);
      expect((await patch(location, randomBlob(4), { 'Content-Range': '0-3' })).status).toBe(202);
      const response = await patch(location, randomBlob(10), { 'Content-Range': range });
      // A 416 tells the client where to resume, whatever made the chunk unacceptable.
      expect(response.headers.get('range')).toBe('0-3');
      await expectError(response, 416, 'BLOB_UPLOAD_INVALID', /invalid Content-Range/);
      const status = await adminFetch(location);
      expect(status.status).toBe(204);
      expect(status.headers.get('range')).toBe('0-3');
    },
  );

  it('refuses a first chunk that does not start at 0 with 416 and the Range stored', async () => {
    const location = await startUpload(registry.url, name);
    const response = await patch(location, randomBlob(5), { 'Content-Range': '5-9' });
    expect(response.headers.get('range')).toBe('0-0');
    await expectError(response, 416, 'BLOB_UPLOAD_INVALID', /starting at 0/);
  });

  it('refuses a Content-Range that disagrees with Content-Length with SIZE_INVALID', async () => {
    const location = await startUpload(registry.url, name);
    const response = await patch(location, randomBlob(5), { 'Content-Range': '0-9' });
    await expectError(response, 400, 'SIZE_INVALID', /0-9 is 10 bytes but Content-Length is 5/);
    const status = await adminFetch(location);
    expect(status.headers.get('range')).toBe('0-0');
  });
});

describe('streamed chunks that disagree with their Content-Range', () => {
  /** One chunk in chunked transfer encoding, so no Content-Length can give the mismatch away early. */
  const streamed = (location: string, method: string, range: string, body: string) =>
    rawHttp(
      registry.url,
      `${method} ${new URL(location).pathname}${new URL(location).search} HTTP/1.1\nContent-Range: ${range}\nTransfer-Encoding: chunked`,
      `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    );

  it('keeps only the bytes the range names of a longer body, says so, and reports the Range stored', async () => {
    const location = await startUpload(registry.url, name);
    const response = await streamed(location, 'PATCH', '0-2', 'abcdef');
    expect(response.status, response.body).toBe(400);
    expect(response.headers.range).toBe('0-2');
    expect(rawError(response)).toEqual({
      code: 'SIZE_INVALID',
      message: expect.stringMatching(/Content-Range 0-2 names 3 bytes but the body is longer/),
    });
    expect((await adminFetch(location)).headers.get('range')).toBe('0-2');
    const finish = await adminFetch(withDigest(location, sha256('abc')), { method: 'PUT' });
    expect(finish.status).toBe(201);
  });

  it('refuses a body shorter than its range, keeping what arrived', async () => {
    const location = await startUpload(registry.url, name);
    const response = await streamed(location, 'PATCH', '0-9', 'abcd');
    expect(response.status, response.body).toBe(400);
    expect(response.headers.range).toBe('0-3');
    expect(rawError(response)?.message).toMatch(/names 10 bytes but only 4 arrived/);
    expect((await adminFetch(location)).headers.get('range')).toBe('0-3');
  });

  it('refuses a finishing PUT whose last chunk runs past its range, storing no blob', async () => {
    const location = await startUpload(registry.url, name);
    const digest = sha256('abcdef');
    const response = await streamed(withDigest(location, digest), 'PUT', '0-2', 'abcdef');
    expect(response.status, response.body).toBe(400);
    expect(rawError(response)?.code).toBe('SIZE_INVALID');
    await expectError(await adminFetch(`${registry.url}/v2/${name}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
  });
});

describe('Content-Length', () => {
  it.each([
    ['letters', 'Content-Length: abc'],
    ['a negative number', 'Content-Length: -1'],
    ['a fraction', 'Content-Length: 1.5'],
    ['an exponent', 'Content-Length: 1e3'],
    ['a number too large to hold', 'Content-Length: 99999999999999999999999'],
    ['two different values', 'Content-Length: 2\nContent-Length: 3'],
    ['a list of values', 'Content-Length: 3, 4'],
  ])('refuses a Content-Length of %s with 400 SIZE_INVALID', async (_, header) => {
    for (const request of [
      `PUT /v2/${name}/manifests/v2 HTTP/1.1`,
      `PATCH ${new URL(await startUpload(registry.url, name)).pathname} HTTP/1.1`,
      `POST /v2/${name}/blobs/uploads/?digest=${sha256('abc')} HTTP/1.1`,
    ]) {
      const response = await rawHttp(registry.url, `${request}\n${header}`, 'abc');
      expect(response.status, response.body).toBe(400);
      expect(response.headers['docker-distribution-api-version']).toBe('registry/2.0');
      expect(rawError(response)).toEqual({
        code: 'SIZE_INVALID',
        message: expect.stringMatching(/Content-Length/),
      });
    }
  });

  it('refuses Content-Length beside Transfer-Encoding with an OCI error', async () => {
    const response = await rawHttp(
      registry.url,
      `PUT /v2/${name}/manifests/v2 HTTP/1.1\nContent-Length: 3\nTransfer-Encoding: chunked`,
      'abc',
    );
    expect(response.status).toBe(400);
    expect(rawError(response)?.code).toBe('UNSUPPORTED');
    expect(rawError(response)?.message).toMatch(/malformed HTTP request: .*Transfer-Encoding/i);
  });

  it('refuses a header block too large to read with 431', async () => {
    const response = await rawHttp(registry.url, `GET /v2/ HTTP/1.1\nX-Padding: ${'x'.repeat(20_000)}`);
    expect(response.status).toBe(431);
    expect(rawError(response)?.code).toBe('SIZE_INVALID');
  });

  it('refuses a malformed header line with an OCI error that names the problem', async () => {
    const response = await rawHttp(registry.url, `GET /v2/ HTTP/1.1\nNot A Header`);
    expect(response.status).toBe(400);
    expect(rawError(response)?.message).toMatch(/malformed HTTP request: .*header/i);
  });

  it('refuses a manifest whose declared length is over the limit before reading it', async () => {
    const response = await rawHttp(
      registry.url,
      `PUT /v2/${name}/manifests/v2 HTTP/1.1\nContent-Type: application/vnd.oci.image.manifest.v1+json\nContent-Length: 4194305`,
    );
    expect(response.status).toBe(413);
    expect(rawError(response)?.code).toBe('SIZE_INVALID');
  });
});

describe('upload IDs', () => {
  const requests: [string, (location: string) => Promise<Response>][] = [
    ['GET', (location) => adminFetch(location)],
    ['PATCH', (location) => patch(location, randomBlob(4), { 'Content-Range': '0-3' })],
    ['streamed PATCH', (location) => patch(location, randomBlob(4))],
    ['PUT', (location) => adminFetch(withDigest(location, sha256('abcd')), { method: 'PUT', body: 'abcd' })],
    ['DELETE', (location) => adminFetch(location, { method: 'DELETE' })],
  ];
  const uploads = `${name}/blobs/uploads`;

  describe.each([
    ['an ID never handed out', () => `/v2/${uploads}/${randomUUID()}`],
    ['an ID that is no UUID', () => `/v2/${uploads}/not-an-upload`],
    ['a very long ID', () => `/v2/${uploads}/${'a'.repeat(2000)}`],
  ])('%s', (_, path) => {
    it.each(requests)('is refused by %s with 404 BLOB_UPLOAD_UNKNOWN', async (_, send) => {
      const response = await send(`${registry.url}${path()}`);
      await expectError(response, 404, 'BLOB_UPLOAD_UNKNOWN', /unknown or has expired/);
    });
  });

  describe.each([
    ['another image', 'bad/requests/other'],
    ['an image that does not exist', 'bad/requests/nowhere'],
    ['another project', 'elsewhere/requests/app'],
  ])('a real ID used under %s', (_, otherName) => {
    it.each(requests)('is refused by %s with 404 BLOB_UPLOAD_UNKNOWN', async (_, send) => {
      const location = await startUpload(registry.url, name);
      const borrowed = location.replace(`/v2/${name}/`, `/v2/${otherName}/`);
      await expectError(await send(borrowed), 404, 'BLOB_UPLOAD_UNKNOWN');
      // The session is untouched and still completes under its own name.
      const bytes = randomBlob(8);
      const put = await adminFetch(withDigest(location, sha256(bytes)), { method: 'PUT', body: bytes });
      expect(put.status).toBe(201);
      // Nothing reached the other name (it may not even exist, hence NAME_UNKNOWN or BLOB_UNKNOWN).
      expect((await adminFetch(`${registry.url}/v2/${otherName}/blobs/${sha256(bytes)}`)).status).toBe(404);
    });
  });

  it('refuses an ID in a different case', async () => {
    const location = await startUpload(registry.url, name);
    const id = location.split('/').at(-1) ?? '';
    const response = await adminFetch(location.replace(id, id.toUpperCase()));
    await expectError(response, 404, 'BLOB_UPLOAD_UNKNOWN');
  });
});

describe('pagination numbers', () => {
  it.each(['-1', 'abc', '1.5', '1e3', '0x10', '', ' 5', '5 '])(
    'refuses n=%j with 400 PAGINATION_NUMBER_INVALID on tag lists and the catalog',
    async (n) => {
      for (const path of [`/v2/${name}/tags/list`, '/v2/_catalog']) {
        const response = await adminFetch(`${registry.url}${path}?n=${encodeURIComponent(n)}`);
        await expectError(response, 400, 'PAGINATION_NUMBER_INVALID', /n must be a whole number/);
      }
    },
  );

  it('caps an n larger than it will serve instead of failing', async () => {
    for (const path of [`/v2/${name}/tags/list`, '/v2/_catalog']) {
      const response = await adminFetch(`${registry.url}${path}?n=99999999999999999999999`);
      expect(response.status).toBe(200);
    }
  });
});

describe('after the bad requests', () => {
  it('still serves the image byte for byte under the same digests', async () => {
    await expectImageIntact(registry.url, name, 'v1', image);
    const tags = await (await adminFetch(`${registry.url}/v2/${name}/tags/list`)).json();
    expect(tags).toEqual({ name, tags: ['v1'] });
    const catalog = (await (await adminFetch(`${registry.url}/v2/_catalog`)).json()) as {
      repositories: string[];
    };
    expect(catalog.repositories).toEqual(['bad/requests/app', 'bad/requests/other']);
  });
});
