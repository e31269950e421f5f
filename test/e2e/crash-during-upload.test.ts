import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import { blobFiles, corruptBlobFiles, uploadFiles } from '../support/data-dir.js';
import { errorCode, sha256 } from '../support/oci-client.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import { openStreamingRequest } from '../support/streaming-request.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const name = 'proj/repo/crash';
const mebibyte = 1024 * 1024;

async function startUpload(url: string): Promise<{ id: string; location: string }> {
  const response = await adminFetch(`${url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  expect(response.status).toBe(202);
  const location = response.headers.get('location') ?? '';
  return { id: response.headers.get('docker-upload-uuid') ?? '', location: new URL(location, url).href };
}

/**
 * Streams `body` in 256 KiB pieces until the daemon has written at least `durableBytes` of it to the
 * upload file, then kills the daemon with the request still open, as a crash would.
 */
async function crashMidBody(
  daemon: Daemon,
  dataDir: string,
  uploadId: string,
  request: ReturnType<typeof openStreamingRequest>,
  body: Buffer,
  durableBytes: number,
): Promise<void> {
  await request.continued;
  const stored = async () => (await uploadFiles(dataDir)).get(uploadId) ?? 0;
  let sent = 0;
  while (sent < durableBytes + 2 * mebibyte && (await stored()) < durableBytes) {
    await request.write(body.subarray(sent, sent + 256 * 1024));
    sent += 256 * 1024;
  }
  await waitFor('the daemon to store part of the body', async () =>
    (await stored()) >= durableBytes ? true : undefined,
  );
  expect(sent).toBeLessThan(body.length);
  await daemon.kill();
  expect('error' in (await request.outcome)).toBe(true);
}

/** After a crash: no blob for `digest` is visible or stored, and every stored blob hashes to its name. */
async function expectNothingPartial(url: string, dataDir: string, digest: string): Promise<void> {
  const head = await adminFetch(`${url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
  expect(head.status).toBe(404);
  const get = await adminFetch(`${url}/v2/${name}/blobs/${digest}`);
  expect(get.status).toBe(404);
  expect(await errorCode(get)).toBe('BLOB_UNKNOWN');
  expect((await blobFiles(dataDir)).map((file) => file.digest)).not.toContain(digest);
  expect(await corruptBlobFiles(dataDir)).toEqual([]);
}

/** The upload's status after the restart: its Range header says how many bytes survived. */
async function storedBytes(location: string): Promise<number> {
  const status = await adminFetch(location);
  expect(status.status).toBe(204);
  const range = /^0-(\d+)$/.exec(status.headers.get('range') ?? '');
  expect(range, `Range header ${status.headers.get('range')}`).not.toBeNull();
  return Number(range?.[1]) + 1;
}

async function expectBlob(url: string, dataDir: string, digest: string, body: Buffer): Promise<void> {
  const response = await adminFetch(`${url}/v2/${name}/blobs/${digest}`);
  expect(response.status).toBe(200);
  expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(sha256(body));
  expect(await corruptBlobFiles(dataDir)).toEqual([]);
}

describe('kill -9 in the middle of a blob upload', { timeout: 120_000 }, () => {
  let data: Awaited<ReturnType<typeof tempDir>>;
  let daemon: Daemon | undefined;

  beforeEach(async () => {
    data = await tempDir('mistrive-e2e-crash-');
    daemon = await startDaemon(data.path, ['--auto-create-repositories']);
  });
  afterEach(async () => {
    await daemon?.stop();
    await data.remove();
  });

  it('keeps what a chunked PATCH stored, and resumes it from the Range the status reports', async () => {
    const running = daemon as Daemon;
    const body = randomBytes(12 * mebibyte);
    const digest = sha256(body);
    const upload = await startUpload(running.url);
    // Streamed like docker does: one PATCH with no Content-Range, the whole blob as its body.
    const patch = openStreamingRequest(upload.location, 'PATCH', {
      'Content-Type': 'application/octet-stream',
      'Content-Length': body.length,
    });
    await crashMidBody(running, data.path, upload.id, patch, body, 2 * mebibyte);

    daemon = await startDaemon(data.path, ['--auto-create-repositories']);
    await expectNothingPartial(daemon.url, data.path, digest);
    const stored = await storedBytes(upload.location.replace(running.url, daemon.url));
    expect(stored).toBeGreaterThanOrEqual(2 * mebibyte);
    expect(stored).toBeLessThan(body.length);

    const location = `${daemon.url}/v2/${name}/blobs/uploads/${upload.id}`;
    const rest = await adminFetch(location, {
      method: 'PATCH',
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Range': `${stored}-${body.length - 1}`,
      },
      body: body.subarray(stored),
    });
    expect(rest.status).toBe(202);
    expect(rest.headers.get('range')).toBe(`0-${body.length - 1}`);
    const done = await adminFetch(`${location}?digest=${digest}`, { method: 'PUT' });
    expect(done.status).toBe(201);
    expect(done.headers.get('docker-content-digest')).toBe(digest);
    await expectBlob(daemon.url, data.path, digest, body);
    expect((await uploadFiles(data.path)).has(upload.id)).toBe(false);
  });

  it('keeps what a PUT with the whole body stored, and finishes it with the rest', async () => {
    const running = daemon as Daemon;
    const body = randomBytes(10 * mebibyte);
    const digest = sha256(body);
    const upload = await startUpload(running.url);
    const put = openStreamingRequest(`${upload.location}?digest=${digest}`, 'PUT', {
      'Content-Type': 'application/octet-stream',
      'Content-Length': body.length,
    });
    await crashMidBody(running, data.path, upload.id, put, body, 3 * mebibyte);

    daemon = await startDaemon(data.path, ['--auto-create-repositories']);
    await expectNothingPartial(daemon.url, data.path, digest);
    const location = `${daemon.url}/v2/${name}/blobs/uploads/${upload.id}`;
    const stored = await storedBytes(location);
    expect(stored).toBeGreaterThanOrEqual(3 * mebibyte);

    // A chunk that claims the wrong offset is refused and leaves the stored bytes alone. (Small: the
    // registry answers before reading the body and closes, which a large body in flight would race.)
    const misplaced = await adminFetch(location, {
      method: 'PATCH',
      headers: { 'Content-Range': '0-1023' },
      body: body.subarray(0, 1024),
    });
    expect(misplaced.status).toBe(416);
    expect(misplaced.headers.get('range')).toBe(`0-${stored - 1}`);
    expect(await storedBytes(location)).toBe(stored);

    const done = await adminFetch(`${location}?digest=${digest}`, {
      method: 'PUT',
      headers: {
        'Content-Type': 'application/octet-stream',
        'Content-Range': `${stored}-${body.length - 1}`,
      },
      body: body.subarray(stored),
    });
    expect(done.status).toBe(201);
    await expectBlob(daemon.url, data.path, digest, body);
  });

  it('does not let a crashed upload pass for a blob when finished with missing bytes', async () => {
    const running = daemon as Daemon;
    const body = randomBytes(8 * mebibyte);
    const digest = sha256(body);
    const upload = await startUpload(running.url);
    const patch = openStreamingRequest(upload.location, 'PATCH', {
      'Content-Type': 'application/octet-stream',
      'Content-Length': body.length,
    });
    await crashMidBody(running, data.path, upload.id, patch, body, mebibyte);

    daemon = await startDaemon(data.path, ['--auto-create-repositories']);
    const location = `${daemon.url}/v2/${name}/blobs/uploads/${upload.id}`;
    const finished = await adminFetch(`${location}?digest=${digest}`, { method: 'PUT' });
    expect(finished.status).toBe(400);
    expect(await errorCode(finished)).toBe('DIGEST_INVALID');
    await expectNothingPartial(daemon.url, data.path, digest);
  });
});
