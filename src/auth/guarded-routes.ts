import { type Route, wrapHandlers } from '../server/router.js';
import type { RegistryGuard } from './registry-guard.js';

/** Puts the registry guard in front of every operation of the distribution API, reading each route's action. */
export function guardRegistryRoutes(routes: readonly Route[], guard: RegistryGuard): Route[] {
  return wrapHandlers(routes, (handler, operation) => async (context) => {
    await guard.check(context.req, operation.action, context.params.name);
    await handler(context);
  });
}
