import { CliError } from '../cli/errors.js';

/**
 * An image on any registry, as `docker pull` reads it: `[HOST/]NAME[:TAG][@DIGEST]`. A first
 * component with a dot or a colon, or `localhost`, is the registry host; without one the image is on
 * the default registry the caller passes (Mistrive's configured registry), never silently on Docker Hub.
 * `docker.io/alpine` is Docker Hub's `library/alpine`, served by `registry-1.docker.io`.
 */
export interface RemoteImage {
  /** The registry's origin, e.g. `http://127.0.0.1:5000` or `https://registry-1.docker.io`. */
  readonly registry: string;
  /** The host as Docker's config keys it (`127.0.0.1:5000`, `docker.io`). */
  readonly host: string;
  /** The repository name on that registry, e.g. `my-project/backend/api` or `library/alpine`. */
  readonly name: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

const nameComponent = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const tagShape = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const digestShape = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const loopbackHost = /^(localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/i;

export const dockerHub = { host: 'docker.io', registry: 'https://registry-1.docker.io' } as const;

function isHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

/** The origin a registry host is reached at: plain HTTP on loopback (how `mistrive serve` runs), HTTPS elsewhere. */
export function originOfHost(host: string): string {
  if (host === dockerHub.host || host === 'index.docker.io' || host === 'registry-1.docker.io') {
    return dockerHub.registry;
  }
  return `${loopbackHost.test(host) ? 'http' : 'https'}://${host}`;
}

/**
 * Parses an image reference. `defaultRegistry` (an origin) is used when the reference names no host.
 */
export function parseRemoteImage(text: string, defaultRegistry: string): RemoteImage {
  const invalid = (why: string) =>
    new CliError('USAGE', `"${text}" is not an image reference: ${why}`, {
      hint: 'write [HOST/]NAME[:TAG|@DIGEST], e.g. localhost:5000/my-project/backend/api:v1 or docker.io/library/alpine:3.20',
    });
  let rest = text.trim().replace(/^docker:\/\//, '');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestShape.test(digest))
      throw invalid(`"${digest}" is not a digest: write sha256: and its 64 hex digits`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagShape.test(tag)) throw invalid(`"${tag}" is not a tag`);
  }
  const components = rest.split('/');
  let host: string | undefined;
  if (components.length > 1 && isHost(components[0] ?? '')) host = components.shift();
  if (components.length === 0 || components.some((component) => !nameComponent.test(component))) {
    throw invalid('the name must be lowercase letters and digits separated by ".", "_", "-" or "/"');
  }
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = dockerHub.host;
  if (host === dockerHub.host && components.length === 1) components.unshift('library');
  const name = components.join('/');
  if (host === undefined) {
    return { registry: defaultRegistry, host: new URL(defaultRegistry).host, name, tag, digest };
  }
  return { registry: originOfHost(host), host, name, tag, digest };
}

/** `HOST/NAME[:TAG][@DIGEST]`, for messages and results. */
export function formatRemoteImage(image: RemoteImage): string {
  const base = `${image.host}/${image.name}`;
  if (image.digest) return `${base}@${image.digest}`;
  return image.tag ? `${base}:${image.tag}` : base;
}

/** The same image with another tag or digest. */
export function withReference(image: RemoteImage, reference: { tag?: string; digest?: string }): RemoteImage {
  return { ...image, tag: reference.tag, digest: reference.digest };
}
