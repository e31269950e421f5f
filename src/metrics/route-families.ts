/**
 * Requests are counted by route family, not by path: a path names images and digests without end,
 * a family is one of a handful. The registry's routes keep their own names (`manifest`, `blob`…).
 */
const registryFamilies: Readonly<Record<string, string>> = {
  base: 'v2-base',
  catalog: 'v2-catalog',
  tags: 'v2-tags',
  manifest: 'v2-manifests',
  'upload-start': 'v2-uploads',
  upload: 'v2-uploads',
  blob: 'v2-blobs',
  referrers: 'v2-referrers',
  'registry-token': 'token',
};

/** The family of a route by its name; `unmatched` for requests no route took. */
export function routeFamily(routeName: string | undefined): string {
  if (routeName === undefined) return 'unmatched';
  const registry = registryFamilies[routeName];
  if (registry) return registry;
  if (routeName.startsWith('api ')) return 'api';
  if (routeName.startsWith('oauth-')) return 'oauth';
  if (routeName.startsWith('console')) return 'console';
  if (routeName.startsWith('ops-')) return 'ops';
  return 'other';
}

/** The family whose requests in flight are uploads in progress. */
export const uploadFamily = 'v2-uploads';
