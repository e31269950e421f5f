import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ServeConfig } from '../config/config.js';
import { SqliteMetadataStore } from '../db/sqlite/sqlite-metadata-store.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { type IdGenerator, randomIds } from '../lib/ids.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { createOciServices, ociRoutes } from '../oci/oci-routes.js';
import type { RegistryContext } from '../oci/registry-context.js';
import { FilesystemBlobStore } from '../storage/filesystem-blob-store.js';
import { createRequestListener } from './request-listener.js';

export interface RunningRegistry {
  readonly url: string;
  readonly server: Server;
  readonly context: RegistryContext;
  /** Stops accepting connections, lets requests in flight finish (up to the grace period), closes the stores. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  readonly logger?: Logger;
}

/** The composition root: builds the stores and services once and starts the HTTP server. */
export async function startRegistry(
  config: ServeConfig,
  options: StartOptions = {},
): Promise<RunningRegistry> {
  const logger = options.logger ?? createLogger(config.logLevel);
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const blobs = new FilesystemBlobStore(config.dataDir);
  await blobs.init();
  const metadata = SqliteMetadataStore.open(join(config.dataDir, 'metadata.db'));
  const context: RegistryContext = {
    blobs,
    metadata,
    clock: options.clock ?? systemClock,
    ids: options.ids ?? randomIds,
    logger,
    autoCreateRepositories: config.autoCreateRepositories,
  };
  const services = createOciServices(context);
  // Until identity and access land, every caller may read every image.
  const routes = ociRoutes(services, async () => true);

  const server = createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 0 },
    createRequestListener(routes, logger),
  );
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  const purge = async () => {
    try {
      const purged = await services.uploads.purge(config.uploads.purgeAfter);
      if (purged > 0) logger.info({ purged }, 'purged abandoned upload sessions');
    } catch (error) {
      logger.error({ err: error }, 'purging abandoned uploads failed');
    }
  };
  const purgeTimer = setInterval(purge, config.uploads.purgeEvery);
  purgeTimer.unref();
  void purge();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clearInterval(purgeTimer);
      const closed = new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGrace);
      await closed;
      clearTimeout(grace);
      await metadata.close();
      logger.flush();
    })();
    return closing;
  };

  return { url: `http://${host}:${address.port}`, server, context, close };
}
