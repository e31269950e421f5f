import { mkdir } from 'node:fs/promises';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { createManagementServices, managementApiRoutes } from '../api/api-routes.js';
import { AuditLog } from '../audit/audit-log.js';
import { auditRegistryDeletes } from '../audit/registry-deletes.js';
import { type AuthServices, createAuthServices } from '../auth/auth-services.js';
import { type AdminBootstrap, bootstrapAdmin } from '../auth/bootstrap-admin.js';
import { guardRegistryRoutes } from '../auth/guarded-routes.js';
import { oauthRoutes } from '../auth/oauth/oauth-routes.js';
import { createOAuthServices } from '../auth/oauth/oauth-services.js';
import { tokenRoutes } from '../auth/token-routes.js';
import { CleanupService } from '../cleanup/cleanup-service.js';
import { type ServeConfig, servesTls } from '../config/config.js';
import { consoleRoutes } from '../console/console-routes.js';
import { openMetadataStore } from '../db/open-metadata-store.js';
import { RegistryError } from '../errors/registry-error.js';
import { InProcessRegistryEvents } from '../events/registry-events.js';
import { Maintenance } from '../gc/maintenance.js';
import { BlobPromises } from '../gc/promises.js';
import { type Clock, systemClock } from '../lib/clock.js';
import { type IdGenerator, randomIds } from '../lib/ids.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { SecretBox } from '../lib/secret-box.js';
import { limitRegistryRoutes } from '../limits/admission.js';
import { createRateLimiter } from '../limits/rate-limiting.js';
import type { RefusalListener } from '../limits/request-limiter.js';
import { Metrics, type ScanQueueDepth } from '../metrics/metrics.js';
import { listenForMetrics, type MetricsListener } from '../metrics/metrics-server.js';
import { parseImageName } from '../oci/names.js';
import { createOciServices, ociRoutes } from '../oci/oci-routes.js';
import type { RegistryContext } from '../oci/registry-context.js';
import { resolveRegistryNames } from '../oci/short-names.js';
import type { SettingsChangeListener } from '../policies/settings-changes.js';
import { UpstreamClient } from '../remote/upstream-client.js';
import type { ScanService } from '../scan/scan-service.js';
import { createScanning } from '../scan/scanning.js';
import { openBlobStore } from '../storage/open-blob-store.js';
import { backfillBlobSizes } from '../usage/blob-sizes.js';
import { createWebhooks } from '../webhooks/webhooks.js';
import { clientUrls } from './client-urls.js';
import { guardConnections, headersCheckInterval } from './connection-guards.js';
import { recordDaemon } from './daemon-lock.js';
import { sendError } from './http.js';
import { opsRoutes } from './ops-routes.js';
import { TrustedProxies } from './request-identity.js';
import {
  answerMalformedRequest,
  createRequestListener,
  refuseConnect,
  refuseExpectation,
} from './request-listener.js';
import { defaultTlsNames } from './tls/names.js';
import { tlsRoutes } from './tls/tls-routes.js';
import { loadTlsMaterial, strictTransportSecurity, type TlsMaterial } from './tls/tls-source.js';

