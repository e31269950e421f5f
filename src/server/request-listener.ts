import { type IncomingMessage, type RequestListener, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { errorBody, RegistryError } from '../errors/registry-error.js';
import { clientFacingError } from '../errors/storage-full.js';
import type { Logger } from '../lib/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { routeFamily } from '../metrics/route-families.js';
import { assertValidHost } from './host-header.js';
import { sendError } from './http.js';
import { clientAddress, identifyClient, principalOf, TrustedProxies } from './request-identity.js';
import { matchRoute, type Route } from './router.js';

/** Headers every registry response carries. */
const commonHeaders = { 'Docker-Distribution-API-Version': 'registry/2.0' };

/**
 * Dispatches a request through the route table. Typed errors become the OCI error body; anything
 * else is logged with its stack and answered as a 500 that reveals nothing.
 */
export function createRequestListener(
  routes: readonly Route[],
  logger: Logger,
  proxies: TrustedProxies = new TrustedProxies([]),
  metrics?: Metrics,
): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const { socket } = req;
    let family = routeFamily(undefined);
    identifyClient(req, proxies);
    // Servers must accept the absolute form `GET http://host/v2/` (RFC 9112 §3.2.2); only its path counts.
    const url = (req.url ?? '/').replace(/^https?:\/\/[^/?#]*/i, '');
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    const query = new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1));
    for (const [header, value] of Object.entries(commonHeaders)) res.setHeader(header, value);

    res.on('close', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      metrics?.requestFinished({
        family,
        method: req.method ?? 'GET',
        status: res.statusCode,
        seconds: ms / 1000,
        ...trafficSinceLastResponse(socket),
      });
      logger.info(
        {
          method: req.method,
          path,
          status: res.statusCode,
          client: clientAddress(req),
          principal: principalOf(req),
          ms,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });

    // The route is matched before the first await of `dispatch`: its family is known from here on.
    const handled = dispatch(routes, { req, res, path, query }, (route) => {
      family = routeFamily(route.name);
    });
    metrics?.requestStarted(family);
    handled.catch((error: unknown) => {
      const known = clientFacingError(error);
      if (known) {
        if (known.status === 507) logger.error({ err: error, method: req.method, path }, 'storage full');
        sendError(req, res, known);
      } else if (isClientGone(error, req)) {
        res.destroy();
      } else {
        logger.error({ err: error, method: req.method, path }, 'request failed');
        sendError(
          req,
          res,
          new RegistryError('UNKNOWN', 'internal server error; the registry log has the details'),
        );
      }
    });
  };
}

/** What each connection had read and written when its last response ended. */
const countedTraffic = new WeakMap<Socket, { read: number; written: number }>();

/**
 * A request's traffic: what its connection read and wrote since the previous response on it ended.
 * Node reads ahead of the request event (headers and the start of a body), so counting from there
 * would miss bytes; counting from response to response puts every byte of a connection on one request.
 */
function trafficSinceLastResponse(socket: Socket): { bytesIn: number; bytesOut: number } {
  const before = countedTraffic.get(socket) ?? { read: 0, written: 0 };
  const now = { read: socket.bytesRead, written: socket.bytesWritten };
  countedTraffic.set(socket, now);
  return { bytesIn: now.read - before.read, bytesOut: now.written - before.written };
}

/** Runs the route the request names; every refusal comes back as a rejected promise. */
async function dispatch(
  routes: readonly Route[],
  {
    req,
    res,
    path,
    query,
  }: { req: IncomingMessage; res: ServerResponse; path: string; query: URLSearchParams },
  matched: (route: Route) => void,
): Promise<void> {
  if (req.headers.host === undefined && req.httpVersion !== '1.0') {
    throw new RegistryError('UNSUPPORTED', 'the request has no Host header, which HTTP/1.1 requires', {
      status: 400,
      headers: { Connection: 'close' },
    });
  }
  assertValidHost(req);
  const match = matchRoute(routes, req.method ?? 'GET', path);
  if (match.kind !== 'not-found') matched(match.route);
  if (match.kind === 'found') return match.operation.handler({ req, res, params: match.params, query });
  if (match.kind === 'method-not-allowed') {
    res.setHeader('Allow', Object.keys(match.route.methods).join(', '));
    throw new RegistryError('UNSUPPORTED', `${req.method} is not supported on ${path}`, { status: 405 });
  }
  throw new RegistryError('UNSUPPORTED', `no endpoint at ${path}`, { status: 404 });
}

/** A client that hung up mid-request is not a server failure. */
function isClientGone(error: unknown, req: IncomingMessage): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // The socket, not the request: a request stream is destroyed as soon as its body has been read whole.
  // A destroyed request has no socket left at all.
  return (
    !req.socket ||
    req.socket.destroyed ||
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'EPIPE'
  );
}

/**
 * Answers requests Node's HTTP parser refuses before any route sees them (a malformed
 * Content-Length, a broken header line, headers that did not arrive in time) with the OCI error
 * body rather than a bare 400.
 */
export function answerMalformedRequest(error: NodeJS.ErrnoException, stream: Duplex): void {
  refuseConnection(stream as Socket, refusalFor(error));
}

/**
 * Writes an OCI error straight to a connection that has no request object to answer through, and
 * closes it. Bytes already written mean a response is under way: appending another would corrupt it.
 */
export function refuseConnection(socket: Socket, refusal: RegistryError): void {
  if (socket.writable && socket.bytesWritten === 0) {
    const body = errorBody(refusal);
    const headers = {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      ...commonHeaders,
      ...refusal.headers,
      Connection: 'close',
    };
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.end(`HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}\r\n${head.join('')}\r\n${body}`);
  }
  socket.destroySoon();
}

/** `CONNECT` asks for a tunnel: a registry is not a proxy. */
export function refuseConnect(req: IncomingMessage, socket: Duplex): void {
  refuseConnection(
    socket as Socket,
    new RegistryError(
      'UNSUPPORTED',
      `CONNECT ${(req.url ?? '').slice(0, 200)} is not supported: this is a registry, not a proxy`,
      {
        status: 405,
      },
    ),
  );
}

/** An `Expect` other than `100-continue` (RFC 9110 §10.1.1) cannot be met: 417 says which one. */
export function refuseExpectation(req: IncomingMessage, res: ServerResponse): void {
  for (const [header, value] of Object.entries(commonHeaders)) res.setHeader(header, value);
  const expectation = String(req.headers.expect).slice(0, 100);
  sendError(
    req,
    res,
    new RegistryError('UNSUPPORTED', `Expect: ${expectation} is not supported; only 100-continue is`, {
      status: 417,
    }),
  );
}

function refusalFor(error: NodeJS.ErrnoException & { reason?: string }): RegistryError {
  switch (error.code) {
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return new RegistryError(
        'SIZE_INVALID',
        'invalid Content-Length: expected one whole number of bytes, and no Transfer-Encoding beside it',
      );
    case 'HPE_HEADER_OVERFLOW':
      return new RegistryError('SIZE_INVALID', 'request headers are too large', { status: 431 });
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new RegistryError('UNKNOWN', 'the request did not arrive in time', { status: 408 });
    default:
      return new RegistryError('UNSUPPORTED', `malformed HTTP request: ${error.reason ?? error.message}`, {
        status: 400,
      });
  }
}
