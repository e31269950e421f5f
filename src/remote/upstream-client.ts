import { createHash } from 'node:crypto';
import { Agent, type Dispatcher, interceptors } from 'undici';
import type { Clock } from '../lib/clock.js';

/** Where a remote repository's upstream is, and who it signs in as. */
export interface UpstreamEndpoint {
  /** The upstream's origin, e.g. `https://registry-1.docker.io`. */
  readonly url: string;
  readonly username: string | undefined;
  readonly password: string | undefined;
}

/** How long the daemon waits on an upstream before serving from the cache or failing the pull. */
export interface UpstreamTimeouts {
  /** To open the connection. */
  readonly connectMs: number;
  /** For the status line and headers of an answer. */
  readonly headersMs: number;
  /** Between two chunks of a body. */
  readonly bodyMs: number;
}

export const defaultUpstreamTimeouts: UpstreamTimeouts = {
  connectMs: 10_000,
  headersMs: 30_000,
  bodyMs: 60_000,
};

/** Why an exchange with the upstream failed: it could not be reached, or it answered with a refusal. */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
  }
}

export interface UpstreamResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Dispatcher.ResponseData['body'];
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

/** A token is renewed this long before the upstream said it expires, so it never expires mid-request. */
const tokenMarginMs = 10_000;
const defaultTokenLifetimeS = 60;
const userAgent = 'mistrive-pull-through';