export interface RunningRegistry {
  /** The first of `urls`: on this machine, the one to use. */
  readonly url: string;
  /** Where clients reach it: the bound address, or for a wildcard (`--host 0.0.0.0`) loopback and each interface address. */
  readonly urls: readonly string[];
  readonly server: Server | HttpsServer;
  /** The certificate served, when the daemon serves HTTPS. */
  readonly tls: TlsMaterial | undefined;
  /**
   * Reads the certificate and key again (renewing the self-signed ones when due) and serves them to
   * new connections; connections already open keep theirs. A failure keeps the certificate served.
   */
  reloadTls(): Promise<TlsMaterial | undefined>;
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
  /** The Prometheus metrics: `rateLimitRefused` is how a limit counts its refusals. */
  readonly metrics: Metrics;
  /** The audit log: `record` is how a change not made through the API or console is put on record. */
  readonly audit: AuditLog;
  /** The separate metrics listener (`metrics.address`), when one is configured. */
  readonly metricsUrl: string | undefined;
  /** Stops accepting connections, lets requests in flight finish (up to the grace period), closes the stores. */
  close(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
  readonly logger?: Logger;
  /** Told of every rate limit override and security policy change: where the audit log hooks in. */
  readonly onSettingsChanged?: SettingsChangeListener;
  /** Told of every request refused for its rate: where a metric hooks in. */
  readonly onRateLimited?: RefusalListener;
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
  const clock = options.clock ?? systemClock;
  // Built first: the connection guards count their refusals from the moment the port is bound.
  let scanQueueDepth: ScanQueueDepth = async () => ({});
  const metrics = new Metrics(() => scanQueueDepth());
  let listener: RequestListener = answerStarting;
  const serverOptions = {
    headersTimeout: config.http.headersTimeout,
    connectionsCheckingInterval: headersCheckInterval(config.http.headersTimeout),
    keepAliveTimeout: config.http.keepAliveTimeout,
    // No limit on a whole request: a 10 GB push may take an hour. Stalls are cut by the body timeout.
    requestTimeout: 0,
    // A missing Host is answered by the route listener, with an error body Node's bare 400 lacks.
    requireHostHeader: false,
  };
  const https = servesTls(config);
  // With TLS, the certificate is set once the port is bound (see loadTls below): nothing is made before.
  const server = https
    ? createHttpsServer(serverOptions, (req, res) => listener(req, res))
    : createServer(serverOptions, (req, res) => listener(req, res));
  server.on('clientError', answerMalformedRequest);
  server.on('connect', refuseConnect);
  server.on('checkExpectation', refuseExpectation);
  guardConnections(server, config.http, logger, (limit) => metrics.rateLimitRefused(limit));
  // Responses not yet finished, so shutdown can end each keep-alive connection after its last
  // response instead of waiting for the client to drop it (Go clients keep idle ones for 90 s).
  const unfinished = new Set<ServerResponse>();
  let stopping = false;
  // Prepended: the route handler may write the response head before a later listener runs.
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    if (stopping) res.setHeader('Connection', 'close');
    if (https) res.setHeader('Strict-Transport-Security', strictTransportSecurity);
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
  const urls = clientUrls(server.address() as AddressInfo, networkInterfaces(), https ? 'https' : 'http');
  const closeServer = async () => {
    const closed = new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
    server.closeAllConnections();
    await closed;
  };
  const proxies = new TrustedProxies(config.trustedProxies);
  // Bound before anything is created too, for the same reason as the registry's port.
  let metricsListener: MetricsListener | undefined;
  if (config.metrics.address) {
    try {
      metricsListener = await listenForMetrics(config.metrics.address, answerStarting, logger, proxies);
    } catch (error) {
      await closeServer();
      throw error;
    }
  }

  const loadTls = async (): Promise<TlsMaterial | undefined> => {
    if (!https) return undefined;
    const material = await loadTlsMaterial(
      config.tls,
      config.dataDir,
      () => defaultTlsNames(config.host, hostname(), networkInterfaces()),
      clock.now(),
    );
    (server as HttpsServer).setSecureContext({ cert: material.cert, key: material.key });
    return material;
  };
  let tls: TlsMaterial | undefined;
  let built: Awaited<ReturnType<typeof buildServices>>;
  try {
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    tls = await loadTls();
    built = await buildServices(config, options, logger, metrics, tls?.selfSigned?.ca.certificate);
  } catch (error) {
    await closeServer();
    await metricsListener?.close();
    throw error;
  }
  const {
    context,
    metadata,
    auth,
    admin,
    scanning,
    webhooks,
    services,
    maintenance,
    cleanup,
    audit,
    routes,
    upstream,
  } = built;
  scanQueueDepth = () => metadata.scans.countByStatus();
  listener = createRequestListener(routes, logger, proxies, metrics);
  metricsListener?.serve(
    opsRoutes({ metadata, dataDir: config.dataDir, minFreeBytes: config.health.minFreeBytes }, metrics),
  );
  const releaseDataDir = await recordDaemon(config.dataDir);

  const purge = async () => {
    try {
      const purged = await services.uploads.purge(config.uploads.purgeAfter);
      if (purged > 0) logger.info({ purged }, 'purged abandoned upload sessions');
    } catch (error) {
      logger.error({ err: error }, 'purging abandoned uploads failed');
    }
    try {
      // A retention of 0 keeps audit entries for ever.
      const pruned = config.audit.retention > 0 ? await audit.prune(config.audit.retention) : 0;
      if (pruned > 0) logger.info({ pruned }, 'pruned audit entries older than audit.retention');
    } catch (error) {
      logger.error({ err: error }, 'pruning the audit log failed');
    }
    try {
      const deliveries = await webhooks.purgeRecords();
      if (deliveries > 0) logger.info({ deliveries }, 'deleted old webhook delivery records');
    } catch (error) {
      logger.error({ err: error }, 'deleting old webhook delivery records failed');
    }
  };
  const purgeTimer = setInterval(purge, config.uploads.purgeEvery);
  purgeTimer.unref();
  void purge();
  scanning.workers.start();
  webhooks.workers.start();
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

  const reloadTls = async () => {
    try {
      const before = tls;
      tls = await loadTls();
      if (tls && tls.cert !== before?.cert) {
        logger.info(
          { validTo: tls.validTo.toISOString() },
          'serving a new TLS certificate to new connections',
        );
      }
    } catch (error) {
      logger.error({ err: error }, 'TLS reload failed; the certificate served so far stays');
    }
    return tls;
  };
  // A long-running daemon renews its self-signed certificate before it expires, without a restart.
  const renewTimer = config.tls.selfSigned ? setInterval(reloadTls, tlsRenewCheckMs) : undefined;
  renewTimer?.unref();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clearInterval(purgeTimer);
      clearInterval(cleanupTimer);
      clearInterval(renewTimer);
      stopping = true;
      for (const res of unfinished) if (!res.headersSent) res.setHeader('Connection', 'close');
      const closed = new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGrace);
      await closed;
      clearTimeout(grace);
      await metricsListener?.close();
      await scanning.workers.stop();
      await webhooks.workers.stop();
      await maintenance.stop();
      await cleaning;
      await upstream.close();
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
    get tls() {
      return tls;
    },
    reloadTls,
    context,
    auth,
    admin,
    scans: scanning.service,
    maintenance,
    cleanup,
    metrics,
    audit,
    metricsUrl: metricsListener?.url,
    close,
  };
}

