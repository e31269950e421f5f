import { randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cleanup } from '../../bench/cleanup.js';
import { startReference } from '../../bench/daemons.js';
import type { ServeOverrides } from '../../src/config/config.js';
import type { StartOptions } from '../../src/server/app.js';
import { type ApiClient, adminClient, createProject, createRepository } from './api-client.js';
import { imageManifest, sha256, types } from './oci-client.js';
import { startTestRegistry, type TestRegistry } from './registry.js';
import { nonceConfig } from './unique-images.js';

/**
 * Debian's `docker-registry` (CNCF distribution), the reference registry, as an upstream on a free
 * loopback port with its own storage: anonymous pushes and pulls, deletes enabled.
 */
export interface UpstreamRegistry {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startDistribution(): Promise<UpstreamRegistry> {
  // The benchmark's start of the reference registry (its config, readiness poll and shutdown), reused.
  const cleanup = new Cleanup();
  const server = await startReference(
    cleanup,
    await cleanup.tempDir('mistrive-upstream-'),
    'docker-registry',
  );
  return { url: server.url, stop: () => cleanup.run() };
}

/** One request the proxy passed on (or refused). */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/**
 * A loopback proxy in front of an upstream that records every request, so a test can count what
 * reached the upstream. With `basic`, it asks for those credentials itself (a 401 with a Basic
 * challenge), as a registry behind Basic authentication does. `down()` makes it refuse connections.
 */
export interface CountingProxy {
  readonly url: string;
  readonly seen: SeenRequest[];
  /** Requests seen so far for paths ending with `suffix` (and of `method`, when given). */
  count(suffix: string, method?: string): number;
  down(): Promise<void>;
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Credentials the proxy demands with a Basic challenge. */
  readonly basic?: { username: string; password: string };
  /** Flips a bit in the first byte of every blob it passes on, as a broken upstream or network would. */
  readonly corruptBlobs?: boolean;
}

export async function startCountingProxy(
  upstream: string,
  options: ProxyOptions = {},
): Promise<CountingProxy> {
  const seen: SeenRequest[] = [];
  const target = new URL(upstream);
  const expected = options.basic
    ? `Basic ${Buffer.from(`${options.basic.username}:${options.basic.password}`).toString('base64')}`
    : undefined;
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    const record = (status: number) =>
      seen.push({ method: req.method ?? 'GET', path: path.split('?')[0] ?? path, status });
    if (expected !== undefined && req.headers.authorization !== expected) {
      record(401);
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="upstream"', 'Content-Length': 0 });
      res.end();
      return;
    }
    const { authorization: _, host: __, ...headers } = req.headers;
    const forward = request(
      { host: target.hostname, port: target.port, method: req.method, path, headers },
      (answer) => {
        record(answer.statusCode ?? 0);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (options.corruptBlobs && path.includes('/blobs/')) {
          let first = true;
          answer.on('data', (chunk: Buffer) => {
            if (first && chunk.length > 0) chunk[0] = (chunk[0] as number) ^ 1;
            first = false;
            res.write(chunk);
          });
          answer.on('end', () => res.end());
          return;
        }
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    url,
    seen,
    count: (suffix, method) =>
      seen.filter((r) => r.path.endsWith(suffix) && (!method || r.method === method)).length,
    down: close,
    close: async () => {
      if (server.listening) await close();
    },
  };
}

/** An image pushed to an upstream registry over plain /v2/ (POST then PUT, which every registry takes). */
export interface UpstreamImage {
  readonly digest: string;
  readonly manifest: Buffer;
  /** The config, then the layers. */
  readonly blobs: string[];
}

export async function pushToUpstream(
  url: string,
  name: string,
  tag: string,
  layerBytes = 4096,
  headers: Record<string, string> = {},
): Promise<UpstreamImage> {
  const config = nonceConfig();
  const layer = randomBytes(layerBytes);
  for (const blob of [config, layer]) {
    const started = await fetch(`${url}/v2/${name}/blobs/uploads/`, { method: 'POST', headers });
    if (started.status !== 202)
      throw new Error(`upload start failed: ${started.status} ${await started.text()}`);
    const location = new URL(started.headers.get('location') as string, url);
    location.searchParams.set('digest', sha256(blob));
    const finished = await fetch(location, {
      method: 'PUT',
      headers: { ...headers, 'content-type': 'application/octet-stream' },
      body: blob,
    });
    if (finished.status !== 201)
      throw new Error(`blob push failed: ${finished.status} ${await finished.text()}`);
  }
  const manifest = imageManifest({ digest: sha256(config), size: config.length }, [
    { digest: sha256(layer), size: layer.length },
  ]);
  const put = await fetch(`${url}/v2/${name}/manifests/${tag}`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': types.ociManifest },
    body: manifest,
  });
  if (put.status !== 201) throw new Error(`manifest push failed: ${put.status} ${await put.text()}`);
  return { digest: sha256(manifest), manifest, blobs: [sha256(config), sha256(layer)] };
}

/**
 * What the remote-repository suites share: the reference registry as the upstream, an in-process
 * Mistrive with one project, counting proxies in front of the upstream, and remote repositories
 * created in that project. `close` stops all of it.
 */
export interface CacheFixture {
  readonly upstream: UpstreamRegistry;
  readonly registry: TestRegistry;
  readonly admin: ApiClient;
  /** A new counting proxy in front of the upstream. */
  proxy(options?: ProxyOptions): Promise<CountingProxy>;
  /** A new remote repository in the project with these `remote` settings (and other fields); its PROJECT/ID. */
  remoteRepository(remote: object, extra?: object): Promise<string>;
  close(): Promise<void>;
}

export async function startCacheFixture(
  project: string,
  overrides: ServeOverrides = {},
  options: StartOptions = {},
): Promise<CacheFixture> {
  const upstream = await startDistribution();
  const registry = await startTestRegistry(overrides, options);
  const admin = await adminClient(registry.url);
  await createProject(admin, project);
  const proxies: CountingProxy[] = [];
  let repositories = 0;
  return {
    upstream,
    registry,
    admin,
    async proxy(proxyOptions) {
      const proxy = await startCountingProxy(upstream.url, proxyOptions);
      proxies.push(proxy);
      return proxy;
    },
    async remoteRepository(remote, extra = {}) {
      const id = `cache${++repositories}`;
      await createRepository(admin, project, id, { remote, ...extra });
      return `${project}/${id}`;
    },
    async close() {
      await registry.close();
      for (const proxy of proxies) await proxy.close();
      await upstream.stop();
    },
  };
}
