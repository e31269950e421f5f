import { request } from 'node:http';

export interface Login {
  readonly username: string;
  readonly password: string;
}

interface CachedToken {
  readonly header: string;
  readonly refreshAt: number;
}

/**
 * Registry authorization as container clients do it: `GET /v2/` once; a 401 Bearer challenge names
 * the token endpoint, which hands out a token per repository scope for Basic credentials; the token
 * is reused until it nears expiry. A registry that answers 200 gets no Authorization at all.
 */
export class RegistryAuth {
  private challenge: Promise<{ realm: string; service: string } | undefined> | undefined;
  private readonly tokens = new Map<string, Promise<CachedToken>>();

  constructor(
    private readonly base: string,
    private readonly login: Login | undefined,
  ) {}

  /** The headers that authorize pull and push on `name`. */
  async headers(name: string): Promise<Record<string, string>> {
    this.challenge ??= this.discover();
    const challenge = await this.challenge;
    if (!challenge) return {};
    const scope = `repository:${name}:pull,push`;
    let cached = this.tokens.get(scope);
    if (!cached || (await cached).refreshAt < performance.now()) {
      cached = this.fetchToken(challenge.realm, challenge.service, scope);
      this.tokens.set(scope, cached);
    }
    return { Authorization: (await cached).header };
  }

  private async discover(): Promise<{ realm: string; service: string } | undefined> {
    const { status, headers } = await get(new URL('/v2/', this.base), {});
    if (status === 200) return undefined;
    const header = String(headers['www-authenticate'] ?? '');
    const realm = /realm="([^"]+)"/.exec(header)?.[1];
    const service = /service="([^"]+)"/.exec(header)?.[1] ?? '';
    if (status !== 401 || !realm) throw new Error(`GET /v2/ answered ${status} without a Bearer challenge`);
    return { realm, service };
  }

  private async fetchToken(realm: string, service: string, scope: string): Promise<CachedToken> {
    if (!this.login) throw new Error(`${this.base} wants credentials and none were given`);
    const url = new URL(realm);
    url.searchParams.set('service', service);
    url.searchParams.set('scope', scope);
    const basic = Buffer.from(`${this.login.username}:${this.login.password}`).toString('base64');
    const requested = performance.now();
    const { status, body } = await get(url, { Authorization: `Basic ${basic}` });
    if (status !== 200) throw new Error(`token for ${scope}: HTTP ${status} ${body.slice(0, 200)}`);
    const answer = JSON.parse(body) as { token?: string; access_token?: string; expires_in?: number };
    const token = answer.token ?? answer.access_token;
    if (!token) throw new Error(`token for ${scope}: no token in the answer`);
    // Renewed at half its life, so a long measurement never runs into an expired token.
    const lifetimeMs = (answer.expires_in ?? 60) * 1000;
    return { header: `Bearer ${token}`, refreshAt: requested + lifetimeMs / 2 };
  }
}

function get(
  url: URL,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
