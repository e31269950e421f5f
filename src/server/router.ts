import type { IncomingMessage, ServerResponse } from 'node:http';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a request asks to do, for the authorization step (Docker token scopes name the same actions). */
export type Action = 'pull' | 'push' | 'delete' | 'catalog' | 'none';

export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Named groups of the route's pattern, still percent-encoded as they came. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
}

export type Handler = (context: RequestContext) => Promise<void>;

export interface Operation {
  readonly action: Action;
  readonly handler: Handler;
}

/** The route table is data: the router, the authorization step and the docs all read it. */
export interface Route {
  readonly name: string;
  readonly pattern: RegExp;
  readonly methods: Partial<Record<Method, Operation>>;
}

export type RouteMatch =
  | { kind: 'found'; route: Route; operation: Operation; params: Record<string, string> }
  | { kind: 'method-not-allowed'; route: Route }
  | { kind: 'not-found' };

export function matchRoute(routes: readonly Route[], method: string, path: string): RouteMatch {
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    const operation = route.methods[method as Method];
    if (!operation) return { kind: 'method-not-allowed', route };
    return { kind: 'found', route, operation, params: { ...match.groups } };
  }
  return { kind: 'not-found' };
}

/** The same routes with every operation's handler wrapped: how guards and name resolution sit in front of a surface. */
export function wrapHandlers(
  routes: readonly Route[],
  wrap: (handler: Handler, operation: Operation, method: Method) => Handler,
): Route[] {
  return routes.map((route) => ({
    ...route,
    methods: Object.fromEntries(
      Object.entries(route.methods).map(([method, operation]) => [
        method,
        { ...operation, handler: wrap(operation.handler, operation, method as Method) },
      ]),
    ),
  }));
}
