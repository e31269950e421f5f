import type { IncomingMessage } from 'node:http';
import { authenticate, unauthenticated } from '../api/authenticate.js';
import type { CredentialService } from '../auth/credential-service.js';
import type { WebSessions } from '../auth/oauth/web-sessions.js';
import { RegistryError } from '../errors/registry-error.js';
import { checkReadiness, type ReadinessDeps } from '../health/readiness.js';
import type { Caller } from '../iam/principals.js';
import type { Metrics } from '../metrics/metrics.js';
import { send, sendJson } from './http.js';
import type { Route } from './router.js';

export const opsPaths = { liveness: '/healthz', readiness: '/readyz', metrics: '/metrics' } as const;

const noStore = { 'Cache-Control': 'no-store' };

/** Who may read the metrics on the main port: the administrator, by token, Basic credentials or browser session. */
export interface MetricsGate {
  readonly credentials: CredentialService;
  readonly sessions: WebSessions;
}

async function metricsReader(req: IncomingMessage, gate: MetricsGate): Promise<Caller> {
  const caller = await authenticate(req, gate.credentials);
  if (caller.kind !== 'anonymous' || req.headers.authorization !== undefined) return caller;
  return (await gate.sessions.current(req))?.caller ?? caller;
}

/**
 * Liveness, readiness and metrics. Liveness and readiness answer anyone and say nothing secret; the
 * metrics answer only the administrator here, or anyone on the separate metrics address (no `gate`).
 */
export function opsRoutes(readiness: ReadinessDeps, metrics: Metrics, gate?: MetricsGate): Route[] {
  return [
    {
      name: 'ops-liveness',
      pattern: /^\/healthz$/,
      methods: {
        GET: { action: 'none', handler: async ({ res }) => sendJson(res, 200, { status: 'ok' }, noStore) },
      },
    },
    {
      name: 'ops-readiness',
      pattern: /^\/readyz$/,
      methods: {
        GET: {
          action: 'none',
          handler: async ({ res }) => {
            const { ready, checks } = await checkReadiness(readiness);
            const failing = checks.filter((check) => !check.ok).map((check) => check.name);
            sendJson(
              res,
              ready ? 200 : 503,
              { status: ready ? 'ready' : 'not ready', ...(ready ? {} : { failing }), checks },
              noStore,
            );
          },
        },
      },
    },
    {
      name: 'ops-metrics',
      pattern: /^\/metrics$/,
      methods: {
        GET: {
          action: 'none',
          handler: async ({ req, res }) => {
            if (gate) {
              const caller = await metricsReader(req, gate);
              if (caller.kind === 'anonymous') throw unauthenticated();
              if (caller.kind !== 'user' || !caller.admin) {
                throw new RegistryError(
                  'DENIED',
                  'access forbidden: only the instance administrator can read the metrics',
                );
              }
            }
            const { contentType, body } = await metrics.exposition();
            send(
              res,
              200,
              { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...noStore },
              body,
            );
          },
        },
      },
    },
  ];
}
