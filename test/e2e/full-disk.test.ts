import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inputValue, WebClient } from '../oauth/support/http.js';
import { adminFetch, adminPasswordGrant } from '../support/admin-session.js';
import { ApiClient, bearer, expectApiError } from '../support/api-client.js';
import { uploadFiles } from '../support/data-dir.js';
import {
  expectError,
  imageManifest,
  randomBlob,
  sha256,
  startUpload,
  types,
  withDigest,
} from '../support/oci-client.js';
import { type Daemon, startDaemon, testAdminPassword } from '../support/registry.js';
import { mountSmallDisk, type SmallDisk } from '../support/small-disk.js';

/**
 * The registry on a real 128 MB filesystem that fills up. Each upload path gets a body three times
 * the space left: the daemon answers 507 with the error body, keeps serving, and once space is freed
 * the upload resumes from what it stored and completes with a verified digest.
 */
let disk: SmallDisk;
let daemon: Daemon;
let dataDir: string;
const name = 'full/disk/app';
const megabyte = 1024 * 1024;

beforeAll(async () => {
  disk = await mountSmallDisk(128);
  dataDir = `${disk.path}/data`;
  daemon = await startDaemon(dataDir, ['--auto-create-repositories']);
});
afterAll(async () => {
  await daemon?.stop();
  await disk?.unmount();
});
beforeEach(async () => {
  await disk.release();
});

/** The daemon still answers, and still the same process. */
async function expectServing(): Promise<void> {
  expect(daemon.process.exitCode).toBeNull();
  const response = await adminFetch(`${daemon.url}/v2/`);
  expect(response.status).toBe(200);
}

async function expectFull(response: Response): Promise<void> {
  await expectError(response, 507, 'UNKNOWN', /storage is full/);
}

/** The stored size an upload reports in `Range` (`0-LAST`), as a client learns where to resume. */
async function storedSize(location: string): Promise<number> {
  const status = await adminFetch(location);
  expect(status.status).toBe(204);
  return Number(status.headers.get('range')?.split('-')[1]) + 1;
}

async function expectBlob(digest: string, bytes: Buffer): Promise<void> {
  const response = await adminFetch(`${daemon.url}/v2/${name}/blobs/${digest}`);
  expect(response.status).toBe(200);
  expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(digest);
  expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
}

/** A body sent with chunked transfer encoding: the registry learns its length only at the end. */
function streamed(bytes: Buffer): RequestInit {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += megabyte)
        controller.enqueue(bytes.subarray(at, at + megabyte));
      controller.close();
    },
  });
  return { body, duplex: 'half' } as RequestInit;
}

/** Sends the rest of an upload from where it stopped, then finishes it. */
async function resume(location: string, bytes: Buffer): Promise<void> {
  const stored = await storedSize(location);
  expect(stored).toBeLessThan(bytes.length);
  const patch = await adminFetch(location, {
    method: 'PATCH',
    headers: { 'Content-Range': `${stored}-${bytes.length - 1}` },
    body: bytes.subarray(stored),
  });
  expect(patch.status).toBe(202);
  const put = await adminFetch(
    withDigest(new URL(patch.headers.get('location') ?? '', daemon.url).href, sha256(bytes)),
    {
      method: 'PUT',
    },
  );
  expect(put.status, await put.text()).toBe(201);
}

