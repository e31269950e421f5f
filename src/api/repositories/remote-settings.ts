import { z } from 'zod';
import { durationText } from '../../cleanup/policy.js';
import type { RemoteChanges, RemoteSettings } from '../../db/remotes.js';
import { formatDuration, parseDuration } from '../../lib/durations.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { normalizePrefix, normalizeUpstreamUrl } from '../../remote/remote-names.js';

/** A remote repository's settings as the API takes and shows them; the password goes in, never out. */

export const defaultRemoteTtl = '10m';

const url = z.string().describe('The upstream registry, e.g. https://registry-1.docker.io (no path)');
const username = z.string().min(1).max(256).describe('The user the cache signs in to the upstream as');
const password = z
  .string()
  .min(1)
  .max(4096)
  .describe('The upstream password or token; stored encrypted and never returned');
const prefix = z
  .string()
  .max(200)
  .describe(
    'Put before an image name to name it upstream: with library/, PROJECT/REPOSITORY/nginx is library/nginx upstream',
  );
const ttl = durationText.describe(
  'How long a cached tag is served before it is checked against the upstream again',
);

export const remoteInput = z
  .object({
    url,
    username: username.optional(),
    password: password.optional(),
    prefix: prefix.default(''),
    ttl: ttl.default(defaultRemoteTtl),
  })
  .strict()
  .describe('Makes the repository a pull-through cache of an upstream registry (a remote repository)');

export const remoteChangesInput = z
  .object({
    url: url.optional(),
    username: username.nullable().optional().describe('null removes the credentials'),
    password: password.nullable().optional(),
    prefix: prefix.optional(),
    ttl: ttl.optional(),
  })
  .strict()
  .describe("Changes to a remote repository's upstream settings; the others keep their values");

export const remoteView = z
  .object({
    url: z.string(),
    username: z.string().optional(),
    hasPassword: z.boolean().describe('Whether a password is stored (it is never shown)'),
    prefix: z.string(),
    ttl: z.string(),
  })
  .describe('The upstream of a remote repository (a pull-through cache)');

export type RemoteView = z.input<typeof remoteView>;

export function viewRemote(remote: RemoteSettings): RemoteView {
  return {
    url: remote.url,
    ...(remote.username !== undefined ? { username: remote.username } : {}),
    hasPassword: remote.sealedPassword !== undefined,
    prefix: remote.prefix,
    ttl: formatDuration(remote.ttlMs),
  };
}

/** The settings to store: URL and prefix normalized (or refused), the password sealed. */
export function remoteSettings(input: z.output<typeof remoteInput>, secrets: SecretBox): RemoteSettings {
  return {
    url: normalizeUpstreamUrl(input.url),
    username: input.username,
    sealedPassword: input.password === undefined ? undefined : secrets.seal(input.password),
    prefix: normalizePrefix(input.prefix),
    ttlMs: parseDuration(input.ttl) as number,
  };
}

export function remoteChanges(input: z.output<typeof remoteChangesInput>, secrets: SecretBox): RemoteChanges {
  return {
    ...(input.url !== undefined ? { url: normalizeUpstreamUrl(input.url) } : {}),
    ...(input.username !== undefined ? { username: input.username } : {}),
    ...(input.password !== undefined
      ? { sealedPassword: input.password === null ? null : secrets.seal(input.password) }
      : {}),
    // Removing the user removes the password with it: a password without a user signs nobody in.
    ...(input.username === null && input.password === undefined ? { sealedPassword: null } : {}),
    ...(input.prefix !== undefined ? { prefix: normalizePrefix(input.prefix) } : {}),
    ...(input.ttl !== undefined ? { ttlMs: parseDuration(input.ttl) as number } : {}),
  };
}
