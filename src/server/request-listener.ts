import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { RegistryError } from '../errors/registry-error.js';
import type { Logger } from '../lib/logger.js';
import { sendError } from './http.js';
import { matchRoute, type Route } from './router.js';

/** Headers every registry response carries. */
const commonHeaders = { 'Docker-Distribution-API-Version': 'registry/2.0' };

/**
 * Dispatches a request through the route table. Typed errors become the OCI error body; anything
 * else is logged with its stack and answered as a 500 that reveals nothing.
 */
export function createRequestListener(routes: readonly Route[], logger: Logger): RequestListener {
  return (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    const query = new URLSearchParams(queryStart === -1 ? '' : url.slice(queryStart + 1));
    for (const [header, value] of Object.entries(commonHeaders)) res.setHeader(header, value);

    res.on('close', () => {
      logger.info(
        {
          method: req.method,
          path,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          ...(res.writableFinished ? {} : { aborted: true }),
        },
        'request',
      );
    });

    const match = matchRoute(routes, req.method ?? 'GET', path);
    let handled: Promise<void>;
    if (match.kind === 'found') {
      handled = match.operation.handler({ req, res, params: match.params, query });
    } else if (match.kind === 'method-not-allowed') {
      res.setHeader('Allow', Object.keys(match.route.methods).join(', '));
      handled = Promise.reject(
        new RegistryError('UNSUPPORTED', `${req.method} is not supported on ${path}`, { status: 405 }),
      );
    } else {
      handled = Promise.reject(new RegistryError('UNSUPPORTED', `no endpoint at ${path}`, { status: 404 }));
    }
    handled.catch((error: unknown) => {
      if (error instanceof RegistryError) {
        sendError(req, res, error);
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

/** A client that hung up mid-request is not a server failure. */
function isClientGone(error: unknown, req: IncomingMessage): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return req.destroyed || code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'EPIPE';
}
