import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import { errorCode, pushImage } from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

describe('push and pull an image', () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startTestRegistry({ autoCreateRepositories: true });
  });
  afterAll(() => registry.close());

  it('serves back the manifest and blobs it was given', async () => {
    const image = await pushImage(registry.url, 'proj/repo/app', 'v1', [10, 2000]);
    const manifest = await adminFetch(`${registry.url}/v2/proj/repo/app/manifests/v1`);
    expect(manifest.status).toBe(200);
    expect(manifest.headers.get('docker-content-digest')).toBe(image.digest);
    expect(Buffer.from(await manifest.arrayBuffer())).toEqual(image.manifest);
    const blob = await adminFetch(`${registry.url}/v2/proj/repo/app/blobs/${image.layers[1]}`);
    expect(blob.status).toBe(200);
    expect((await blob.arrayBuffer()).byteLength).toBe(2000);
  });

  it('answers NAME_UNKNOWN for an image nobody pushed', async () => {
    const response = await adminFetch(`${registry.url}/v2/proj/repo/nothing/manifests/latest`);
    expect(response.status).toBe(404);
    expect(await errorCode(response)).toBe('NAME_UNKNOWN');
  });
});
