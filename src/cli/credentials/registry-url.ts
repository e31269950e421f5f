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
