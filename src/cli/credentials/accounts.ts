import { join } from 'node:path';
import { CliError } from '../errors.js';
import { readJsonFile, withLock, writePrivateFile } from './files.js';
import { registryHost, sameHost, sameRegistry } from './registry-url.js';
import type { SecretBackend } from './secret-store.js';

/**
 * The accounts the CLI is signed in with, per registry, and which one is active: `accounts.json` in
 * the config directory. It names where each account's secrets are; it never holds a secret itself.
 */

export type AccountKind = 'user' | 'serviceAccount';

export interface AccountRecord {
  /** The user's login, or the service account's email. */
  readonly name: string;
  readonly kind: AccountKind;
  /** Where the account's tokens (and, for a service account, its key) are kept. */
  readonly backend: SecretBackend;
  readonly tokenEndpoint: string;
  readonly revocationEndpoint?: string;
  /** ISO time the account was added. */
  readonly addedAt: string;
}

export interface RegistryAccounts {
  active?: string;
  accounts: Record<string, AccountRecord>;
}

/** What `docker login` handed the credential helper with `store`, per server URL. */
export interface DockerCredentialRecord {
  readonly username: string;
  readonly backend: SecretBackend;
  /** ISO time `docker login` stored them: a sign-in later than the CLI account's wins. */
  readonly storedAt?: string;
}

export interface AccountsData {
  version: 1;
  registries: Record<string, RegistryAccounts>;
  docker: Record<string, DockerCredentialRecord>;
}

/** What is kept in the secret store for an account. */
export interface AccountSecret {
  accessToken?: string;
  /** Seconds since the epoch. */
  accessTokenExpiresAt?: number;
  refreshToken?: string;
  /** A service account's key file (JSON text). */
  keyFile?: string;
}

export const secretKeys = {
  account: (registry: string, name: string) => `account ${registry} ${name}`,
  docker: (serverUrl: string) => `docker ${serverUrl}`,
  /** The access token cached for a `MISTRIVE_KEY` key. */
  environmentKey: (registry: string, keyId: string) => `key ${registry} ${keyId}`,
} as const;

const empty = (): AccountsData => ({ version: 1, registries: {}, docker: {} });

export class AccountBook {
  readonly path: string;

  constructor(configDir: string) {
    this.path = join(configDir, 'accounts.json');
  }

  async read(): Promise<AccountsData> {
    let data: Partial<AccountsData> | undefined;
    try {
      data = await readJsonFile<Partial<AccountsData>>(this.path);
    } catch (error) {
      throw new CliError('LOCAL_FILE', `${this.path} is unreadable (${(error as Error).message})`, {
        hint: 'delete it and sign in again',
        cause: error,
      });
    }
    return { ...empty(), ...data, version: 1 };
  }

  /** Reads, changes and writes the file under a lock; returns what `change` returned. */
  async update<T>(change: (data: AccountsData) => T): Promise<T> {
    return withLock(`${this.path}.lock`, async () => {
      const data = await this.read();
      const result = change(data);
      await writePrivateFile(this.path, `${JSON.stringify(data, null, 2)}\n`);
      return result;
    });
  }

  /** Adds or replaces an account and makes it the registry's active one. */
  async add(registry: string, account: AccountRecord): Promise<void> {
    await this.update((data) => {
      registry = storedRegistry(data, registry);
      const entry = data.registries[registry] ?? { accounts: {} };
      data.registries[registry] = entry;
      entry.accounts[account.name] = account;
      entry.active = account.name;
    });
  }

  /** Forgets an account; another account of the registry becomes active when it was. */
  async remove(registry: string, name: string): Promise<boolean> {
    return this.update((data) => {
      registry = storedRegistry(data, registry);
      const entry = data.registries[registry];
      if (!entry?.accounts[name]) return false;
      delete entry.accounts[name];
      if (entry.active === name) entry.active = Object.keys(entry.accounts)[0];
      if (Object.keys(entry.accounts).length === 0) delete data.registries[registry];
      return true;
    });
  }
}

/**
 * The key under which the accounts of `registry` are kept: the registry itself, or the spelling it
 * was first signed in with when that is another loopback name of the same port (`localhost:5000` and
 * `127.0.0.1:5000` are one registry).
 */
export function storedRegistry(data: AccountsData, registry: string): string {
  if (data.registries[registry]) return registry;
  return Object.keys(data.registries).find((stored) => sameRegistry(stored, registry)) ?? registry;
}

/** The active account of a registry, if any. */
export function activeAccount(data: AccountsData, registry: string): AccountRecord | undefined {
  const entry = data.registries[storedRegistry(data, registry)];
  return entry?.active ? entry.accounts[entry.active] : undefined;
}

/** The registries (origins) whose Docker host is `host`, loopback names of one port alike. */
export function registriesForHost(data: AccountsData, host: string): string[] {
  return Object.keys(data.registries).filter((registry) => sameHost(registryHost(registry), host));
}
