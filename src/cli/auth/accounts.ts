import { readFile } from 'node:fs/promises';
import { fetchMetadata, revokeToken } from '../../client/oauth-client.js';
import type { CliContext } from '../context.js';
import { type AccountKind, type AccountSecret, secretKeys, storedRegistry } from '../credentials/accounts.js';
import {
  looksLikeRegistry,
  registryHost,
  sameHost,
  sameRegistry,
  serverUrlHost,
} from '../credentials/registry-url.js';
import { openSecretStore } from '../credentials/secret-store.js';
import { environmentKey, getAccessToken, keyRegistry, tokenFromKey } from '../credentials/session.js';
import { parseServiceAccountKey } from '../credentials/tokens.js';
import { CliError } from '../errors.js';
import { type LoginResult, saveSession } from './login.js';

/** `auth list`, `auth logout`, `auth print-access-token` and `auth activate-service-account`. */

export interface AccountEntry {
  readonly registry: string;
  readonly account: string;
  readonly kind: AccountKind;
  readonly active: boolean;
  /** When the cached access token expires (ISO); it is renewed on use. Undefined when unknown. */
  readonly tokenExpiresAt: string | undefined;
  /** `keychain`, `file`, or `environment` for MISTRIVE_KEY. */
  readonly credentialStore: string;
}

export interface AccountList {
  readonly accounts: AccountEntry[];
}

export async function listAccounts(context: CliContext): Promise<AccountList> {
  const data = await context.accounts.read();
  const accounts: AccountEntry[] = [];
  for (const [registry, entry] of Object.entries(data.registries).sort(([a], [b]) => a.localeCompare(b))) {
    for (const record of Object.values(entry.accounts).sort((a, b) => a.name.localeCompare(b.name))) {
      let expiresAt: number | undefined;
      try {
        const secret = await openSecretStore(record.backend, context.configDir).get(
          secretKeys.account(registry, record.name),
        );
        expiresAt = secret ? (JSON.parse(secret) as AccountSecret).accessTokenExpiresAt : undefined;
      } catch {
        expiresAt = undefined;
      }
      accounts.push({
        registry,
        account: record.name,
        kind: record.kind,
        active: entry.active === record.name,
        tokenExpiresAt: expiresAt === undefined ? undefined : new Date(expiresAt * 1000).toISOString(),
        credentialStore: record.backend,
      });
    }
  }
  const key = environmentKey(context.env);
  if (key) {
    const registry = keyRegistry(key) ?? context.registry();
    // The key wins over the stored accounts of its registry: only it is active there.
    return {
      accounts: [
        {
          registry,
          account: key.client_email,
          kind: 'serviceAccount',
          active: true,
          tokenExpiresAt: undefined,
          credentialStore: 'environment',
        },
        ...accounts.map((entry) =>
          sameRegistry(entry.registry, registry) ? { ...entry, active: false } : entry,
        ),
      ],
    };
  }
  return { accounts };
}

export interface LogoutResult {
  readonly registry: string;
  readonly account: string;
  /** Whether the server confirmed the revocation of the session's tokens. */
  readonly revoked: boolean;
  /** The registry's active account now, if another remains. */
  readonly active: string | undefined;
}

/** Revokes the account's session on the server (best effort) and forgets it here. */
export async function logout(context: CliContext, registry: string, account?: string): Promise<LogoutResult> {
  const data = await context.accounts.read();
  const stored = storedRegistry(data, registry);
  const entry = data.registries[stored];
  const name = account ?? entry?.active;
  const record = name ? entry?.accounts[name] : undefined;
  if (!record || !name) {
    // Not signed in is exit code 3 whichever command finds it; a named account that is not there, 5.
    const hint = '`mistrive auth list` shows the accounts';
    throw account
      ? new CliError('NOT_FOUND', `there is no account ${account} for ${registry}`, { hint })
      : new CliError('AUTH_REQUIRED', `you are not signed in to ${registry}`, { hint });
  }
  const store = openSecretStore(record.backend, context.configDir);
  const key = secretKeys.account(stored, name);
  let secret: AccountSecret | undefined;
  try {
    const text = await store.get(key);
    secret = text ? (JSON.parse(text) as AccountSecret) : undefined;
  } catch {
    secret = undefined;
  }
  let revoked = false;
  try {
    const endpoint = record.revocationEndpoint ?? (await fetchMetadata(registry)).revocation_endpoint;
    if (endpoint && secret?.refreshToken)
      revoked = await revokeToken(endpoint, secret.refreshToken, 'refresh_token');
    if (endpoint && secret?.accessToken) {
      revoked = (await revokeToken(endpoint, secret.accessToken, 'access_token')) || revoked;
    }
  } catch {
    // Unreachable registry: forget the session locally all the same; the tokens expire on their own.
  }
  await store.delete(key).catch(() => false);
  await context.accounts.remove(stored, name);
  await forgetDockerTokens(context, stored);
  const after = await context.accounts.read();
  return { registry, account: name, revoked, active: after.registries[stored]?.active };
}

