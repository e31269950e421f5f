import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import { expectError, type PushedImage, pushImage, rawError, rawHttp } from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
let image: PushedImage;
const name = 'base/api/app';

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: true });
  image = await pushImage(registry.url, name, 'v1');
});
afterAll(() => registry.close());

describe('API version check', () => {
  it('answers GET /v2/ with 200, an empty JSON object and the API version header', async () => {
    const response = await adminFetch(`${registry.url}/v2/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({});
  });

  it('answers GET /v2 without the trailing slash and HEAD /v2/ the same way', async () => {
    const bare = await adminFetch(`${registry.url}/v2`);
    expect(bare.status).toBe(200);
    const head = await adminFetch(`${registry.url}/v2/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(await head.text()).toBe('');
  });

  it('accepts the absolute form of the request target', async () => {
    const response = await rawHttp(registry.url, `GET ${registry.url}/v2/${name}/manifests/v1 HTTP/1.1`);
    expect(response.status).toBe(200);
    expect(response.headers['docker-content-digest']).toBe(image.digest);
  });
});

describe('the API version header', () => {
  it.each([
    ['a manifest', () => `/v2/${name}/manifests/v1`, 200],
    ['a blob', () => `/v2/${name}/blobs/${image.config}`, 200],
    ['the tag list', () => `/v2/${name}/tags/list`, 200],
    ['the catalog', () => '/v2/_catalog', 200],
    ['an unknown manifest', () => `/v2/${name}/manifests/nothing`, 404],
    ['an unknown repository', () => '/v2/base/api/nothing/tags/list', 404],
    ['an invalid name', () => '/v2/Base/api/app/tags/list', 400],
    ['a path that is no endpoint', () => '/v2/base/api/app/nowhere', 404],
  ])('is on the response for %s', async (_, path, status) => {
    const response = await adminFetch(`${registry.url}${path()}`);
    expect(response.status).toBe(status);
    expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  });
});

describe('wrong methods', () => {
  it.each([
    ['PUT', () => '/v2/', 'GET, HEAD'],
    ['POST', () => `/v2/${name}/manifests/v1`, 'GET, HEAD, PUT, DELETE'],
    ['PATCH', () => `/v2/${name}/manifests/v1`, 'GET, HEAD, PUT, DELETE'],
    ['PUT', () => `/v2/${name}/blobs/${image.config}`, 'GET, HEAD, DELETE'],
    ['POST', () => `/v2/${name}/blobs/${image.config}`, 'GET, HEAD, DELETE'],
    ['GET', () => `/v2/${name}/blobs/uploads/`, 'POST'],
    ['PUT', () => `/v2/${name}/blobs/uploads/`, 'POST'],
    ['DELETE', () => `/v2/${name}/tags/list`, 'GET'],
    ['POST', () => '/v2/_catalog', 'GET'],
    ['DELETE', () => `/v2/${name}/referrers/${image.digest}`, 'GET'],
  ])('refuses %s %s with 405, UNSUPPORTED and an Allow header', async (method, path, allow) => {
    const response = await adminFetch(`${registry.url}${path()}`, { method });
    expect(response.headers.get('allow')).toBe(allow);
    await expectError(response, 405, 'UNSUPPORTED', new RegExp(`${method} is not supported`));
  });

  it('refuses a method HTTP clients rarely send', async () => {
    const response = await rawHttp(registry.url, `OPTIONS /v2/${name}/manifests/v1 HTTP/1.1`);
    expect(response.status).toBe(405);
    expect(rawError(response)?.code).toBe('UNSUPPORTED');
  });

  it('answers a path outside the API with 404 and an OCI error body', async () => {
    for (const path of ['/nowhere', '/v1/_ping', `/v2/${name}`, `/v2/${name}/blobs/`]) {
      const response = await adminFetch(`${registry.url}${path}`);
      await expectError(response, 404, 'UNSUPPORTED', /no endpoint/);
    }
  });

  it('still serves the image after the refused requests', async () => {
    const response = await adminFetch(`${registry.url}/v2/${name}/manifests/v1`);
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(image.manifest);
  });
});
