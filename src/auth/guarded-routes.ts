import type { Route } from '../server/router.js';
import type { RegistryGuard } from './registry-guard.js';

/** Puts the registry guard in front of every operation of the distribution API, reading each route's action. */
export function guardRegistryRoutes(routes: readonly Route[], guard: RegistryGuard): Route[] {
  return routes.map((route) => ({
    ...route,
    methods: Object.fromEntries(
      Object.entries(route.methods).map(([method, operation]) => [
        method,
        {
          ...operation,
          handler: async (context) => {
            await guard.check(context.req, operation.action, context.params.name);
            await operation.handler(context);
          },
        },
      ]),
    ),
  }));
}
