import {
  AccountBook,
  type AccountRecord,
  activeAccount,
  type DockerCredentialRecord,
  registriesForHost,
  secretKeys,
} from '../cli/credentials/accounts.js';
import { normalizeRegistry, registryHost, sameHost, serverUrlHost } from '../cli/credentials/registry-url.js';
import { openSecretStore, saveSecret } from '../cli/credentials/secret-store.js';
import {
  environmentKey,
  getAccessToken,
  keyRegistry,
  type SessionEnvironment,
} from '../cli/credentials/session.js';
import { accountNameOf, jwtClaims } from '../cli/credentials/tokens.js';
import { CliError } from '../cli/errors.js';

/**
 * The Docker credential-helpers protocol (`docker-credential-mistrive get|store|erase|list`), as the
 * reference helpers speak it: the request on stdin, the answer as JSON on stdout, and an error as one
 * line on stdout with exit status 1. `get` answers with `oauth2accesstoken` and an access token.
 */

export const helperName = 'docker-credential-mistrive';
export const notFoundMessage = 'credentials not found in native keychain';
export const missingServerUrlMessage = 'no credentials server URL';
export const missingUsernameMessage = 'no credentials username';
export const accessTokenUsername = 'oauth2accesstoken';

export interface HelperResult {
  readonly stdout: string;
  readonly exitCode: number;
}

/** What `docker login` hands to `store`. */
interface StoredCredentials {
  ServerURL?: unknown;
  Username?: unknown;
  Secret?: unknown;
}

class HelperError extends Error {}

/** Verbs that read their request from stdin. */
export const verbsReadingStdin: ReadonlySet<string> = new Set(['get', 'store', 'erase']);

export function usage(): string {
  return `Usage: ${helperName} <store|get|erase|list|version>`;
}

