import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Commands } from '../../src/storage/s3/s3-client.js';
import { adminFetch } from '../support/admin-session.js';
import { sha256 } from '../support/oci-client.js';
import { buildImage, readOciLayout, tarGzLayer, writeOciLayout } from '../support/oci-layout.js';
import { type Daemon, startDaemon } from '../support/registry.js';
import {
  prefixFor,
  releaseS3Server,
  type S3Server,
  s3Client,
  s3Env,
  s3Settings,
  useS3Server,
} from '../support/s3.js';
import { pullLayout, pushLayout } from '../support/skopeo.js';
import { tempDir } from '../support/temp.js';

const mebibyte = 1024 * 1024;
const name = 'proj/repo/on-s3';

/**
 * `mistrive serve` with `blobs.s3` pointing at a real S3 server (Ceph RGW), driven by skopeo and by
 * a raw client sending 1 MiB chunks, through a kill -9 and a restart.
 */
describe('a daemon keeping its blobs in S3', { timeout: 240_000 }, () => {
  let server: S3Server;
  let s3: S3Commands;
  let work: Awaited<ReturnType<typeof tempDir>>;
  let dataDir: string;
  let prefix: string;
  let daemon: Daemon | undefined;

  /** Starts the daemon on the bucket, with `extra` settings of `blobs.s3`. */
  async function serve(extra: Record<string, unknown> = {}): Promise<Daemon> {
    const config = join(work.path, `serve-${randomBytes(4).toString('hex')}.json`);
    await writeFile(config, JSON.stringify({ blobs: { s3: { ...s3Settings(server, prefix), ...extra } } }));
    return startDaemon(dataDir, ['--auto-create-repositories', '--config', config], s3Env(server));
  }

  async function keysUnder(path: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const object of s3.list(`${prefix}${path}`))
      keys.push((object.Key ?? '').slice(prefix.length));
    return keys;
  }

  beforeAll(async () => {
    server = await useS3Server();
    s3 = await s3Client(server);
    work = await tempDir('mistrive-e2e-s3-');
    dataDir = join(work.path, 'data');
    prefix = prefixFor(dataDir);
    daemon = await serve();
  });
  afterAll(async () => {
    await daemon?.stop();
    await work?.remove();
    await releaseS3Server();
  });

  it('takes a skopeo push and gives it back unchanged; blobs are objects under content-addressed keys', async () => {
    const running = daemon as Daemon;
    const image = buildImage([
      await tarGzLayer({ 'etc/os-release': 'NAME="on S3"\n' }),
      // Incompressible and over S3's 5 MiB part minimum: committed as a multipart object.
      await tarGzLayer({ 'srv/data.bin': randomBytes(7 * mebibyte) }, 1),
    ]);
    const source = join(work.path, 'source');
    await writeOciLayout(source, 'v1', image);
    await pushLayout(running.url, source, 'v1', name);

    const copy = join(work.path, 'copy');
    await pullLayout(running.url, name, 'v1', copy);
    const pulled = await readOciLayout(copy, 'v1');
    expect(pulled.root.digest).toBe(image.manifest.descriptor.digest);
    for (const layer of image.layers) {
      expect(pulled.blobs.get(layer.descriptor.digest)?.equals(layer.bytes)).toBe(true);
    }
    const blobKeys = await keysUnder('blobs/');
    for (const blob of [image.manifest, image.config, ...image.layers]) {
      const hex = blob.descriptor.digest.slice('sha256:'.length);
      expect(blobKeys).toContain(`blobs/sha256/${hex.slice(0, 2)}/${hex}`);
    }
    // Finished uploads leave nothing staged.
    expect(await keysUnder('uploads/')).toEqual([]);
  });

  it('keeps every acknowledged 1 MiB chunk through kill -9, and finishes the upload after a restart', async () => {
    const body = randomBytes(9 * mebibyte + 12_345);
    const digest = sha256(body);
    const started = await adminFetch(`${(daemon as Daemon).url}/v2/${name}/blobs/uploads/`, {
      method: 'POST',
    });
    expect(started.status).toBe(202);
    const path = new URL(started.headers.get('location') ?? '', (daemon as Daemon).url).pathname;

    const sendChunks = async (url: string, from: number, to: number) => {
      for (let at = from; at < to; at += mebibyte) {
        const chunk = body.subarray(at, Math.min(at + mebibyte, to));
        const response = await adminFetch(`${url}${path}`, {
          method: 'PATCH',
          headers: {
            'Content-Type': 'application/octet-stream',
            'Content-Range': `${at}-${at + chunk.length - 1}`,
          },
          body: chunk,
        });
        expect(response.status).toBe(202);
        expect(response.headers.get('range')).toBe(`0-${at + chunk.length - 1}`);
      }
    };
    const acknowledged = 5 * mebibyte;
    await sendChunks((daemon as Daemon).url, 0, acknowledged);
    // Each chunk is its own staged object until the commit joins them.
    expect((await keysUnder('uploads/')).filter((key) => key.includes('/parts/'))).toHaveLength(5);
    await (daemon as Daemon).kill();

    // A new process: the running digest is gone and is rebuilt from the staged objects.
    daemon = await serve();
    const status = await adminFetch(`${daemon.url}${path}`);
    expect(status.status).toBe(204);
    expect(status.headers.get('range')).toBe(`0-${acknowledged - 1}`);
    await sendChunks(daemon.url, acknowledged, body.length);
    const done = await adminFetch(`${daemon.url}${path}?digest=${digest}`, { method: 'PUT' });
    expect(done.status).toBe(201);

    const pulled = await adminFetch(`${daemon.url}/v2/${name}/blobs/${digest}`);
    expect(pulled.status).toBe(200);
    expect(sha256(Buffer.from(await pulled.arrayBuffer()))).toBe(digest);
    expect(await keysUnder('uploads/')).toEqual([]);
  });

  it('refuses a digest that does not match the chunks, and keeps no blob for it', async () => {
    const running = daemon as Daemon;
    const body = randomBytes(2 * mebibyte);
    const wrong = sha256(Buffer.from('something else'));
    const started = await adminFetch(`${running.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
    const location = new URL(started.headers.get('location') ?? '', running.url).href;
    const put = await adminFetch(`${location}?digest=${wrong}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body,
    });
    expect(put.status).toBe(400);
    expect(((await put.json()) as { errors: { code: string }[] }).errors[0]?.code).toBe('DIGEST_INVALID');
    const hex = wrong.slice('sha256:'.length);
    expect(await s3.size(`${prefix}blobs/sha256/${hex.slice(0, 2)}/${hex}`)).toBeUndefined();
  });

  it('redirects blob GETs to a presigned URL when blobs.s3.redirect is on', async () => {
    await (daemon as Daemon).stop();
    daemon = await serve({ redirect: true });
    const body = randomBytes(300_000);
    const digest = sha256(body);
    const put = await adminFetch(`${daemon.url}/v2/${name}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body,
    });
    expect(put.status).toBe(201);
    const answer = await adminFetch(`${daemon.url}/v2/${name}/blobs/${digest}`, { redirect: 'manual' });
    expect(answer.status).toBe(307);
    const location = answer.headers.get('location') ?? '';
    expect(location.startsWith(`${server.endpoint}/`)).toBe(true);
    const direct = await fetch(location, { headers: { Range: 'bytes=0-9' } });
    expect(direct.status).toBe(206);
    expect(Buffer.from(await direct.arrayBuffer()).equals(body.subarray(0, 10))).toBe(true);
    // HEAD is still answered by the registry itself.
    const head = await adminFetch(`${daemon.url}/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(body.length));
    // The daemon's log never carries the credentials.
    expect(daemon.stderr()).not.toContain(server.secretKey);
  });
});
