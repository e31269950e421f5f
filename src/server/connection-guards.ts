import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { HttpConfig } from '../config/config.js';
import { RegistryError } from '../errors/registry-error.js';
import type { Logger } from '../lib/logger.js';
import type { RateLimitRefused } from '../metrics/metrics.js';
import { refuseConnection } from './request-listener.js';

/**
 * The limits that keep slow and stalled clients from holding the daemon's sockets (slowloris):
 * the headers timeout (Node's, set where the server is created), the idle keep-alive timeout, an
 * inactivity timeout on bodies and on responses nobody reads, and a cap on connections per client.
 */
export function guardConnections(
  server: Server,
  config: HttpConfig,
  logger: Logger,
  refused: RateLimitRefused = () => {},
): void {
  cutStalledConnections(server, config.bodyTimeout, logger);
  if (config.maxConnectionsPerClient > 0)
    limitPerClient(server, config.maxConnectionsPerClient, logger, refused);
}

/** How often Node looks for requests whose headers are late: often enough to honour a short timeout. */
export function headersCheckInterval(headersTimeout: number): number {
  return Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4)));
}

/**
 * Every connection gets a socket inactivity timer of `bodyTimeout` (Node restarts it with each
 * request, and replaces it with the keep-alive timeout between requests). When it fires, the
 * connection is cut if the client is the one holding things up: idle after a response, while its body
 * is incomplete, or while a response waits for it to read. A request the server is still working
 * on (rehashing a large upload, say) is left alone. No limit applies to a whole request, so a slow
 * push that keeps moving is never cut.
 */
function cutStalledConnections(server: Server, bodyTimeout: number, logger: Logger): void {
  const current = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }>();
  const served = new WeakSet<Socket>();
  server.timeout = bodyTimeout;
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    current.set(socket, { req, res });
    res.once('close', () => {
      served.add(socket);
      if (current.get(socket)?.res === res) current.delete(socket);
    });
  });
  // With a listener here, Node leaves the decision to close a timed-out socket to it.
  server.on('timeout', (socket: Socket) => {
    const exchange = current.get(socket);
    if (!exchange) {
      // Idle after a response: the keep-alive timeout. A connection still to send its first request
      // is left to the headers timeout, which answers 408.
      if (served.has(socket)) socket.destroy();
      return;
    }
    const { req, res } = exchange;
    const stalled = !req.complete ? 'request body' : socket.writableLength > 0 ? 'response' : undefined;
    if (stalled === undefined) return;
    logger.warn(
      { method: req.method, url: req.url?.slice(0, 200), stalled, timeoutMs: bodyTimeout },
      `connection closed: its ${stalled} moved no byte in time`,
    );
    res.destroy();
    socket.destroy();
  });
}

/**
 * At most `max` connections at once from one client; more are refused at once with 429, without
 * touching anyone else's. An IPv6 client is counted by its /64, which one host usually holds whole.
 */
function limitPerClient(server: Server, max: number, logger: Logger, refused: RateLimitRefused): void {
  const open = new Map<string, number>();
  // The connection listeners Node installed (its HTTP parser) run only for connections admitted here.
  const admit = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const client = clientOf(socket.remoteAddress ?? '');
    const count = open.get(client) ?? 0;
    if (count >= max) {
      logger.warn({ client, max }, 'connection refused: too many from this client');
      refused('connections-per-client');
      refuseConnection(
        socket,
        new RegistryError(
          'TOOMANYREQUESTS',
          `too many connections from ${client}: at most ${max} at once; retry once some have closed`,
          { headers: { 'Retry-After': '1' } },
        ),
      );
      return;
    }
    open.set(client, count + 1);
    socket.once('close', () => {
      const left = (open.get(client) ?? 1) - 1;
      if (left > 0) open.set(client, left);
      else open.delete(client);
    });
    for (const listener of admit) listener.call(server, socket);
  });
}

/** The client a connection is counted against: its IPv4 address, or its IPv6 /64. */
export function clientOf(address: string): string {
  const bare = address.replace(/%.*$/, '');
  if (bare.startsWith('::ffff:') && bare.includes('.')) return bare.slice(7);
  if (!bare.includes(':')) return bare;
  const [head = '', tail] = bare.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
