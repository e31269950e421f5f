import type { ServerResponse } from 'node:http';
import type { z } from 'zod';
import { type AuditLog, outcomeOfError, reasonOf } from '../audit/audit-log.js';
import type { CredentialService } from '../auth/credential-service.js';
import type { PublicUrls } from '../auth/oauth/public-urls.js';
import type { ErrorCode } from '../errors/registry-error.js';
import { RegistryError } from '../errors/registry-error.js';
import { anonymous, type Caller } from '../iam/principals.js';
import { admitRequest } from '../limits/admission.js';
import type { RequestRateLimiter } from '../limits/request-limiter.js';
import { type Headers, send, sendJson } from '../server/http.js';
import { clientAddress } from '../server/request-identity.js';
import type { Method, Route } from '../server/router.js';
import { authenticate } from './authenticate.js';
import { readJsonBody } from './json-body.js';
import { parseInput } from './validation.js';

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface OperationInput<P, Q, B> {
  readonly caller: Caller;
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** The client's address, as password checks are rate limited by. */
  readonly client: string;
  /** An absolute URL of one of the server's paths, as clients reach it (the public URL, or the request's Host). */
  urlOf(path: string): string;
}

/** One endpoint of the management API, as data: the router, the handler and the OpenAPI document read it. */
export interface OperationSpec<
  P extends z.ZodObject | undefined,
  Q extends z.ZodObject | undefined,
  B extends z.ZodType | undefined,
  R extends z.ZodType | undefined,
> {
  /** The OpenAPI operationId, e.g. `createProject`. */
  readonly id: string;
  readonly method: Method;
  /** The path template, e.g. `/api/v1/projects/{project}`; each `{name}` is one percent-encoded segment. */
  readonly path: string;
  /** The OpenAPI tag the operation is listed under. */
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  /** The success status: 200 when there is a response, 204 when there is none, unless given (201 for creations). */
  readonly status?: number;
  readonly response?: R;
  /** Error codes this operation adds to the ones every operation may answer with. */
  readonly errors?: readonly ErrorCode[];
  /** Served without looking at credentials (the OpenAPI document). */
  readonly public?: boolean;
  readonly headers?: Headers;
  /** Answers with the response schema's value; operations without one resolve to nothing (`void`). */
  handle(
    input: OperationInput<Parsed<P>, Parsed<Q>, Parsed<B>>,
  ): Promise<R extends z.ZodType ? z.input<R> : void>;
}

export interface ApiOperation {
  readonly id: string;
  readonly method: Method;
  readonly path: string;
  readonly tag: string;
  readonly summary: string;
  readonly description: string | undefined;
  readonly params: z.ZodObject | undefined;
  readonly query: z.ZodObject | undefined;
  readonly body: z.ZodType | undefined;
  readonly status: number;
  readonly response: z.ZodType | undefined;
  readonly errors: readonly ErrorCode[];
  readonly public: boolean;
  readonly headers: Headers;
  readonly handle: (input: OperationInput<unknown, unknown, unknown>) => Promise<unknown>;
}

export function operation<
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  R extends z.ZodType | undefined = undefined,
>(spec: OperationSpec<P, Q, B, R>): ApiOperation {
  return {
    id: spec.id,
    method: spec.method,
    path: spec.path,
    tag: spec.tag,
    summary: spec.summary,
    description: spec.description,
    params: spec.params,
    query: spec.query,
    body: spec.body,
    status: spec.status ?? (spec.response ? 200 : 204),
    response: spec.response,
    errors: spec.errors ?? [],
    public: spec.public ?? false,
    headers: spec.headers ?? {},
    handle: spec.handle as ApiOperation['handle'],
  };
}

/** The names of a path template's parameters, in order. */
export function pathParameterNames(path: string): string[] {
  return [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] as string);
}

