import { join } from 'node:path';
import { CliError, hints } from '../errors.js';
import {
  AccountBook,
  type AccountKind,
  type AccountRecord,
  type AccountSecret,
  activeAccount,
  secretKeys,
  storedRegistry,
} from './accounts.js';
import { withLock } from './files.js';
import { normalizeRegistry, sameRegistry } from './registry-url.js';
import { chooseSecretBackend, fileStoreNotice, openSecretStore, type SecretStore } from './secret-store.js';
import {
  expiryOf,
  parseServiceAccountKey,
  refreshMarginSeconds,
  type ServiceAccountKey,
  signAssertion,
} from './tokens.js';

/**
 * Hands out a valid access token for a registry: the cached one while it has a few minutes left
 * (no network), else a fresh one from the refresh token or the service-account key, stored back.
 * Shared by the CLI and the credential helper, so it imports only what the helper can afford; the
 * HTTP client is loaded only when a token has to be fetched.
 */

export interface SessionEnvironment {
  readonly env: NodeJS.ProcessEnv;
  readonly configDir: string;
  readonly nowSeconds: () => number;
  /** Where one-time notices go (stderr). */
  readonly notice: (message: string) => void;
}

export interface AccessToken {
  readonly registry: string;
  readonly account: string;
  readonly kind: AccountKind;
  readonly token: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  /** Where it came from: the cache, a refresh, or `MISTRIVE_KEY`. */
  readonly source: 'cache' | 'refreshed' | 'environment-key';
}

export interface TokenOptions {
  /** A specific account of the registry instead of the active one. */
  readonly account?: string;
  /** Refresh when the cached token has less than this left (seconds). */
  readonly minValiditySeconds?: number;
  /** A new token whatever the cache holds (one handed to a program that keeps it, such as `docker login`). */
  readonly renew?: boolean;
}

const oauth = () => import('../../client/oauth-client.js');

/** `MISTRIVE_KEY` (a base64 service-account key), parsed; a set but unreadable key is an error. */
export function environmentKey(env: NodeJS.ProcessEnv): ServiceAccountKey | undefined {
  const text = env.MISTRIVE_KEY;
  if (!text) return undefined;
  const key = parseServiceAccountKey(text);
  if (!key) {
    throw new CliError(
      'LOCAL_FILE',
      'MISTRIVE_KEY is set but is not a service-account key (base64 of the key JSON)',
      {
        hint: 'set it to the output of `base64 -w0 key.json`, where key.json came from `mistrive service-accounts keys create`',
      },
    );
  }
  return key;
}

/** The registry a key belongs to (its token URI's origin), when it says. */
export function keyRegistry(key: ServiceAccountKey): string | undefined {
  return key.token_uri ? normalizeRegistry(key.token_uri) : undefined;
}

function parseSecret(text: string | undefined): AccountSecret | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as AccountSecret;
  } catch {
    return undefined;
  }
}

function fresh(
  secret: AccountSecret | undefined,
  now: number,
  margin: number,
): secret is AccountSecret & {
  accessToken: string;
  accessTokenExpiresAt: number;
} {
  return (
    secret?.accessToken !== undefined &&
    secret.accessTokenExpiresAt !== undefined &&
    secret.accessTokenExpiresAt - now > margin
  );
}

/** Exchanges a service-account key for an access token (RFC 7523 JWT-bearer grant). */
export async function tokenFromKey(
  key: ServiceAccountKey,
  registry: string,
  nowSeconds: number,
  tokenEndpoint?: string,
): Promise<{ accessToken: string; expiresAt: number; tokenEndpoint: string }> {
  const client = await oauth();
  const endpoint = tokenEndpoint ?? key.token_uri ?? (await client.fetchMetadata(registry)).token_endpoint;
  try {
    const assertion = await signAssertion(key, endpoint, nowSeconds);
    const response = await client.requestToken(endpoint, {
      grant_type: client.grantTypes.jwtBearer,
      assertion,
    });
    return {
      accessToken: response.access_token,
      expiresAt: expiryOf(response.access_token, response.expires_in, nowSeconds),
      tokenEndpoint: endpoint,
    };
  } catch (error) {
    const failure = client.grantFailed(
      error,
      registry,
      `the service-account key ${key.private_key_id} of ${key.client_email}`,
    );
    if (failure.code === 'AUTH_REQUIRED') {
      throw new CliError('AUTH_REQUIRED', failure.message, {
        hint: 'the key may have been deleted or disabled: create a new one with `mistrive service-accounts keys create`',
        cause: error,
      });
    }
    throw failure;
  }
}