/**
 * Access tokens `docker login` handed the credential helper for this registry (`auth docker-login`)
 * end with the session: forget them too, so the helper does not hand out a revoked token.
 */
async function forgetDockerTokens(context: CliContext, registry: string): Promise<void> {
  const host = registryHost(registry);
  const data = await context.accounts.read();
  const stale = Object.entries(data.docker).filter(
    ([serverUrl, record]) =>
      record.username === 'oauth2accesstoken' && sameHost(serverUrlHost(serverUrl) ?? '', host),
  );
  if (stale.length === 0) return;
  for (const [serverUrl, record] of stale) {
    await openSecretStore(record.backend, context.configDir)
      .delete(secretKeys.docker(serverUrl))
      .catch(() => false);
  }
  await context.accounts.update((current) => {
    for (const [serverUrl] of stale) delete current.docker[serverUrl];
  });
}

/**
 * The positional argument of `auth print-access-token` and `auth logout`: an account of the registry,
 * or, when it is no account there and reads as an address (`127.0.0.1:5000`, `localhost`, a URL),
 * the registry itself, as --registry would name it.
 */
export async function accountOrRegistry(
  context: CliContext,
  argument: string | undefined,
  registryFlag: string | undefined,
): Promise<{ registry: string; account: string | undefined }> {
  const registry = context.registry(registryFlag);
  if (argument === undefined) return { registry, account: undefined };
  const data = await context.accounts.read();
  if (data.registries[storedRegistry(data, registry)]?.accounts[argument] || !looksLikeRegistry(argument))
    return { registry, account: argument };
  if (registryFlag !== undefined) {
    throw new CliError('USAGE', `"${argument}" is a registry address, and --registry names one already`, {
      hint: 'give the account to use as the argument, and the registry with --registry',
    });
  }
  return { registry: context.registry(argument), account: undefined };
}

export interface AccessTokenResult {
  readonly registry: string;
  readonly account: string;
  readonly accessToken: string;
  readonly expiresAt: string;
}

/** A token that works as Bearer on /v2/ and the API: refreshed when it has less than a minute left. */
export async function printableAccessToken(
  context: CliContext,
  registry: string,
  account?: string,
): Promise<AccessTokenResult> {
  const token = await getAccessToken(context.session, registry, { account, minValiditySeconds: 60 });
  return {
    registry,
    account: token.account,
    accessToken: token.token,
    expiresAt: new Date(token.expiresAt * 1000).toISOString(),
  };
}

/** Signs in with a service-account key file: checks it by getting a token, and keeps it in the credential store. */
export async function activateServiceAccount(
  context: CliContext,
  keyFilePath: string,
  registryFlag: string | undefined,
): Promise<LoginResult> {
  let text: string;
  try {
    text = await readFile(keyFilePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const reason = unreadableKeyFile[code] ?? (code || (error as Error).message);
    throw new CliError('LOCAL_FILE', `cannot read the key file ${keyFilePath}: ${reason}`, {
      hint: 'pass the JSON file `mistrive service-accounts keys create FILE --service-account EMAIL` wrote',
    });
  }
  const key = parseServiceAccountKey(text);
  if (!key) {
    throw new CliError('LOCAL_FILE', `${keyFilePath} is not a service-account key file`, {
      hint: 'use the JSON file `mistrive service-accounts keys create` wrote',
    });
  }
  const registry = registryFlag ? context.registry(registryFlag) : (keyRegistry(key) ?? context.registry());
  const metadata = await fetchMetadata(registry);
  const token = await tokenFromKey(
    key,
    registry,
    context.session.nowSeconds(),
    key.token_uri ?? metadata.token_endpoint,
  );
  return saveSession(
    context,
    registry,
    { token_endpoint: token.tokenEndpoint, revocation_endpoint: metadata.revocation_endpoint },
    {
      access_token: token.accessToken,
      token_type: 'Bearer',
      expires_in: token.expiresAt - context.session.nowSeconds(),
    },
    'service-account-key',
    { keyFile: JSON.stringify(key) },
  );
}

/** Why a key file could not be read, in words. */
const unreadableKeyFile: Readonly<Record<string, string>> = {
  ENOENT: 'there is no such file',
  EACCES: 'you may not read it',
  EISDIR: 'it is a directory',
};
