import { mkdir } from 'node:fs/promises';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createManagementServices, managementApiRoutes } from '../api/api-routes.js';
import { type AuthServices, createAuthServices } from '../auth/auth-services.js';
import { type AdminBootstrap, bootstrapAdmin } from '../auth/bootstrap-admin.js';
import { guardRegistryRoutes } from '../auth/guarded-routes.js';
import { oauthRoutes } from '../auth/oauth/oauth-routes.js';
import { createOAuthServices } from '../auth/oauth/oauth-services.js';
import { tokenRoutes } from '../auth/token-routes.js';
import { CleanupService } from '../cleanup/cleanup-service.js';
import type { ServeConfig } from '../config/config.js';
import { consoleRoutes } from '../console/console-routes.js';
import { SqliteMetadataStore } from '../db/sqlite/sqlite-metadata-store.js';
import { RegistryError } from '../errors/registry-error.js';
import { Maintenance } from '../gc/maintenance.js';
import { BlobPromises } from '../gc/promises.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { type IdGenerator, randomIds } from '../lib/ids.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { createOciServices, ociRoutes } from '../oci/oci-routes.js';
import type { RegistryContext } from '../oci/registry-context.js';
import { resolveRegistryNames } from '../oci/short-names.js';
import type { ScanService } from '../scan/scan-service.js';
import { createScanning } from '../scan/scanning.js';
import { openBlobStore } from '../storage/open-blob-store.js';
import { backfillBlobSizes } from '../usage/blob-sizes.js';
import { clientUrls } from './client-urls.js';
import { guardConnections, headersCheckInterval } from './connection-guards.js';
import { recordDaemon } from './daemon-lock.js';
import { sendError } from './http.js';
import { TrustedProxies } from './request-identity.js';
import {
  answerMalformedRequest,
  createRequestListener,
  refuseConnect,
  refuseExpectation,
} from './request-listener.js';

export interface RunningRegistry {
  /** The first of `urls`: on this machine, the one to use. */
  readonly url: string;
  /** Where clients reach it: the bound address, or for a wildcard (`--host 0.0.0.0`) loopback and each interface address. */
  readonly urls: readonly string[];
  readonly server: Server;
  readonly context: RegistryContext;
  readonly auth: AuthServices;
  /** What happened to the administrator account at start: a generated password is shown once. */
  readonly admin: AdminBootstrap;
  /** Vulnerability scans: statuses, reports, rescans. */
  readonly scans: ScanService;
  /** Garbage collection and the integrity check. */
  readonly maintenance: Maintenance;
  /** Cleanup policies: evaluated on the schedule, or now. */
  readonly cleanup: CleanupService;
  /** Stops accepting connections, lets requests in flight finish (up to the grace period), closes the stores. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  readonly logger?: Logger;
}

/**
 * The composition root: binds the port, then builds the stores and services once. The port comes
 * first so that a start that cannot listen (the port in use) creates nothing: no data directory, no
 * signing key, and no administrator whose generated password nobody saw.
 */
export async function startRegistry(
  config: ServeConfig,
  options: StartOptions = {},
): Promise<RunningRegistry> {
  const logger = options.logger ?? createLogger(config.logLevel);
  let listener: RequestListener = answerStarting;
  const server = createServer(
    {
      headersTimeout: config.http.headersTimeout,
      connectionsCheckingInterval: headersCheckInterval(config.http.headersTimeout),
      keepAliveTimeout: config.http.keepAliveTimeout,
      // No limit on a whole request: a 10 GB push may take an hour. Stalls are cut by the body timeout.
      requestTimeout: 0,
      // A missing Host is answered by the route listener, with an error body Node's bare 400 lacks.
      requireHostHeader: false,
    },
    (req, res) => listener(req, res),
  );
  server.on('clientError', answerMalformedRequest);
  server.on('connect', refuseConnect);
  server.on('checkExpectation', refuseExpectation);
  guardConnections(server, config.http, logger);
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
  const urls = clientUrls(server.address() as AddressInfo);

  let built: Awaited<ReturnType<typeof buildServices>>;
  try {
    built = await buildServices(config, options, logger);
  } catch (error) {
    const closed = new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
    server.closeAllConnections();
    await closed;
    throw error;
  }
  const { context, metadata, auth, admin, scanning, services, maintenance, cleanup, routes } = built;
  listener = createRequestListener(routes, logger, new TrustedProxies(config.trustedProxies));
  const releaseDataDir = await recordDaemon(config.dataDir);

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
  maintenance.start();

  // One pass at a time: a pass slower than the interval is not run twice at once.
  let cleaning: Promise<void> | undefined;
  const runCleanup = () => {
    cleaning ??= cleanup.runAll().finally(() => {
      cleaning = undefined;
    });
  };
  const cleanupTimer =
    config.cleanup.interval > 0 ? setInterval(runCleanup, config.cleanup.interval) : undefined;
  cleanupTimer?.unref();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clearInterval(purgeTimer);
      clearInterval(cleanupTimer);
      stopping = true;
      for (const res of unfinished) if (!res.headersSent) res.setHeader('Connection', 'close');
      const closed = new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGrace);
      await closed;
      clearTimeout(grace);
      await scanning.workers.stop();
      await maintenance.stop();
      await cleaning;
      await metadata.close();
      await releaseDataDir();
      logger.flush();
    })();
    return closing;
  };

  return {
    url: urls[0] as string,
    urls,
    server,
    context,
    auth,
    admin,
    scans: scanning.service,
    maintenance,
    cleanup,
    close,
  };
}

