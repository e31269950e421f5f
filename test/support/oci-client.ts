import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { expect } from 'vitest';
import { adminFetch, adminTokenFor } from './admin-session.js';
import { type ParsedReply, parseReply, replyError } from './raw-connection.js';

/** Minimal raw-HTTP helpers for driving the registry in tests: the real protocol, no client library. */

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function randomBlob(size: number): Buffer {
  return randomBytes(size);
}

/** Monolithic upload with `POST ?digest=`. */
export async function pushBlob(url: string, name: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes);
  const response = await adminFetch(`${url}/v2/${name}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: bytes,
  });
  if (response.status !== 201)
    throw new Error(`blob push failed: ${response.status} ${await response.text()}`);
  return digest;
}

export interface PushedImage {
  readonly digest: string;
  readonly manifest: Buffer;
  readonly config: string;
  readonly layers: string[];
}

/** Pushes a config, the given layers and an OCI image manifest; tags it when `tag` is given. */
export async function pushImage(
  url: string,
  name: string,
  tag: string | undefined,
  layerSizes: number[] = [1024],
  extra: Record<string, unknown> = {},
): Promise<PushedImage> {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' } }),
  );
  const configDigest = await pushBlob(url, name, config);
  const layers: { digest: string; size: number }[] = [];
  for (const size of layerSizes) {
    layers.push({ digest: await pushBlob(url, name, randomBlob(size)), size });
  }
  const manifest = imageManifest({ digest: configDigest, size: config.length }, layers, extra);
  const digest = sha256(manifest);
  const response = await adminFetch(`${url}/v2/${name}/manifests/${tag ?? digest}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    body: manifest,
  });
  if (response.status !== 201)
    throw new Error(`manifest push failed: ${response.status} ${await response.text()}`);
  return { digest, manifest, config: configDigest, layers: layers.map((l) => l.digest) };
}

/** The first OCI error code of a response body. */
export async function errorCode(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}

export function sha512(bytes: Uint8Array | string): string {
  return `sha512:${createHash('sha512').update(bytes).digest('hex')}`;
}

/** Media types the tests push, spelled once. */
export const types = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
  urls?: string[];
}

export function descriptor(mediaType: string, bytes: Buffer, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.length, ...extra };
}

/** The OCI empty descriptor's content: `{}`, used as the config of artifacts that need none. */
export const emptyJson = Buffer.from('{}');

/** Serialises a manifest document exactly once, so its digest is that of the bytes sent. */
export function manifestBytes(document: unknown): Buffer {
  return Buffer.from(JSON.stringify(document));
}

export function putManifest(
  url: string,
  name: string,
  reference: string,
  body: Buffer | string,
  /** `null` sends no Content-Type at all. */
  contentType: string | null = types.ociManifest,
): Promise<Response> {
  return adminFetch(`${url}/v2/${name}/manifests/${reference}`, {
    method: 'PUT',
    headers: contentType === null ? {} : { 'Content-Type': contentType },
    // As bytes: fetch would label a string body text/plain.
    body: Buffer.from(body),
  });
}

/** PUTs a manifest and fails the test unless the registry stored it; returns its digest. */
export async function pushManifest(
  url: string,
  name: string,
  reference: string,
  body: Buffer,
  contentType: string = types.ociManifest,
): Promise<string> {
  const response = await putManifest(url, name, reference, body, contentType);
  if (response.status !== 201)
    throw new Error(`manifest push failed: ${response.status} ${await response.text()}`);
  return sha256(body);
}

/** The bytes of an OCI image manifest over a config and gzip layers already pushed. */
export function imageManifest(
  config: { digest: string; size: number },
  layers: readonly { digest: string; size: number }[],
  extra: Record<string, unknown> = {},
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layers.map((layer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer })),
      ...extra,
    }),
  );
}

/** `POST /blobs/uploads/`: returns the absolute upload URL the registry handed out. */
export async function startUpload(url: string, name: string): Promise<string> {
  const response = await adminFetch(`${url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  if (response.status !== 202) throw new Error(`upload start failed: ${response.status}`);
  return new URL(response.headers.get('location') ?? '', url).href;
}

/** Adds `digest=` to an upload location, keeping whatever query it already carries. */
export function withDigest(location: string, digest: string): string {
  const target = new URL(location);
  target.searchParams.set('digest', digest);
  return target.href;
}

/** Checks an OCI error response: its status, its code, and that the message says what was wrong. */
export async function expectError(
  response: Response,
  status: number,
  code: string,
  message?: RegExp,
): Promise<void> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
  const body = JSON.parse(text) as { errors: { code: string; message: string }[] };
  expect(body.errors[0]?.code, text).toBe(code);
  expect(body.errors[0]?.message.length).toBeGreaterThan(0);
  if (message) expect(body.errors[0]?.message).toMatch(message);
}

/** A response read off a raw socket. */
export type RawResponse = ParsedReply;

/**
 * Sends a request exactly as written, over a plain socket: no URL normalisation, no header
 * checks, so paths with `..` or `%2F` and malformed headers reach the server untouched.
 */
export function rawHttp(url: string, head: string, body: Buffer | string = ''): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => resolve(parseReply(Buffer.concat(chunks).toString('utf8'))));
    const token = adminTokenFor(url);
    const authorization =
      token && !/^authorization:/im.test(head) ? `Authorization: Bearer ${token}\r\n` : '';
    // A head that brings its own Host (a test of Host handling) keeps it alone.
    const host = /^host:/im.test(head) ? '' : `Host: ${hostname}:${port}\r\n`;
    socket.write(
      `${head.replace(/\r?\n/g, '\r\n').trim()}\r\n${host}${authorization}Connection: close\r\n\r\n`,
    );
    // Not end(): a half-closed socket makes the server drop a request still being authenticated.
    socket.write(body);
  });
}

/** The first OCI error of a raw response. */
export const rawError = replyError;

/** Follows `Link: <…>; rel="next"` from `path` to the last page; returns each page's items. */
export async function followPages(url: string, path: string, field: 'tags' | 'repositories') {
  const pages: string[][] = [];
  let next: string | undefined = path;
  while (next !== undefined) {
    const response = await adminFetch(new URL(next, url));
    expect(response.status).toBe(200);
    pages.push(((await response.json()) as Record<string, string[]>)[field] ?? []);
    const link = response.headers.get('link');
    if (link === null) break;
    const match = /^<([^>]+)>;\s*rel="next"$/.exec(link);
    expect(match, `Link header ${link}`).not.toBeNull();
    next = match?.[1];
    if (pages.length > 1000) throw new Error('pagination does not end');
  }
  return pages;
}

/** Checks an image is still served as pushed: its manifest by tag and digest, its blobs, byte for byte. */
export async function expectImageIntact(url: string, name: string, tag: string, image: PushedImage) {
  for (const reference of [tag, image.digest]) {
    const response = await adminFetch(`${url}/v2/${name}/manifests/${reference}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-content-digest')).toBe(image.digest);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(image.manifest);
  }
  for (const digest of [image.config, ...image.layers]) {
    const response = await adminFetch(`${url}/v2/${name}/blobs/${digest}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('docker-content-digest')).toBe(digest);
    expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(digest);
  }
}
