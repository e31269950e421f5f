import { symlink, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminFetch } from '../support/admin-session.js';
import {
  expectError,
  pushBlob,
  randomBlob,
  sha256,
  sha512,
  startUpload,
  withDigest,
} from '../support/oci-client.js';
import { startTestRegistry, type TestRegistry } from '../support/registry.js';

let registry: TestRegistry;
const name = 'uploads/push/app';

beforeAll(async () => {
  registry = await startTestRegistry({ autoCreateRepositories: true });
});
afterAll(() => registry.close());

const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

function patch(location: string, chunk: Buffer, range?: string): Promise<Response> {
  return adminFetch(location, {
    method: 'PATCH',
    headers: {
      'Content-Type': 'application/octet-stream',
      ...(range === undefined ? {} : { 'Content-Range': range }),
    },
    body: chunk,
  });
}

/** A body sent with chunked transfer encoding, so the registry learns its length only at the end. */
function streamed(...pieces: Buffer[]): RequestInit {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece);
      controller.close();
    },
  });
  return { body, duplex: 'half' } as RequestInit;
}

async function expectBlob(image: string, digest: string, bytes: Buffer): Promise<void> {
  const response = await adminFetch(`${registry.url}/v2/${image}/blobs/${digest}`);
  expect(response.status).toBe(200);
  expect(response.headers.get('docker-content-digest')).toBe(digest);
  expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
}

/** The upload URL a response hands out next, made absolute. */
const next = (response: Response) => new URL(response.headers.get('location') ?? '', registry.url).href;

describe('monolithic uploads', () => {
  it('stores a blob from one POST ?digest= with 201, Location and Docker-Content-Digest', async () => {
    const bytes = randomBlob(5000);
    const digest = sha256(bytes);
    const response = await adminFetch(`${registry.url}/v2/${name}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: bytes,
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/v2/${name}/blobs/${digest}`);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    await expectBlob(name, digest, bytes);
  });

  it('opens a session with POST (202, a UUID in Location) and stores the blob with one PUT', async () => {
    const start = await adminFetch(`${registry.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
    expect(start.status).toBe(202);
    const location = start.headers.get('location') ?? '';
    expect(location).toMatch(new RegExp(`^/v2/${name}/blobs/uploads/${uuid.source}$`));
    expect(start.headers.get('docker-upload-uuid')).toBe(location.split('/').at(-1));
    expect(start.headers.get('range')).toBe('0-0');

    const bytes = randomBlob(2048);
    const digest = sha256(bytes);
    const put = await adminFetch(withDigest(next(start), digest), {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: bytes,
    });
    expect(put.status).toBe(201);
    expect(put.headers.get('location')).toBe(`/v2/${name}/blobs/${digest}`);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    await expectBlob(name, digest, bytes);
  });

  it('stores sha512 blobs through POST then PUT', async () => {
    const bytes = randomBlob(700);
    const digest = sha512(bytes);
    const put = await adminFetch(withDigest(await startUpload(registry.url, name), digest), {
      method: 'PUT',
      body: bytes,
    });
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    await expectBlob(name, digest, bytes);
  });

  it.each([
    ['POST ?digest=', 'post'],
    ['PUT ?digest=', 'put'],
  ])('refuses a wrong digest on %s with DIGEST_INVALID and stores nothing', async (_, how) => {
    const bytes = randomBlob(100);
    const claimed = sha256('something else');
    const response =
      how === 'post'
        ? await adminFetch(`${registry.url}/v2/${name}/blobs/uploads/?digest=${claimed}`, {
            method: 'POST',
            body: bytes,
          })
        : await adminFetch(withDigest(await startUpload(registry.url, name), claimed), {
            method: 'PUT',
            body: bytes,
          });
    await expectError(response, 400, 'DIGEST_INVALID', new RegExp(`not the ${claimed}`));
    for (const digest of [claimed, sha256(bytes)]) {
      await expectError(await adminFetch(`${registry.url}/v2/${name}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
    }
  });

  it('leaves no session behind after a refused POST ?digest=, since the client cannot reach it', async () => {
    const sessions = () => registry.registry.context.metadata.uploads.createdBefore(new Date(8.64e15));
    const before = await sessions();
    const response = await adminFetch(`${registry.url}/v2/${name}/blobs/uploads/?digest=${sha256('x')}`, {
      method: 'POST',
      body: randomBlob(100),
    });
    await expectError(response, 400, 'DIGEST_INVALID');
    expect(await sessions()).toEqual(before);
  });

  it('refuses a sha512 digest that does not match with DIGEST_INVALID', async () => {
    const response = await adminFetch(`${registry.url}/v2/${name}/blobs/uploads/?digest=${sha512('other')}`, {
      method: 'POST',
      body: randomBlob(10),
    });
    await expectError(response, 400, 'DIGEST_INVALID', /sha512:/);
  });

  it('refuses a finishing PUT without ?digest= with DIGEST_INVALID', async () => {
    const response = await adminFetch(await startUpload(registry.url, name), { method: 'PUT', body: 'abc' });
    await expectError(response, 400, 'DIGEST_INVALID', /needs \?digest=/);
  });
});