/** Everything the registry is made of, built once the port is bound. */
async function buildServices(config: ServeConfig, options: StartOptions, logger: Logger) {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const blobs = await openBlobStore(config);
  const metadata = SqliteMetadataStore.open(join(config.dataDir, 'metadata.db'));
  try {
    const context: RegistryContext = {
      blobs,
      metadata,
      clock: options.clock ?? systemClock,
      ids: options.ids ?? randomIds,
      logger,
      autoCreateRepositories: config.autoCreateRepositories,
      promises: new BlobPromises(config.gc.delay),
    };
    const auth = await createAuthServices(config, metadata, context.clock);
    await backfillBlobSizes(metadata, blobs, logger);
    const scanning = createScanning(context, config.scanning, config.dataDir);
    const cleanup = new CleanupService(metadata, context.clock, logger);
    const services = createOciServices(context, {
      onManifestStored: (stored) => scanning.service.manifestPushed(stored),
    });
    const maintenance = new Maintenance({
      lifecycle: metadata.lifecycle,
      blobs,
      clock: context.clock,
      ids: context.ids,
      logger,
      promises: context.promises,
      gc: config.gc,
      purgeUploads: () => services.uploads.purge(config.uploads.purgeAfter),
    });
    const oauth = createOAuthServices(config, metadata, auth, context.clock);
    const management = createManagementServices(
      context,
      auth,
      services,
      scanning.service,
      maintenance,
      cleanup,
    );
    const routes = [
      ...tokenRoutes(auth.credentials, auth.registryTokens),
      ...oauthRoutes(oauth),
      ...managementApiRoutes(management, auth, config),
      ...resolveRegistryNames(
        guardRegistryRoutes(
          ociRoutes(services, (req, name) => auth.guard.canRead(req, name)),
          auth.guard,
        ),
        config.autoCreateRepositories,
      ),
      // Last: the console's paths are matched only once no registry, API or sign-in route has.
      ...consoleRoutes({ services: management, sessions: oauth.sessions, urls: oauth.urls }),
    ];
    // Last: once the administrator exists, nothing stands between it and the ready line that shows its password.
    const admin = await bootstrapAdmin(metadata.users, config.adminPassword, context.clock);
    return { context, metadata, auth, admin, scanning, services, maintenance, cleanup, routes };
  } catch (error) {
    await metadata.close();
    throw error;
  }
}

/** Requests that arrive in the moment between binding the port and being ready to serve. */
function answerStarting(req: IncomingMessage, res: ServerResponse): void {
  sendError(
    req,
    res,
    new RegistryError('UNKNOWN', 'the registry is starting; retry in a moment', {
      status: 503,
      headers: { 'Retry-After': '1' },
    }),
  );
}