export async function getAccessToken(
  session: SessionEnvironment,
  registry: string,
  options: TokenOptions = {},
): Promise<AccessToken> {
  // No cached token is fresh enough for a renewal.
  const margin = options.renew
    ? Number.POSITIVE_INFINITY
    : (options.minValiditySeconds ?? refreshMarginSeconds);
  const key = options.account === undefined ? environmentKey(session.env) : undefined;
  if (key && sameRegistry(keyRegistry(key) ?? registry, registry))
    return tokenForEnvironmentKey(session, registry, key, margin);

  const data = await new AccountBook(session.configDir).read();
  const stored = storedRegistry(data, registry);
  const account = options.account
    ? data.registries[stored]?.accounts[options.account]
    : activeAccount(data, stored);
  if (!account) {
    throw new CliError(
      'AUTH_REQUIRED',
      options.account
        ? `there is no account ${options.account} for ${registry}`
        : `you are not signed in to ${registry}`,
      { hint: hints.signIn(registry) },
    );
  }
  const store = openSecretStore(account.backend, session.configDir, (path) =>
    session.notice(fileStoreNotice(path)),
  );
  const secretKey = secretKeys.account(stored, account.name);
  const result = (secret: FreshSecret, source: AccessToken['source']): AccessToken => ({
    registry,
    account: account.name,
    kind: account.kind,
    token: secret.accessToken,
    expiresAt: secret.accessTokenExpiresAt,
    source,
  });

  const cached = parseSecret(await store.get(secretKey));
  if (fresh(cached, session.nowSeconds(), margin)) return result(cached, 'cache');

  return withLock(join(session.configDir, 'refresh.lock'), async () => {
    // Another process may have refreshed while this one waited for the lock.
    const current = parseSecret(await store.get(secretKey));
    if (!current) {
      throw new CliError(
        'AUTH_REQUIRED',
        `the credentials of ${account.name} for ${registry} are missing from the ${account.backend}`,
        {
          hint: hints.signIn(registry),
        },
      );
    }
    const now = session.nowSeconds();
    if (fresh(current, now, margin)) return result(current, 'cache');
    const next = await renew(account, current, registry, now);
    await store.set(secretKey, JSON.stringify(next));
    return result(next, 'refreshed');
  });
}

type FreshSecret = AccountSecret & { accessToken: string; accessTokenExpiresAt: number };

/** A new access token for an account: from its key (service account) or its refresh token, which rotates. */
async function renew(
  account: AccountRecord,
  current: AccountSecret,
  registry: string,
  now: number,
): Promise<FreshSecret> {
  if (account.kind === 'serviceAccount' && current.keyFile) {
    const key = parseServiceAccountKey(current.keyFile);
    if (!key) {
      throw new CliError('LOCAL_FILE', `the stored key of ${account.name} is unreadable`, {
        hint: hints.signIn(registry),
      });
    }
    const token = await tokenFromKey(key, registry, now, account.tokenEndpoint);
    return { ...current, accessToken: token.accessToken, accessTokenExpiresAt: token.expiresAt };
  }
  if (!current.refreshToken) {
    throw new CliError('AUTH_REQUIRED', `the session of ${account.name} at ${registry} has expired`, {
      hint: hints.signIn(registry),
    });
  }
  const client = await oauth();
  try {
    const response = await client.requestToken(account.tokenEndpoint, {
      grant_type: client.grantTypes.refreshToken,
      refresh_token: current.refreshToken,
    });
    return {
      ...current,
      accessToken: response.access_token,
      accessTokenExpiresAt: expiryOf(response.access_token, response.expires_in, now),
      // Refresh tokens rotate: the old one is spent.
      refreshToken: response.refresh_token ?? current.refreshToken,
    };
  } catch (error) {
    const failure = client.grantFailed(error, registry, `refreshing the session of ${account.name}`);
    if (failure.code !== 'AUTH_REQUIRED') throw failure;
    throw new CliError(
      'AUTH_REQUIRED',
      `the session of ${account.name} at ${registry} has expired or was revoked`,
      {
        hint: hints.signIn(registry),
        cause: error,
      },
    );
  }
}

async function tokenForEnvironmentKey(
  session: SessionEnvironment,
  registry: string,
  key: ServiceAccountKey,
  margin: number,
): Promise<AccessToken> {
  let store: SecretStore | undefined;
  const cacheKey = secretKeys.environmentKey(registry, key.private_key_id);
  const result = (token: string, expiresAt: number, source: AccessToken['source']): AccessToken => ({
    registry,
    account: key.client_email,
    kind: 'serviceAccount',
    token,
    expiresAt,
    source,
  });
  try {
    store = openSecretStore(await chooseSecretBackend(session.env), session.configDir, (path) =>
      session.notice(fileStoreNotice(path)),
    );
    const cached = parseSecret(await store.get(cacheKey));
    if (fresh(cached, session.nowSeconds(), margin))
      return result(cached.accessToken, cached.accessTokenExpiresAt, 'cache');
  } catch {
    // No usable cache: fetch a token every time.
    store = undefined;
  }
  const token = await tokenFromKey(key, registry, session.nowSeconds());
  try {
    await store?.set(
      cacheKey,
      JSON.stringify({ accessToken: token.accessToken, accessTokenExpiresAt: token.expiresAt }),
    );
  } catch {
    // The cache is an optimisation; the token is good either way.
  }
  return result(token.accessToken, token.expiresAt, 'environment-key');
}
