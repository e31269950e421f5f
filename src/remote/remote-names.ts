import type { RemoteSettings } from '../db/remotes.js';
import { RegistryError } from '../errors/registry-error.js';

/**
 * How an image under a remote repository is named upstream: the remote's prefix, then the image's
 * name below `PROJECT/REPOSITORY/`. With the prefix `library/`, `p/r/nginx` is `library/nginx`;
 * without one, `p/r/bitnami/redis` is `bitnami/redis`. The prefix is put before every name, so a
 * Docker Hub cache without a prefix pulls official images as `p/r/library/nginx`.
 */
export function upstreamName(remote: Pick<RemoteSettings, 'prefix'>, image: string): string {
  return `${remote.prefix}${image}`;
}

const prefixShape = /^(?:[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*\/)*$/;

/** A prefix as stored: '' or name components each followed by `/` (`library` is taken as `library/`). */
export function normalizePrefix(text: string): string {
  const trimmed = text.replace(/^\/+|\/+$/g, '');
  const prefix = trimmed === '' ? '' : `${trimmed}/`;
  if (!prefixShape.test(prefix)) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `remote prefix "${text.slice(0, 100)}" is not the start of an image name, such as library/`,
    );
  }
  return prefix;
}

/** An upstream URL as stored: an http(s) origin, without path, query or credentials. */
export function normalizeUpstreamUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RegistryError('INVALID_ARGUMENT', `remote URL "${text.slice(0, 200)}" is not a URL`);
  }
  const problem =
    url.protocol !== 'http:' && url.protocol !== 'https:'
      ? 'must start with https:// or http://'
      : url.username || url.password
        ? 'must not hold credentials (give them as the remote username and password)'
        : (url.pathname !== '/' && url.pathname !== '/v2/' && url.pathname !== '/v2') ||
            url.search ||
            url.hash
          ? 'must be the registry itself, e.g. https://registry-1.docker.io, without a path'
          : undefined;
  if (problem) throw new RegistryError('INVALID_ARGUMENT', `remote URL ${url.origin} ${problem}`);
  return url.origin;
}
