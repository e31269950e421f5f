import { Flags } from '@oclif/core';

/** The `--remote-*` flags of `repos create` and `repos update`: a remote repository's upstream. */
export const remoteFlags = {
  'remote-url': Flags.string({
    description: 'make it a pull-through cache of this upstream registry, e.g. https://registry-1.docker.io',
    helpGroup: 'REMOTE',
    helpValue: 'URL',
  }),
  'remote-username': Flags.string({
    description: 'the user the cache signs in to the upstream as',
    helpGroup: 'REMOTE',
  }),
  'remote-password-stdin': Flags.boolean({
    description: 'read the upstream password or token from stdin (stored encrypted, never shown)',
    helpGroup: 'REMOTE',
  }),
  'remote-prefix': Flags.string({
    description: 'put before image names upstream: with library/, PROJECT/REPO/nginx is library/nginx',
    helpGroup: 'REMOTE',
    helpValue: 'PREFIX/',
  }),
  'remote-ttl': Flags.string({
    description: 'how long a cached tag is served before it is checked upstream again [default: 10m]',
    helpGroup: 'REMOTE',
    helpValue: 'DURATION',
  }),
};