/** JSON as Go's encoder writes it: map keys sorted, `<`, `>`, `&` and line separators escaped, a newline after. */
export function goJson(value: unknown): string {
  const sorted = (item: unknown): unknown => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    return Object.fromEntries(
      Object.keys(item)
        .sort()
        .map((key) => [key, sorted((item as Record<string, unknown>)[key])]),
    );
  };
  const text = JSON.stringify(sorted(value)).replace(
    /[<>&\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `${text}\n`;
}

/** Runs one helper invocation: `args` are the arguments after the program name. */
export async function runHelper(
  args: readonly string[],
  stdin: string,
  session: SessionEnvironment,
  version: () => Promise<string>,
): Promise<HelperResult> {
  if (args.length !== 1) return { stdout: `${usage()}\n`, exitCode: 1 };
  const verb = args[0] as string;
  try {
    switch (verb) {
      case '--help':
      case '-h':
        return { stdout: `${usage()}\n`, exitCode: 0 };
      case '--version':
      case '-v':
      case 'version':
        return { stdout: `${helperName} (mistrive) ${await version()}\n`, exitCode: 0 };
      case 'get':
        return { stdout: await get(stdin, session), exitCode: 0 };
      case 'store':
        await store(stdin, session);
        return { stdout: '', exitCode: 0 };
      case 'erase':
        await erase(stdin, session);
        return { stdout: '', exitCode: 0 };
      case 'list':
        return { stdout: await list(session), exitCode: 0 };
      default:
        return { stdout: `${helperName}: unknown action: ${verb}\n`, exitCode: 1 };
    }
  } catch (error) {
    return { stdout: `${errorLine(error)}\n`, exitCode: 1 };
  }
}

function errorLine(error: unknown): string {
  if (error instanceof CliError) {
    return (error.hint ? `${error.message}: ${error.hint}` : error.message).replace(/\s*\n\s*/g, ' ');
  }
  return ((error as Error).message ?? String(error)).replace(/\s*\n\s*/g, ' ');
}

function serverUrlOf(stdin: string): string {
  const serverUrl = stdin.trim();
  if (!serverUrl) throw new HelperError(missingServerUrlMessage);
  return serverUrl;
}

async function get(stdin: string, session: SessionEnvironment): Promise<string> {
  const serverUrl = serverUrlOf(stdin);
  const host = serverUrlHost(serverUrl);
  if (!host) throw new HelperError(notFoundMessage);
  // Go encodes a struct's fields in their declared order.
  const answer = (username: string, secret: string) =>
    `{"ServerURL":${quote(serverUrl)},"Username":${quote(username)},"Secret":${quote(secret)}}\n`;

  const key = environmentKey(session.env);
  if (key) {
    const registry = keyRegistry(key) ?? normalizeRegistry(host);
    if (registry && sameHost(registryHost(registry), host)) {
      const token = await getAccessToken(session, registry);
      return answer(accessTokenUsername, token.token);
    }
  }
  const data = await new AccountBook(session.configDir).read();
  const stored = dockerRecord(data.docker, serverUrl, host);
  const storedSecret = async () =>
    stored &&
    openSecretStore(stored.record.backend, session.configDir).get(secretKeys.docker(stored.serverUrl));
  for (const registry of registriesForHost(data, host)) {
    const account = activeAccount(data, registry);
    if (!account) continue;
    // The latest explicit sign-in for the host wins: a `docker login` after the CLI's sign-in is
    // answered with what it stored, until the CLI signs in again or `docker logout` erases it.
    if (stored && signedInLater(stored.record, account)) {
      const secret = await storedSecret();
      if (secret !== undefined && !isTokenOf(stored.record, secret, account))
        return answer(stored.record.username, secret);
    }
    const token = await getAccessToken(session, registry);
    return answer(accessTokenUsername, token.token);
  }
  const secret = await storedSecret();
  if (stored && secret !== undefined) return answer(stored.record.username, secret);
  throw new HelperError(notFoundMessage);
}

/** Whether `docker login` stored these credentials after the CLI signed the account in. */
function signedInLater(record: DockerCredentialRecord, account: AccountRecord): boolean {
  return record.storedAt !== undefined && Date.parse(record.storedAt) > Date.parse(account.addedAt);
}

/**
 * Whether what `docker login` stored is an access token of the account itself (`auth docker-login`
 * hands Docker one): then the account answers, with a token it keeps fresh.
 */
function isTokenOf(record: DockerCredentialRecord, secret: string, account: AccountRecord): boolean {
  if (record.username !== accessTokenUsername) return false;
  const subject = jwtClaims(secret)?.sub;
  return subject !== undefined && accountNameOf(subject).name === account.name;
}

function quote(text: string): string {
  return goJson(text).trimEnd();
}

/** The record `store` kept for this server URL, or for another spelling of the same host. */
function dockerRecord<T>(records: Record<string, T>, serverUrl: string, host: string) {
  const exact = records[serverUrl];
  if (exact) return { serverUrl, record: exact };
  for (const [url, record] of Object.entries(records)) {
    if (sameHost(serverUrlHost(url) ?? '', host)) return { serverUrl: url, record };
  }
  return undefined;
}

async function store(stdin: string, session: SessionEnvironment): Promise<void> {
  let credentials: StoredCredentials;
  try {
    credentials = JSON.parse(stdin) as StoredCredentials;
  } catch {
    throw new HelperError(
      'malformed credentials: expected a JSON object with ServerURL, Username and Secret',
    );
  }
  if (credentials === null || typeof credentials !== 'object' || Array.isArray(credentials)) {
    throw new HelperError(
      'malformed credentials: expected a JSON object with ServerURL, Username and Secret',
    );
  }
  const serverUrl = typeof credentials.ServerURL === 'string' ? credentials.ServerURL.trim() : '';
  if (!serverUrl) throw new HelperError(missingServerUrlMessage);
  const username = typeof credentials.Username === 'string' ? credentials.Username : '';
  if (!username) throw new HelperError(missingUsernameMessage);
  const secret = typeof credentials.Secret === 'string' ? credentials.Secret : '';
  const backend = await saveSecret(
    session.env,
    session.configDir,
    secretKeys.docker(serverUrl),
    secret,
    session.notice,
  );
  await new AccountBook(session.configDir).update((data) => {
    data.docker[serverUrl] = { username, backend, storedAt: new Date().toISOString() };
  });
}

async function erase(stdin: string, session: SessionEnvironment): Promise<void> {
  const serverUrl = serverUrlOf(stdin);
  const host = serverUrlHost(serverUrl);
  const book = new AccountBook(session.configDir);
  const found = host ? dockerRecord((await book.read()).docker, serverUrl, host) : undefined;
  if (!found) throw new HelperError(notFoundMessage);
  await openSecretStore(found.record.backend, session.configDir).delete(secretKeys.docker(found.serverUrl));
  await book.update((data) => {
    delete data.docker[found.serverUrl];
  });
}

async function list(session: SessionEnvironment): Promise<string> {
  const data = await new AccountBook(session.configDir).read();
  const entries: Record<string, string> = {};
  for (const [serverUrl, record] of Object.entries(data.docker)) entries[serverUrl] = record.username;
  for (const registry of Object.keys(data.registries)) {
    const account = activeAccount(data, registry);
    if (!account) continue;
    const host = registryHost(registry);
    // A later `docker login` for the host answers `get`: its user is what `list` shows.
    const stored = dockerRecord(data.docker, host, host);
    if (stored && signedInLater(stored.record, account) && stored.record.username !== accessTokenUsername)
      continue;
    entries[host] = accessTokenUsername;
  }
  const key = environmentKey(session.env);
  const registry = key ? keyRegistry(key) : undefined;
  if (registry) entries[registryHost(registry)] = accessTokenUsername;
  return goJson(entries);
}