/** How often the self-signed mode checks whether its server certificate is due for renewal. */
const tlsRenewCheckMs = 12 * 3_600_000;

/** Everything the registry is made of, built once the port is bound. */
async function buildServices(
  config: ServeConfig,
  options: StartOptions,
  logger: Logger,
  metrics: Metrics,
  /** The self-signed mode's CA certificate, served for clients to fetch. */
  caCertificate: string | undefined,
) {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const blobs = await openBlobStore(config);
  const metadata = await openMetadataStore(config.metadata, config.dataDir);
  try {
    const clock = options.clock ?? systemClock;
    const ids = options.ids ?? randomIds;
    const context: RegistryContext = {
      blobs,
      metadata,
      clock,
      ids,
      logger,
      autoCreateRepositories: config.autoCreateRepositories,
      promises: new BlobPromises(config.gc.delay),
      events: new InProcessRegistryEvents(clock, ids, logger),
    };
    const audit = new AuditLog(metadata.audit, context.clock, logger);
    const auth = await createAuthServices(config, metadata, context.clock, (limit) =>
      metrics.rateLimitRefused(limit),
    );
    await backfillBlobSizes(metadata, blobs, logger);
    const scanning = createScanning(context, config.scanning, config.dataDir);
    const webhooks = createWebhooks(context, config.webhooks);
    const cleanup = new CleanupService(metadata, context.clock, logger, context.events, (run) =>
      metrics.cleanupFinished(run),
    );
    const secrets = await SecretBox.loadOrCreate(join(config.dataDir, 'keys', 'instance-secret.key'));
    const upstream = new UpstreamClient(context.clock);
    const services = createOciServices(context, {
      onManifestStored: (stored) => scanning.service.manifestPushed(stored),
      remotes: { upstream, secrets },
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
      gcFinished: (outcome) => metrics.gcFinished(outcome),
    });
    const oauth = createOAuthServices(config, metadata, auth, context.clock, audit);
    const limiter = createRateLimiter(config.rateLimits, metadata.policies, context.clock, (refused) => {
      metrics.rateLimitRefused(refused.policy);
      options.onRateLimited?.(refused);
    });
    const management = createManagementServices(
      context,
      auth,
      services,
      scanning.service,
      maintenance,
      cleanup,
      secrets,
      webhooks,
      {
        rateLimits: config.rateLimits,
        onSettingsChanged: (change) => {
          if (change.kind === 'rateLimits') limiter?.forgetOverrides(change.project);
          options.onSettingsChanged?.(change);
        },
      },
    );
    const routes = [
      ...tokenRoutes(auth.credentials, auth.registryTokens, audit),
      ...oauthRoutes(oauth),
      ...(caCertificate ? tlsRoutes(caCertificate) : []),
      ...managementApiRoutes(management, auth, config, audit, limiter),
      ...resolveRegistryNames(
        auditRegistryDeletes(
          guardRegistryRoutes(
            limitRegistryRoutes(
              ociRoutes(
                services,
                (req, name) => auth.guard.canRead(req, name),
                (req, name, manifest) =>
                  management.pullPolicy.check(auth.guard.callerOf(req), parseImageName(name), manifest),
              ),
              limiter,
            ),
            auth.guard,
          ),
          audit,
        ),
        config.autoCreateRepositories,
      ),
      ...opsRoutes({ metadata, dataDir: config.dataDir, minFreeBytes: config.health.minFreeBytes }, metrics, {
        credentials: auth.credentials,
        sessions: oauth.sessions,
      }),
      // Last: the console's paths are matched only once no registry, API or sign-in route has.
      ...consoleRoutes({ services: management, sessions: oauth.sessions, urls: oauth.urls, audit }),
    ];
    // Last: once the administrator exists, nothing stands between it and the ready line that shows its password.
    const admin = await bootstrapAdmin(metadata.users, config.adminPassword, context.clock);
    return {
      context,
      metadata,
      auth,
      admin,
      scanning,
      webhooks,
      services,
      maintenance,
      cleanup,
      audit,
      routes,
      upstream,
    };
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
