import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Agent, type IncomingMessage, request } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { RegistryAuth } from './registry-auth.js';

/**
 * A minimal OCI push/pull client on node:http, the same for every server measured, so that
 * client costs cancel out in the ratios. Bodies stream; nothing large is buffered.
 */

const fileReadChunkBytes = 1024 * 1024;

export type Body = Buffer | { readonly file: string; readonly size: number };

type HeaderMap = Record<string, string | number>;

interface Exchange {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

function bodyLength(body: Body): number {
  return Buffer.isBuffer(body) ? body.length : body.size;
}

/** Sends a request; resolves with the response as soon as its headers arrive. */
function send(
  agent: Agent,
  method: string,
  url: URL,
  headers: HeaderMap,
  body?: Body,
): Promise<{ response: IncomingMessage; sent: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent, headers });
    req.once('error', reject);
    let sent: Promise<void> = Promise.resolve();
    req.once('response', (response) => resolve({ response, sent }));
    if (body === undefined) {
      req.end();
    } else if (Buffer.isBuffer(body)) {
      req.end(body);
    } else {
      sent = pipeline(createReadStream(body.file, { highWaterMark: fileReadChunkBytes }), req);
      sent.catch(reject);
    }
  });
}

/** A request whose response body is small enough to read whole. */
async function call(
  agent: Agent,
  method: string,
  url: URL,
  headers: HeaderMap,
  body?: Body,
): Promise<Exchange> {
  const { response, sent } = await send(agent, method, url, headers, body);
  const chunks: Buffer[] = [];
  for await (const chunk of response as AsyncIterable<Buffer>) chunks.push(chunk);
  await sent;
  return { status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) };
}

function expectStatus(what: string, result: Exchange, status: number): void {
  if (result.status !== status) {
    const detail = result.body.toString().slice(0, 300);
    throw new Error(`${what}: expected HTTP ${status}, got ${result.status} ${detail}`);
  }
}

/**
 * A single `PUT ?digest=` of the whole body to `url`; the server must report the same digest.
 * Used for the final PUT of an upload, and alone for the bare server.
 */
export async function putWhole(
  agent: Agent,
  url: URL,
  digest: string,
  body: Body,
  headers: HeaderMap = {},
): Promise<void> {
  const target = new URL(url);
  target.searchParams.set('digest', digest);
  const result = await call(
    agent,
    'PUT',
    target,
    { ...headers, 'Content-Type': 'application/octet-stream', 'Content-Length': bodyLength(body) },
    body,
  );
  expectStatus(`finishing the upload of ${digest}`, result, 201);
  const stored = result.headers['docker-content-digest'];
  if (stored !== digest) throw new Error(`the server stored ${String(stored)}, not ${digest}`);
}

export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets });
}

/** One client's connections to one registry, authorized as that registry asks. */
export class RegistryClient {
  private readonly agent: Agent;

  constructor(
    private readonly base: string,
    private readonly auth: RegistryAuth,
    maxSockets = 1,
  ) {
    this.agent = keepAliveAgent(maxSockets);
  }

  close(): void {
    this.agent.destroy();
  }

  /** POST, then one streamed `PUT ?digest=`: what clients do for a blob they have whole. */
  async pushBlob(name: string, digest: string, body: Body): Promise<void> {
    const authorization = await this.auth.headers(name);
    const started = await call(this.agent, 'POST', this.url(`/v2/${name}/blobs/uploads/`), {
      ...authorization,
      'Content-Length': 0,
    });
    expectStatus(`starting an upload to ${name}`, started, 202);
    const location = started.headers.location;
    if (!location) throw new Error(`starting an upload to ${name}: no Location header`);
    await putWhole(this.agent, new URL(location, this.base), digest, body, authorization);
  }

  /** `GET` a blob, hashing the bytes and throwing them away; returns how many arrived. */
  async pullBlob(name: string, digest: string): Promise<number> {
    const { response } = await send(this.agent, 'GET', this.url(`/v2/${name}/blobs/${digest}`), {
      ...(await this.auth.headers(name)),
    });
    if (response.statusCode !== 200) {
      response.resume();
      throw new Error(`pulling ${digest}: HTTP ${response.statusCode}`);
    }
    const hash = createHash('sha256');
    let size = 0;
    // 'data' events rather than async iteration: at gigabytes per second the per-chunk promise shows.
    await new Promise<void>((resolve, reject) => {
      response.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
      });
      response.once('end', resolve);
      response.once('error', reject);
      response.once('aborted', () => reject(new Error(`pulling ${digest}: the server hung up`)));
    });
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) throw new Error(`pulled ${actual}, expected ${digest}`);
    return size;
  }

  async putManifest(name: string, reference: string, mediaType: string, bytes: Buffer): Promise<void> {
    const result = await call(
      this.agent,
      'PUT',
      this.url(`/v2/${name}/manifests/${reference}`),
      { ...(await this.auth.headers(name)), 'Content-Type': mediaType, 'Content-Length': bytes.length },
      bytes,
    );
    expectStatus(`putting manifest ${name}:${reference}`, result, 201);
  }

  async getManifest(name: string, reference: string, mediaType: string): Promise<Buffer> {
    const result = await call(this.agent, 'GET', this.url(`/v2/${name}/manifests/${reference}`), {
      ...(await this.auth.headers(name)),
      Accept: mediaType,
    });
    expectStatus(`getting manifest ${name}:${reference}`, result, 200);
    return result.body;
  }

  private url(path: string): URL {
    return new URL(path, this.base);
  }
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Runs `use` with a client of `server` for `name`, its token fetched before (a client holds one from
 * its earlier requests, so it is not part of any timing), and its connections closed after.
 */
export async function withClient<T>(
  server: { readonly url: string; readonly auth: RegistryAuth },
  name: string,
  use: (client: RegistryClient) => Promise<T>,
  concurrency = 1,
): Promise<T> {
  await server.auth.headers(name);
  const client = new RegistryClient(server.url, server.auth, concurrency);
  try {
    return await use(client);
  } finally {
    client.close();
  }
}
