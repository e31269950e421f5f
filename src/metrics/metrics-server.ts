import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../lib/logger.js';
import type { TrustedProxies } from '../server/request-identity.js';
import { createRequestListener } from '../server/request-listener.js';
import type { Route } from '../server/router.js';

/** `HOST:PORT`, `[::1]:PORT` or `:PORT` (loopback) as host and port. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? '127.0.0.1' : host, port: Number(address.slice(colon + 1)) };
}

export interface MetricsListener {
  /** `http://HOST:PORT` as bound. */
  readonly url: string;
  /** Starts answering with `routes`, once the registry is built. */
  serve(routes: readonly Route[]): void;
  close(): Promise<void>;
}

/**
 * The separate metrics listener: the ops routes only, to anyone who reaches it, so that Prometheus
 * scrapes without credentials on an address kept off the registry's own port.
 */
export async function listenForMetrics(
  address: string,
  starting: RequestListener,
  logger: Logger,
  proxies: TrustedProxies,
): Promise<MetricsListener> {
  const { host, port } = parseListenAddress(address);
  let listener = starting;
  const server: Server = createServer((req, res) => listener(req, res));
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  const bound = server.address() as AddressInfo;
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shown}:${bound.port}`,
    serve(routes) {
      listener = createRequestListener(routes, logger, proxies);
    },
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeAllConnections();
      }),
  };
}