describe('a disk that fills during a blob upload', () => {
  it('monolithic POST ?digest=: 507, nothing left behind, and the same POST works once space is freed', async () => {
    const bytes = randomBlob(12 * megabyte);
    const url = `${daemon.url}/v2/${name}/blobs/uploads/?digest=${sha256(bytes)}`;
    await disk.fill(4 * megabyte);
    await expectFull(await adminFetch(url, { method: 'POST', body: bytes }));
    await expectServing();
    // The client never learnt the session, so the registry dropped it and its bytes.
    expect(await uploadFiles(dataDir)).toEqual(new Map());
    await disk.release();
    const retry = await adminFetch(url, { method: 'POST', body: bytes });
    expect(retry.status).toBe(201);
    await expectBlob(sha256(bytes), bytes);
  });

  it('PATCH: 507 with the stored Range, and the upload resumes from it', async () => {
    const bytes = randomBlob(12 * megabyte);
    const location = await startUpload(daemon.url, name);
    await disk.fill(4 * megabyte);
    const response = await adminFetch(location, { method: 'PATCH', body: bytes });
    const range = response.headers.get('range');
    await expectFull(response);
    await expectServing();
    await disk.release();
    expect(range).toBe(`0-${(await storedSize(location)) - 1}`);
    await resume(location, bytes);
    await expectBlob(sha256(bytes), bytes);
  });

  it('PATCH with a chunked body (no Content-Length): 507, and the upload resumes', async () => {
    const bytes = randomBlob(12 * megabyte);
    const location = await startUpload(daemon.url, name);
    await disk.fill(4 * megabyte);
    await expectFull(await adminFetch(location, { method: 'PATCH', ...streamed(bytes) }));
    await expectServing();
    await disk.release();
    await resume(location, bytes);
    await expectBlob(sha256(bytes), bytes);
  });

  it('chunked PATCHes with Content-Range: the chunk that hits the full disk gets 507, and the upload resumes', async () => {
    const bytes = randomBlob(12 * megabyte);
    const location = await startUpload(daemon.url, name);
    const first = await adminFetch(location, {
      method: 'PATCH',
      headers: { 'Content-Range': `0-${2 * megabyte - 1}` },
      body: bytes.subarray(0, 2 * megabyte),
    });
    expect(first.status).toBe(202);
    await disk.fill(4 * megabyte);
    const second = await adminFetch(location, {
      method: 'PATCH',
      headers: { 'Content-Range': `${2 * megabyte}-${bytes.length - 1}` },
      body: bytes.subarray(2 * megabyte),
    });
    await expectFull(second);
    await expectServing();
    await disk.release();
    expect(await storedSize(location)).toBeGreaterThanOrEqual(2 * megabyte);
    await resume(location, bytes);
    await expectBlob(sha256(bytes), bytes);
  });

  it('PUT ?digest= with the body: 507, and the upload resumes', async () => {
    const bytes = randomBlob(12 * megabyte);
    const location = await startUpload(daemon.url, name);
    await disk.fill(4 * megabyte);
    await expectFull(await adminFetch(withDigest(location, sha256(bytes)), { method: 'PUT', body: bytes }));
    await expectServing();
    await disk.release();
    await resume(location, bytes);
    await expectBlob(sha256(bytes), bytes);
  });
});

describe('a disk that fills during a manifest push', () => {
  it('answers 507, leaves no staged file behind, and the same push works once space is freed', async () => {
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const layer = randomBlob(1024);
    for (const bytes of [config, layer]) {
      const pushed = await adminFetch(`${daemon.url}/v2/${name}/blobs/uploads/?digest=${sha256(bytes)}`, {
        method: 'POST',
        body: bytes,
      });
      expect(pushed.status).toBe(201);
    }
    // Annotations make the manifest larger than what the full disk still has room for.
    const manifest = imageManifest(
      { digest: sha256(config), size: config.length },
      [{ digest: sha256(layer), size: layer.length }],
      { annotations: { padding: 'x'.repeat(64 * 1024) } },
    );
    const put = () =>
      adminFetch(`${daemon.url}/v2/${name}/manifests/v1`, {
        method: 'PUT',
        headers: { 'Content-Type': types.ociManifest },
        body: manifest,
      });
    await disk.fill(16 * 1024);
    await expectFull(await put());
    expect(await uploadFiles(dataDir)).toEqual(new Map());
    await expectServing();
    await disk.release();
    expect((await put()).status).toBe(201);
  });
});

describe('a disk too full for the metadata database', () => {
  it('answers 507 in each surface shape, leaves no upload file behind, and works again once space is freed', async () => {
    const admin = new ApiClient(daemon.url, bearer(daemon.adminToken));
    expect((await admin.post('/api/v1/projects', { projectId: 'full-disk' })).status).toBe(201);
    const repositories = '/api/v1/projects/full-disk/repositories';
    await disk.fill(0);

    // The registry: an upload start records its session in SQLite.
    await expectFull(await adminFetch(`${daemon.url}/v2/${name}/blobs/uploads/`, { method: 'POST' }));
    expect(await uploadFiles(dataDir)).toEqual(new Map());
    // The management API: its error shape is the registry's.
    const created = await admin.post(repositories, { repositoryId: 'backend' });
    expectApiError(created, 507, 'UNKNOWN', /storage is full/);
    // The OAuth token endpoint: RFC 6749's shape.
    const grant = await adminPasswordGrant(daemon.url);
    expect(grant.status).toBe(507);
    expect(await grant.json()).toMatchObject({
      error: 'temporarily_unavailable',
      error_description: expect.stringMatching(/storage is full/),
    });
    // The sign-in page: a page, not JSON.
    const browser = new WebClient(daemon.url);
    const signIn = async () => {
      const form = await browser.get('/login');
      return browser.post('/login', {
        csrf_token: inputValue(form.text, 'csrf_token'),
        login: 'admin',
        password: testAdminPassword,
      });
    };
    const page = await signIn();
    expect(page.status).toBe(507);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toMatch(/storage is full/);
    await expectServing();

    await disk.release();
    expect((await signIn()).status).toBe(303);
    expect((await adminFetch(`${daemon.url}/v2/${name}/blobs/uploads/`, { method: 'POST' })).status).toBe(
      202,
    );
    expect((await admin.post(repositories, { repositoryId: 'backend' })).status).toBe(201);
    expect((await adminPasswordGrant(daemon.url)).status).toBe(200);
  });
});
