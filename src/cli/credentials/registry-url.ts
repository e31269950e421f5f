/**
 * Registry addresses: the CLI keys accounts by the registry's origin (`http://127.0.0.1:5000`),
 * Docker names registries by host (`127.0.0.1:5000`). Only built-ins: the credential helper uses it.
 */

const loopbackHost = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * The origin of a registry given as a URL or a bare `HOST[:PORT]`. A bare loopback host means plain
 * HTTP (how `mistrive serve` runs by default), any other bare host HTTPS. Undefined when it is not an address.
 */
export function normalizeRegistry(input: string): string | undefined {
  const text = input.trim();
  if (!text) return undefined;
  let url: URL;
  try {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) url = new URL(text);
    else {
      const host = text.split('/')[0] ?? '';
      const hostname = host.replace(/:\d+$/, '');
      url = new URL(`${loopbackHost.test(hostname) ? 'http' : 'https'}://${host}`);
    }
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return url.origin;
}

/**
 * Whether a command-line word is meant as a registry address rather than a name: a URL, `HOST:PORT`,
 * `localhost`, or a dotted host name, and not an account such as `alice@example.com`.
 */
export function looksLikeRegistry(text: string): boolean {
  if (text.includes('@') || !normalizeRegistry(text)) return false;
  if (/^https?:\/\//i.test(text)) return true;
  const host = text.split('/')[0] ?? '';
  return /:\d+$/.test(host) || host.includes('.') || loopbackHost.test(host);
}

/** The names of this machine's loopback interface that one server on a port answers to. */
const loopbackNames: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Scheme, loopback-folded host name and port of a URL, for comparing registries. */
function identity(url: URL): string {
  const hostname = url.hostname.toLowerCase();
  return `${url.protocol}//${loopbackNames.has(hostname) ? 'loopback' : hostname}:${url.port}`;
}

/**
 * Whether two registry origins are the same registry: equal, or the same scheme and port on two
 * loopback names (`http://localhost:5000` and `http://127.0.0.1:5000`).
 */
export function sameRegistry(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return identity(new URL(a)) === identity(new URL(b));
  } catch {
    return false;
  }
}

/** Whether two Docker hosts (`HOST[:PORT]`) name the same registry, loopback names folded. */
export function sameHost(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return identity(new URL(`http://${a}`)) === identity(new URL(`http://${b}`));
  } catch {
    return false;
  }
}

/**
 * A bare `HOST[:PORT]` that `normalizeRegistry` took as https:// because its host is not a loopback
 * name; undefined for URLs and loopback names, whose scheme was given or is plain http.
 */
export function guessedHttps(input: string): string | undefined {
  const text = input.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return undefined;
  const registry = normalizeRegistry(text);
  return registry?.startsWith('https://') ? registry : undefined;
}

/** The `HOST[:PORT]` Docker uses for a registry origin. */
export function registryHost(registry: string): string {
  return new URL(registry).host;
}

/**
 * The host a credential helper request names: Docker and skopeo send `HOST[:PORT]`, sometimes with a
 * scheme and a path (`https://index.docker.io/v1/`). Undefined when it names nothing.
 */
export function serverUrlHost(serverUrl: string): string | undefined {
  const text = serverUrl.trim();
  if (!text) return undefined;
  try {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
    const host = new URL(withScheme).host;
    return host || undefined;
  } catch {
    return undefined;
  }
}