describe('chunked uploads', () => {
  it('appends ordered chunks, reports what it holds, and completes with an empty PUT', async () => {
    const bytes = randomBlob(3000);
    let location = await startUpload(registry.url, name);
    for (const [start, end] of [
      [0, 999],
      [1000, 1999],
      [2000, 2999],
    ] as const) {
      const response = await patch(location, bytes.subarray(start, end + 1), `${start}-${end}`);
      expect(response.status).toBe(202);
      expect(response.headers.get('range')).toBe(`0-${end}`);
      expect(response.headers.get('location')).toMatch(uuid);
      location = next(response);
    }
    const status = await adminFetch(location);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-2999');
    expect(next(status)).toBe(location);

    const digest = sha256(bytes);
    const put = await adminFetch(withDigest(location, digest), { method: 'PUT' });
    expect(put.status).toBe(201);
    expect(put.headers.get('docker-content-digest')).toBe(digest);
    await expectBlob(name, digest, bytes);
  });

  it('tells clients the smallest chunk to send with OCI-Chunk-Min-Length on every session answer', async () => {
    const started = await adminFetch(`${registry.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
    expect(started.status).toBe(202);
    const minimum = started.headers.get('oci-chunk-min-length');
    expect(minimum).toMatch(/^[1-9]\d*$/);
    const location = next(started);
    const status = await adminFetch(location);
    expect(status.headers.get('oci-chunk-min-length')).toBe(minimum);
    // A hint, not a rule: a smaller chunk is still taken, like the last one of any upload.
    const small = randomBlob(10);
    const patched = await patch(location, small, '0-9');
    expect(patched.status).toBe(202);
    expect(patched.headers.get('oci-chunk-min-length')).toBe(minimum);
    expect((await adminFetch(withDigest(next(patched), sha256(small)), { method: 'PUT' })).status).toBe(201);
  });

  it('reports a fresh session as holding nothing', async () => {
    const status = await adminFetch(await startUpload(registry.url, name));
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe('0-0');
    expect(status.headers.get('location')).toMatch(uuid);
  });

  it.each([
    ['a gap after the stored bytes', '150-199'],
    ['a chunk that overlaps the stored bytes', '50-149'],
    ['a chunk that starts again at zero', '0-49'],
  ])('answers %s with 416 and the Range it holds, keeping the upload usable', async (_, range) => {
    const bytes = randomBlob(200);
    const location = await startUpload(registry.url, name);
    expect((await patch(location, bytes.subarray(0, 100), '0-99')).status).toBe(202);

    const [start = 0, end = 0] = range.split('-').map(Number);
    const refused = await patch(location, bytes.subarray(0, end - start + 1), range);
    expect(refused.headers.get('range')).toBe('0-99');
    await expectError(refused, 416, 'BLOB_UPLOAD_INVALID', /holds 100 bytes/);

    const status = await adminFetch(location);
    expect(status.headers.get('range')).toBe('0-99');
    expect((await patch(location, bytes.subarray(100), '100-199')).status).toBe(202);
    const digest = sha256(bytes);
    expect((await adminFetch(withDigest(location, digest), { method: 'PUT' })).status).toBe(201);
    await expectBlob(name, digest, bytes);
  });

  it('accepts Content-Range with a bytes prefix and a total', async () => {
    const bytes = randomBlob(20);
    const location = await startUpload(registry.url, name);
    const response = await patch(location, bytes, 'bytes 0-19/20');
    expect(response.status).toBe(202);
    expect(response.headers.get('range')).toBe('0-19');
  });

  it('appends streamed PATCH bodies that carry no Content-Range', async () => {
    const pieces = [randomBlob(1500), randomBlob(10), randomBlob(4000)];
    const location = await startUpload(registry.url, name);
    const first = await adminFetch(location, { method: 'PATCH', ...streamed(pieces[0] as Buffer) });
    expect(first.status).toBe(202);
    expect(first.headers.get('range')).toBe('0-1499');
    const second = await adminFetch(next(first), {
      method: 'PATCH',
      ...streamed(pieces[1] as Buffer, pieces[2] as Buffer),
    });
    expect(second.status).toBe(202);
    expect(second.headers.get('range')).toBe('0-5509');
    const bytes = Buffer.concat(pieces);
    const put = await adminFetch(withDigest(next(second), sha256(bytes)), { method: 'PUT' });
    expect(put.status).toBe(201);
    await expectBlob(name, sha256(bytes), bytes);
  });

  it('takes the last chunk in the finishing PUT, with or without Content-Range', async () => {
    for (const range of ['600-999', undefined]) {
      const bytes = randomBlob(1000);
      const location = await startUpload(registry.url, name);
      expect((await patch(location, bytes.subarray(0, 600), '0-599')).status).toBe(202);
      const put = await adminFetch(withDigest(location, sha256(bytes)), {
        method: 'PUT',
        headers: range === undefined ? {} : { 'Content-Range': range },
        body: bytes.subarray(600),
      });
      expect(put.status).toBe(201);
      await expectBlob(name, sha256(bytes), bytes);
    }
  });

  it('refuses a last chunk in the PUT that does not follow the stored bytes with 416', async () => {
    const bytes = randomBlob(100);
    const location = await startUpload(registry.url, name);
    expect((await patch(location, bytes.subarray(0, 50), '0-49')).status).toBe(202);
    const put = await adminFetch(withDigest(location, sha256(bytes)), {
      method: 'PUT',
      headers: { 'Content-Range': '60-109' },
      body: bytes.subarray(50),
    });
    expect(put.headers.get('range')).toBe('0-49');
    await expectError(put, 416, 'BLOB_UPLOAD_INVALID');
  });

  it('stores a sha512 blob uploaded in chunks', async () => {
    const bytes = randomBlob(64);
    const location = await startUpload(registry.url, name);
    expect((await patch(location, bytes.subarray(0, 32), '0-31')).status).toBe(202);
    expect((await patch(location, bytes.subarray(32), '32-63')).status).toBe(202);
    const put = await adminFetch(withDigest(location, sha512(bytes)), { method: 'PUT' });
    expect(put.status).toBe(201);
    await expectBlob(name, sha512(bytes), bytes);
  });

  it('keeps a session open after a wrong digest, so the right one still completes it', async () => {
    const bytes = randomBlob(10);
    const location = await startUpload(registry.url, name);
    expect((await patch(location, bytes, '0-9')).status).toBe(202);
    const wrong = await adminFetch(withDigest(location, sha256('wrong')), { method: 'PUT' });
    await expectError(wrong, 400, 'DIGEST_INVALID');
    expect((await adminFetch(withDigest(location, sha256(bytes)), { method: 'PUT' })).status).toBe(201);
  });
});

describe('upload sessions', () => {
  it('cancels an upload with DELETE (204), after which the session is unknown', async () => {
    const location = await startUpload(registry.url, name);
    expect((await patch(location, randomBlob(10), '0-9')).status).toBe(202);
    const cancelled = await adminFetch(location, { method: 'DELETE' });
    expect(cancelled.status).toBe(204);
    await expectError(await adminFetch(location), 404, 'BLOB_UPLOAD_UNKNOWN', /unknown/);
    await expectError(await patch(location, randomBlob(1), '10-10'), 404, 'BLOB_UPLOAD_UNKNOWN');
    await expectError(await adminFetch(location, { method: 'DELETE' }), 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('closes the session once the blob is stored', async () => {
    const bytes = randomBlob(10);
    const location = await startUpload(registry.url, name);
    expect(
      (await adminFetch(withDigest(location, sha256(bytes)), { method: 'PUT', body: bytes })).status,
    ).toBe(201);
    await expectError(await adminFetch(location), 404, 'BLOB_UPLOAD_UNKNOWN');
    const again = await adminFetch(withDigest(location, sha256(bytes)), { method: 'PUT', body: bytes });
    await expectError(again, 404, 'BLOB_UPLOAD_UNKNOWN');
  });

  it('stores a blob pushed twice once, and serves it from both pushes', async () => {
    const bytes = randomBlob(300);
    const first = await pushBlob(registry.url, name, bytes);
    const second = await pushBlob(registry.url, 'uploads/push/copy', bytes);
    expect(second).toBe(first);
    await expectBlob(name, first, bytes);
    await expectBlob('uploads/push/copy', first, bytes);
  });
});

describe('cross-repository mount', () => {
  const source = 'uploads/mount/source';
  const target = 'uploads/mount/target';
  const mount = (digest: string, from?: string) =>
    adminFetch(
      `${registry.url}/v2/${target}/blobs/uploads/?mount=${digest}${from === undefined ? '' : `&from=${from}`}`,
      { method: 'POST' },
    );

  it('mounts a blob the source holds with 201, Location and Docker-Content-Digest', async () => {
    const bytes = randomBlob(400);
    const digest = await pushBlob(registry.url, source, bytes);
    await expectError(await adminFetch(`${registry.url}/v2/${target}/blobs/${digest}`), 404, 'NAME_UNKNOWN');
    const response = await mount(digest, source);
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/v2/${target}/blobs/${digest}`);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    await expectBlob(target, digest, bytes);
  });

  it('mounts sha512 blobs', async () => {
    const bytes = randomBlob(50);
    const digest = sha512(bytes);
    const put = await adminFetch(withDigest(await startUpload(registry.url, source), digest), {
      method: 'PUT',
      body: bytes,
    });
    expect(put.status).toBe(201);
    expect((await mount(digest, source)).status).toBe(201);
    await expectBlob(target, digest, bytes);
  });

  it.each([
    ['the source repository does not exist', () => 'uploads/mount/nowhere'],
    ['the source does not hold the blob', () => 'uploads/mount/source'],
    ['no source is named', () => undefined],
    ['the source name is invalid', () => 'Not/A/Name'],
  ])('falls back to a new upload session (202) when %s', async (_, from) => {
    const bytes = randomBlob(30);
    const digest = sha256(bytes);
    await pushBlob(registry.url, 'uploads/mount/elsewhere', bytes);
    const response = await mount(digest, from());
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toMatch(
      new RegExp(`^/v2/${target}/blobs/uploads/${uuid.source}$`),
    );
    expect(response.headers.get('docker-content-digest')).toBeNull();
    await expectError(await adminFetch(`${registry.url}/v2/${target}/blobs/${digest}`), 404, 'BLOB_UNKNOWN');
    // The session it opened is a real one: the blob can be uploaded through it.
    const put = await adminFetch(withDigest(next(response), digest), { method: 'PUT', body: bytes });
    expect(put.status).toBe(201);
    await expectBlob(target, digest, bytes);
  });

  it('refuses a mount whose digest is malformed with DIGEST_INVALID', async () => {
    await expectError(await mount('sha256:nothex', source), 400, 'DIGEST_INVALID', /sha256:nothex/);
  });
});

describe('a full disk', () => {
  // A disk fills up only under the filesystem store, whichever store the other suites run on.
  let onDisk: TestRegistry;
  beforeAll(async () => {
    onDisk = await startTestRegistry({ autoCreateRepositories: true, blobs: {} });
  });
  afterAll(() => onDisk.close());

  it('answers 507 with a message that names the cause, and the registry keeps serving', async () => {
    const location = await startUpload(onDisk.url, name);
    const id = new URL(location).pathname.split('/').pop() as string;
    // /dev/full fails every write with ENOSPC, as a full disk does.
    const uploadFile = join(onDisk.dataDir, 'uploads', id);
    await unlink(uploadFile);
    await symlink('/dev/full', uploadFile);

    // Smaller than one write batch, so the failure comes once the whole body is read and the answer
    // reaches the client (a failure mid-body closes the connection instead).
    const response = await patch(location, randomBlob(512 * 1024));
    await expectError(response, 507, 'UNKNOWN', /storage is full/);

    const bytes = randomBlob(1024);
    expect(await pushBlob(onDisk.url, name, bytes)).toBe(sha256(bytes));
  });
});
