import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createManagementServices, managementApiRoutes } from '../api/api-routes.js';
import { type AuthServices, createAuthServices } from '../auth/auth-services.js';
import { type AdminBootstrap, bootstrapAdmin } from '../auth/bootstrap-admin.js';
import { guardRegistryRoutes } from '../auth/guarded-routes.js';
import { oauthRoutes } from '../auth/oauth/oauth-routes.js';
import { createOAuthServices } from '../auth/oauth/oauth-services.js';
import { tokenRoutes } from '../auth/token-routes.js';
import type { ServeConfig } from '../config/config.js';
import { consoleRoutes } from '../console/console-routes.js';
import { SqliteMetadataStore } from '../db/sqlite/sqlite-metadata-store.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { type IdGenerator, randomIds } from '../lib/ids.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { createOciServices, ociRoutes } from '../oci/oci-routes.js';
import type { RegistryContext } from '../oci/registry-context.js';
import type { ScanService } from '../scan/scan-service.js';
import { createScanning } from '../scan/scanning.js';
import { FilesystemBlobStore } from '../storage/filesystem-blob-store.js';
import { answerMalformedRequest, createRequestListener } from './request-listener.js';

export interface RunningRegistry {
  readonly url: string;
  readonly server: Server;
  readonly context: RegistryContext;
  readonly auth: AuthServices;
  /** What happened to the administrator account at start: a generated password is shown once. */
  readonly admin: AdminBootstrap;
  /** Vulnerability scans: statuses, reports, rescans. */
  readonly scans: ScanService;
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
  const auth = await createAuthServices(config, metadata, context.clock);
  const admin = await bootstrapAdmin(metadata.users, config.adminPassword, context.clock);
  const scanning = createScanning(context, config.scanning, config.dataDir);
  const services = createOciServices(context, {
    onManifestStored: (stored) => scanning.service.manifestPushed(stored),
  });
  const oauth = createOAuthServices(config, metadata, auth, context.clock);
  const management = createManagementServices(context, auth, services, scanning.service);
  const routes = [
    ...tokenRoutes(auth.credentials, auth.registryTokens),
    ...oauthRoutes(oauth),
    ...managementApiRoutes(management, auth, config),
    ...guardRegistryRoutes(
      ociRoutes(services, (req, name) => auth.guard.canRead(req, name)),
      auth.guard,
    ),
    // Last: the console's paths are matched only once no registry, API or sign-in route has.
    ...consoleRoutes({ services: management, sessions: oauth.sessions, urls: oauth.urls }),
  ];

  const server = createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 0 },
    createRequestListener(routes, logger),
  );
  server.on('clientError', answerMalformedRequest);
  // Responses not yet finished, so shutdown can end each keep-alive connection after its last
  // response instead of waiting for the client to drop it (Go clients keep idle ones for 90 s).
  const unfinished = new Set<ServerResponse>();
  let stopping = false;
  // Prepended: the route handler may write the response head before a later listener runs.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (stopping) res.setHeader('Connection', 'close');
    unfinished.add(res);
    res.once('close', () => {
      unfinished.delete(res);
      // A response whose head went out before shutdown said keep-alive: its connection is idle now.
      if (stopping) setImmediate(() => server.closeIdleConnections());
    });
  });
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
  scanning.workers.start();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clearInterval(purgeTimer);
      stopping = true;
      for (const res of unfinished) if (!res.headersSent) res.setHeader('Connection', 'close');
      const closed = new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGrace);
      await closed;
      clearTimeout(grace);
      await scanning.workers.stop();
      await metadata.close();
      logger.flush();
    })();
    return closing;
  };

  return {
    url: `http://${host}:${address.port}`,
    server,
    context,
    auth,
    admin,
    scans: scanning.service,
    close,
  };
}
