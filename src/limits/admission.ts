import type { IncomingMessage, ServerResponse } from 'node:http';
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
  // The name was resolved and checked in front of the guard: its first two parts are the repository.
  const repository = name === undefined ? undefined : repositoryOf(name);
  const admission = await limiter.admit({ principal: limitedPrincipal(req), action, repository });
  if (admission.refusal) throw admission.refusal;
  for (const [header, value] of Object.entries(admission.headers)) res.setHeader(header, value);
}

function repositoryOf(name: string): { project: string; repository: string } {
  const first = name.indexOf('/');
  const second = name.indexOf('/', first + 1);
  return {
    project: name.slice(0, first),
    repository: name.slice(first + 1, second === -1 ? undefined : second),
  };
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