/** `key="value"` pairs of a `WWW-Authenticate` challenge (values may hold commas: scopes do). */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = (/^\s*(\S+)/.exec(header)?.[1] ?? '').toLowerCase();
  const params: Record<string, string> = {};
  for (const match of header.matchAll(/([A-Za-z_]+)="([^"]*)"/g)) {
    params[(match[1] as string).toLowerCase()] = match[2] as string;
  }
  return { scheme, params };
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Talks to upstream registries for the pull-through cache, signing in the way each asks: anonymous,
 * Basic, or the Docker token flow (a 401 with a Bearer challenge, a token fetched from its realm with
 * the remote's credentials, the request retried with it). Tokens are cached per upstream, user and
 * scope until shortly before they expire. Redirects (to a CDN) are followed without the credentials.
 */
export class UpstreamClient {
  private readonly dispatcher: Dispatcher;
  private readonly tokens = new Map<string, CachedToken>();
  /** Upstreams that asked for Basic credentials: sent with every request after that. */
  private readonly basicOrigins = new Set<string>();

  constructor(
    private readonly clock: Clock,
    timeouts: UpstreamTimeouts = defaultUpstreamTimeouts,
  ) {
    this.dispatcher = new Agent({
      connect: { timeout: timeouts.connectMs },
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
    }).compose(interceptors.redirect({ maxRedirections: 5 }));
  }

  /**
   * One request for `path` of the upstream, on behalf of its repository `name` (the pull scope asked
   * for when the upstream's challenge names none). The caller reads or dumps the body.
   */
  async request(
    endpoint: UpstreamEndpoint,
    method: 'GET' | 'HEAD',
    path: string,
    name: string,
    headers: Record<string, string> = {},
  ): Promise<UpstreamResponse> {
    const defaultScope = `repository:${name}:pull`;
    const first = await this.send(
      endpoint,
      method,
      path,
      headers,
      this.authorization(endpoint, defaultScope),
    );
    if (first.status !== 401) return first;
    const challenge = parseChallenge(headerText(first.headers['www-authenticate']) ?? '');
    await first.body.dump();
    let authorization: string | undefined;
    if (challenge.scheme === 'bearer' && challenge.params.realm) {
      const scope = challenge.params.scope ?? defaultScope;
      authorization = `Bearer ${await this.fetchToken(endpoint, challenge.params, scope)}`;
      // Cached under the scope asked for by name too, so the next request sends it straight away.
      this.tokens.set(
        this.tokenKey(endpoint, defaultScope),
        this.tokens.get(this.tokenKey(endpoint, scope)) as CachedToken,
      );
    } else if (challenge.scheme === 'basic' && endpoint.username !== undefined) {
      this.basicOrigins.add(endpoint.url);
      authorization = basic(endpoint);
    } else {
      throw new UpstreamError(
        `${endpoint.url} asks for credentials${endpoint.username === undefined ? ' and the remote repository has none' : ' this client cannot send'}`,
        401,
      );
    }
    const second = await this.send(endpoint, method, path, headers, authorization);
    if (second.status === 401) {
      await second.body.dump();
      throw new UpstreamError(`${endpoint.url} refused the remote repository's credentials`, 401);
    }
    return second;
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }

  private authorization(endpoint: UpstreamEndpoint, scope: string): string | undefined {
    const cached = this.tokens.get(this.tokenKey(endpoint, scope));
    if (cached && cached.expiresAt > this.clock.now().getTime()) return `Bearer ${cached.token}`;
    if (this.basicOrigins.has(endpoint.url) && endpoint.username !== undefined) return basic(endpoint);
    return undefined;
  }

  /** Tokens are per credentials, not per user name: a remote with another password must not reuse them. */
  private tokenKey(endpoint: UpstreamEndpoint, scope: string): string {
    const credentials = createHash('sha256').update(`${endpoint.username ?? ''}\n${endpoint.password ?? ''}`);
    return `${endpoint.url}\n${credentials.digest('hex')}\n${scope}`;
  }

  private async fetchToken(
    endpoint: UpstreamEndpoint,
    challenge: Record<string, string>,
    scope: string,
  ): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(challenge.realm as string);
    } catch {
      throw new UpstreamError(`${endpoint.url} named a token realm that is not a URL`, 401);
    }
    if (challenge.service) realm.searchParams.set('service', challenge.service);
    realm.searchParams.set('scope', scope);
    const response = await this.exchange(realm, 'GET', {
      ...(endpoint.username !== undefined ? { authorization: basic(endpoint) } : {}),
    });
    if (response.status !== 200) {
      await response.body.dump();
      throw new UpstreamError(
        `the token service of ${endpoint.url} answered ${response.status}${response.status === 401 ? ": it refused the remote repository's credentials" : ''}`,
        response.status,
      );
    }
    let answer: { token?: string; access_token?: string; expires_in?: number };
    try {
      answer = (await response.body.json()) as typeof answer;
    } catch {
      throw new UpstreamError(
        `the token service of ${endpoint.url} answered with something that is not JSON`,
        502,
      );
    }
    const token = answer.token ?? answer.access_token;
    if (!token) throw new UpstreamError(`the token service of ${endpoint.url} answered without a token`, 502);
    const lifetimeMs = (answer.expires_in ?? defaultTokenLifetimeS) * 1000;
    this.tokens.set(this.tokenKey(endpoint, scope), {
      token,
      expiresAt: this.clock.now().getTime() + Math.max(lifetimeMs - tokenMarginMs, 0),
    });
    return token;
  }

  private send(
    endpoint: UpstreamEndpoint,
    method: 'GET' | 'HEAD',
    path: string,
    headers: Record<string, string>,
    authorization: string | undefined,
  ): Promise<UpstreamResponse> {
    return this.exchange(new URL(path, endpoint.url), method, {
      ...headers,
      ...(authorization ? { authorization } : {}),
    });
  }

  private async exchange(url: URL, method: 'GET' | 'HEAD', headers: Record<string, string>) {
    try {
      const response = await this.dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method,
        headers: { 'user-agent': userAgent, ...headers },
      });
      return { status: response.statusCode, headers: response.headers, body: response.body };
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new UpstreamError(`cannot reach ${url.origin} (${code ?? (error as Error).message})`, undefined);
    }
  }
}

function basic(endpoint: UpstreamEndpoint): string {
  return `Basic ${Buffer.from(`${endpoint.username ?? ''}:${endpoint.password ?? ''}`).toString('base64')}`;
}
