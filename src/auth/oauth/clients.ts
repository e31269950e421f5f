/** A client of the authorization server. There is one: the first-party, public CLI. */
export interface OAuthClient {
  readonly id: string;
  /** Shown on the consent and device pages. */
  readonly name: string;
  readonly description: string;
}

export const cliClient: OAuthClient = {
  id: 'mistrive-cli',
  name: 'Mistrive CLI',
  description: 'the mistrive command-line tool',
};

const clients: ReadonlyMap<string, OAuthClient> = new Map([[cliClient.id, cliClient]]);

export function findClient(id: string | null | undefined): OAuthClient | undefined {
  return id ? clients.get(id) : undefined;
}

const loopbackHosts = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * The redirect URI when it is a loopback one a native app may listen on (RFC 8252 §7.3): plain
 * HTTP on 127.0.0.1, [::1] or localhost, on any port, with no credentials or fragment. Anything
 * else is undefined: the authorization server never redirects elsewhere.
 */
export function loopbackRedirect(uri: string | null | undefined): URL | undefined {
  if (!uri || uri.length > 2000) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' || !loopbackHosts.has(url.hostname)) return undefined;
  if (url.username || url.password || uri.includes('#')) return undefined;
  return url;
}
