import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseImageName } from '../oci/names.js';
import { clientAddress, principalOf } from '../server/request-identity.js';
import { type Action, type Route, wrapHandlers } from '../server/router.js';
import type { LimitedAction, RequestRateLimiter } from './request-limiter.js';

/** Whose allowance a request spends: its principal once credentials were checked, else its client address. */
export function limitedPrincipal(req: IncomingMessage): string {
  const principal = principalOf(req);
  return principal === 'anonymous' ? `client:${clientAddress(req)}` : principal;
}

/**
 * Draws the request's tokens and puts the `RateLimit` headers on its answer, whatever that turns out
 * to be; throws the 429 when a bucket is empty. Called when a request starts, before anything reads
 * its body or changes state.
 */
export async function admitRequest(
  limiter: RequestRateLimiter,
  req: IncomingMessage,
  res: ServerResponse,
  action: LimitedAction,
  name?: string,
): Promise<void> {
  const repository = name === undefined ? undefined : parseImageName(name);
  const admission = await limiter.admit({ principal: limitedPrincipal(req), action, repository });
  if (admission.refusal) throw admission.refusal;
  for (const [header, value] of Object.entries(admission.headers)) res.setHeader(header, value);
}

const limitedActions: Record<Action, LimitedAction> = {
  pull: 'pull',
  catalog: 'pull',
  none: 'pull',
  push: 'push',
  delete: 'push',
};

/**
 * Puts the rate limiter in front of every distribution API operation, behind the guard (so the
 * principal is known): reads spend pull tokens, writes and deletes push tokens.
 */
export function limitRegistryRoutes(
  routes: readonly Route[],
  limiter: RequestRateLimiter | undefined,
): Route[] {
  if (!limiter) return [...routes];
  return wrapHandlers(routes, (handler, operation) => async (context) => {
    await admitRequest(
      limiter,
      context.req,
      context.res,
      limitedActions[operation.action],
      context.params.name,
    );
    await handler(context);
  });
}
