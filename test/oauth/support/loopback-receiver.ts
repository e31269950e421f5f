import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackReceiver {
  /** `http://HOST:PORT/callback` */
  readonly redirectUri: string;
  /** The query of the next redirect that reaches the listener. */
  next(): Promise<URLSearchParams>;
  close(): Promise<void>;
}

/** What the CLI runs during `mistrive auth login`: a listener on a free loopback port for the redirect. */
export async function startLoopbackReceiver(
  host: '127.0.0.1' | '[::1]' = '127.0.0.1',
): Promise<LoopbackReceiver> {
  const waiting: Array<(query: URLSearchParams) => void> = [];
  const received: URLSearchParams[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Signed in</title><h1>You can close this window.</h1>');
    const resolve = waiting.shift();
    if (resolve) resolve(url.searchParams);
    else received.push(url.searchParams);
  });
  await new Promise<void>((resolve) => server.listen(0, host === '[::1]' ? '::1' : host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://${host}:${port}/callback`,
    next() {
      const ready = received.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve) => waiting.push(resolve));
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