function patternOf(path: string): RegExp {
  const source = path
    .split(/(\{\w+\})/)
    .map((part) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      return name ? `(?<${name}>[^/]+)` : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`);
}

function decodeParams(params: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(params).map(([name, value]) => {
      try {
        return [name, decodeURIComponent(value)];
      } catch {
        throw new RegistryError(
          'INVALID_ARGUMENT',
          `invalid path parameter "${name}": malformed percent-encoding`,
        );
      }
    }),
  );
}

export interface OperationDeps {
  readonly credentials: CredentialService;
  readonly urls: PublicUrls;
  /** Every operation that changes something is recorded, refused or not. */
  readonly audit: AuditLog;
  /** Per-principal request limits, when rate limiting is on. */
  readonly limiter?: RequestRateLimiter | undefined;
}

/** Reads change nothing: everything else is recorded in the audit log. */
const changes = (op: ApiOperation) => op.method !== 'GET' && op.method !== 'HEAD' && !op.public;

/** Body fields that name what a creation creates, for the entry of a creation that was refused. */
const createdIdFields = ['projectId', 'repositoryId', 'accountId', 'login'] as const;
/** Response fields that name what a creation created. */
const createdNameFields = ['id', 'accountId', 'login'] as const;

function firstString(record: unknown, fields: readonly string[]): string | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  for (const field of fields) {
    const value = (record as Record<string, unknown>)[field];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/**
 * The resource an operation acts on, as a path of names: its path template filled in, without the
 * API prefix (`projects/p/repositories/r`), and for a creation the name of what it created.
 */
export function auditResource(
  op: ApiOperation,
  params: Readonly<Record<string, string>>,
  body: unknown,
  result: unknown,
): string {
  const filled = op.path
    .replace(/^\/api\/v\d+\//, '')
    .replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? `{${name}}`);
  if (op.status !== 201) return filled;
  // A created key comes back beside its key file: `{ key: { id }, keyFile }`.
  const nested =
    typeof result === 'object' && result !== null ? (result as { key?: unknown }).key : undefined;
  const created =
    firstString(result, createdNameFields) ??
    firstString(nested, createdNameFields) ??
    firstString(body, createdIdFields);
  return created === undefined ? filled : `${filled}/${created}`;
}

/** What an operation's entry says beside its resource: the body's fields and the query's (never a secret). */
function auditDetails(body: unknown, query: URLSearchParams): Record<string, unknown> | undefined {
  const details: Record<string, unknown> = Object.fromEntries(query);
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) Object.assign(details, body);
  return Object.keys(details).length > 0 ? details : undefined;
}

function respond(res: ServerResponse, op: ApiOperation, result: unknown): void {
  const headers: Headers = { 'Cache-Control': 'no-store', ...op.headers };
  if (op.status === 204) send(res, 204, headers);
  else sendJson(res, op.status, result, headers);
}

/**
 * Turns the operations into server routes, one per path: each request is authenticated, its path,
 * query and body validated against the operation's schemas, handed to the handler, and answered.
 */
export function toRoutes(operations: readonly ApiOperation[], deps: OperationDeps): Route[] {
  const byPath = new Map<string, ApiOperation[]>();
  for (const op of operations) byPath.set(op.path, [...(byPath.get(op.path) ?? []), op]);
  return [...byPath].map(([path, ops]) => ({
    name: `api ${path}`,
    pattern: patternOf(path),
    methods: Object.fromEntries(
      ops.map((op) => [
        op.method,
        {
          action: 'none' as const,
          handler: async ({ req, res, params, query }) => {
            // Kept outside the handling so that the entry of a refused change still says what was asked.
            let body: unknown;
            const handle = async () => {
              const caller = op.public ? anonymous : await authenticate(req, deps.credentials);
              if (deps.limiter && !op.public) await admitRequest(deps.limiter, req, res, 'api');
              const parsedParams = op.params
                ? parseInput(op.params, decodeParams(params), 'path')
                : undefined;
              const parsedQuery = op.query
                ? parseInput(op.query, Object.fromEntries(query), 'query')
                : undefined;
              body = op.body ? await readJsonBody(req, op.body) : undefined;
              return op.handle({
                caller,
                params: parsedParams,
                query: parsedQuery,
                body,
                client: clientAddress(req),
                urlOf: (path: string) => deps.urls.url(req, path),
              });
            };
            if (!changes(op)) return respond(res, op, await handle());
            let named: Record<string, string> = { ...params };
            try {
              named = decodeParams(params);
            } catch {
              // The handler refuses a malformed parameter itself; the entry keeps it as it came.
            }
            let result: unknown;
            try {
              result = await handle();
            } catch (error) {
              await deps.audit.recordRequest(req, {
                action: op.id,
                resource: auditResource(op, named, body, undefined),
                outcome: outcomeOfError(error),
                details: { ...auditDetails(body, query), reason: reasonOf(error) },
              });
              throw error;
            }
            await deps.audit.recordRequest(req, {
              action: op.id,
              resource: auditResource(op, named, body, result),
              outcome: 'success',
              details: auditDetails(body, query),
            });
            respond(res, op, result);
          },
        },
      ]),
    ),
  }));
}
