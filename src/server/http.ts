import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, RegistryError } from '../errors/registry-error.js';

export type Headers = Record<string, string | number>;

export function send(res: ServerResponse, status: number, headers: Headers, body?: string | Buffer): void {
  res.writeHead(status, headers);
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Headers = {}): void {
  const body = JSON.stringify(value);
  send(
    res,
    status,
    { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers },
    body,
  );
}

/** Renders a registry error; HEAD responses carry the status and headers only. */
export function sendError(req: IncomingMessage, res: ServerResponse, error: RegistryError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorBody(error);
  const headers: Headers = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...error.headers,
  };
  // A request body nobody read would otherwise be drained before the connection can be reused.
  if (!req.complete) headers.Connection = 'close';
  send(res, error.status, headers, req.method === 'HEAD' ? undefined : body);
}

/**
 * Whether the request's `If-None-Match` names `etag` (or is `*`): the client already holds this
 * content, so the answer is 304 Not Modified (RFC 9110 §13.1.2, weak comparison).
 */
export function notModified(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const candidate = tag.trim().replace(/^W\//, '');
    return candidate === '*' || candidate === etag;
  });
}

export function contentLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined) return undefined;
  const length = Number(header);
  if (!/^\d+$/.test(header) || !Number.isSafeInteger(length)) {
    throw new RegistryError('SIZE_INVALID', `invalid Content-Length "${header}"`);
  }
  return length;
}

/** True when the request carries a body (a length above zero, or chunked transfer encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = contentLength(req);
  return length === undefined ? req.headers['transfer-encoding'] !== undefined : length > 0;
}

/**
 * The request body as chunks. Leaving the loop early (a refusal, a full disk) must not destroy the
 * request, as a plain `for await` over it would: that closes the connection before the answer is sent.
 */
export function bodyChunks(req: IncomingMessage): AsyncIterable<Buffer> {
  return req.iterator({ destroyOnReturn: false });
}

/** Reads a small body whole, refusing it as soon as it grows past `limit` bytes. */
export async function readLimited(req: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const tooLarge = (size: number) =>
    new RegistryError('SIZE_INVALID', `${what} is ${size} bytes or more; the limit is ${limit}`, {
      status: 413,
    });
  const declared = contentLength(req);
  if (declared !== undefined && declared > limit) throw tooLarge(declared);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of bodyChunks(req)) {
    size += chunk.length;
    if (size > limit) throw tooLarge(size);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

const maxFormBytes = 64 * 1024;

/** Reads an `application/x-www-form-urlencoded` body (OAuth requests, HTML forms). */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      'expected a form body (Content-Type: application/x-www-form-urlencoded)',
      {
        status: 415,
      },
    );
  }
  return new URLSearchParams((await readLimited(req, maxFormBytes, 'form')).toString('utf8'));
}
