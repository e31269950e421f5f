import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { readJsonFile, withLock, writePrivateFile } from './files.js';

/**
 * Where secrets (access and refresh tokens, service-account keys) are kept: the OS keychain (macOS
 * Keychain, Windows Credential Manager, the Secret Service on Linux) when there is one, else a file
 * readable only by the user. Never the plain config.
 */
export type SecretBackend = 'keychain' | 'file';

export interface SecretStore {
  readonly backend: SecretBackend;
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  /** False when there was nothing to delete. */
  delete(key: string): Promise<boolean>;
}

const keychainService = 'mistrive';
// On Linux, only the Secret Service persists across sessions: never fall back to the kernel keyring.
const entryOptions = { linux: { store: 'secret-service' as const } };

type KeyringModule = typeof import('@napi-rs/keyring');
let keyring: KeyringModule | undefined;
/** Loaded on first use, through `require`: it is CommonJS, and this skips the ESM wrapper's parse on the helper's hot path. */
const loadKeyring = async (): Promise<KeyringModule> => {
  keyring ??= createRequire(import.meta.url)('@napi-rs/keyring') as KeyringModule;
  return keyring;
};

export class KeychainSecretStore implements SecretStore {
  readonly backend = 'keychain';

  async get(key: string): Promise<string | undefined> {
    const { Entry } = await loadKeyring();
    return new Entry(keychainService, key, entryOptions).getPassword() ?? undefined;
  }

  async set(key: string, value: string): Promise<void> {
    const { Entry } = await loadKeyring();
    new Entry(keychainService, key, entryOptions).setPassword(value);
  }

  async delete(key: string): Promise<boolean> {
    const { Entry } = await loadKeyring();
    return new Entry(keychainService, key, entryOptions).deleteCredential();
  }

  /** True when a keychain answers here (on a headless Linux box there is usually no Secret Service). */
  static async available(): Promise<boolean> {
    try {
      const { Entry } = await loadKeyring();
      new Entry(keychainService, 'availability-probe', entryOptions).getPassword();
      return true;
    } catch {
      return false;
    }
  }
}

interface SecretsFile {
  readonly version: 1;
  readonly secrets: Record<string, string>;
}

/** `credentials.json` in the config directory, mode 0600: for machines without a keychain. */
export class FileSecretStore implements SecretStore {
  readonly backend = 'file';
  readonly path: string;

  /** `onCreate` is told once, when the file is first created, so the user learns where secrets went. */
  constructor(
    configDir: string,
    private readonly onCreate: (path: string) => void = () => {},
  ) {
    this.path = join(configDir, 'credentials.json');
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.read())?.secrets[key];
  }

  private async read(): Promise<SecretsFile | undefined> {
    try {
      return await readJsonFile<SecretsFile>(this.path);
    } catch (error) {
      throw new CliError('LOCAL_FILE', `${this.path} is unreadable (${(error as Error).message})`, {
        hint: 'delete it and sign in again',
        cause: error,
      });
    }
  }

  async set(key: string, value: string): Promise<void> {
    await this.update((secrets) => {
      secrets[key] = value;
      return true;
    });
  }

  async delete(key: string): Promise<boolean> {
    return this.update((secrets) => {
      if (!(key in secrets)) return false;
      delete secrets[key];
      return true;
    });
  }

  private update(change: (secrets: Record<string, string>) => boolean): Promise<boolean> {
    return withLock(`${this.path}.lock`, async () => {
      const existing = await this.read();
      const secrets = { ...existing?.secrets };
      if (!change(secrets)) return false;
      await writePrivateFile(
        this.path,
        `${JSON.stringify({ version: 1, secrets } satisfies SecretsFile, null, 2)}\n`,
      );
      if (!existing) this.onCreate(this.path);
      return true;
    });
  }
}

/** The notice shown once, when secrets first go to a file because no keychain answered. */
export function fileStoreNotice(path: string): string {
  return `No OS keychain is available here (on Linux: no Secret Service), so credentials are stored in ${path}, readable only by you.`;
}

/**
 * The backend new secrets go to: `MISTRIVE_CREDENTIAL_STORE` (`keychain` or `file`) when set, else
 * the keychain when one answers, else the file.
 */
export async function chooseSecretBackend(env: NodeJS.ProcessEnv): Promise<SecretBackend> {
  const forced = env.MISTRIVE_CREDENTIAL_STORE;
  if (forced === 'keychain' || forced === 'file') return forced;
  return (await KeychainSecretStore.available()) ? 'keychain' : 'file';
}

/**
 * Keeps a new secret: in the backend `chooseSecretBackend` picks, else, when the keychain is there
 * but refuses to store it (a locked GNOME keyring, or one without a default collection, answers
 * "no result found"), in the 0600 file, with a one-line notice saying why. When the keychain was
 * asked for by MISTRIVE_CREDENTIAL_STORE=keychain, its refusal is an error instead. Returns where
 * the secret went.
 */
export async function saveSecret(
  env: NodeJS.ProcessEnv,
  configDir: string,
  key: string,
  value: string,
  notice: (message: string) => void,
): Promise<SecretBackend> {
  const backend = await chooseSecretBackend(env);
  if (backend === 'keychain') {
    try {
      await new KeychainSecretStore().set(key, value);
      return 'keychain';
    } catch (error) {
      const reason = keychainRefusal(error);
      if (env.MISTRIVE_CREDENTIAL_STORE === 'keychain') {
        throw new CliError('LOCAL_FILE', `the OS keychain refused to store the credentials: ${reason}`, {
          hint: 'unlock the keyring, or set MISTRIVE_CREDENTIAL_STORE=file to keep credentials in a file readable only by you',
          cause: error,
        });
      }
      const file = new FileSecretStore(configDir);
      await file.set(key, value);
      notice(keychainFallbackNotice(file.path, reason));
      return 'file';
    }
  }
  await openSecretStore('file', configDir, (path) => notice(fileStoreNotice(path))).set(key, value);
  return 'file';
}

/** Why the keychain refused, in words: its own message, with what usually causes it on Linux. */
function keychainRefusal(error: unknown): string {
  const message = ((error as Error).message ?? String(error)).replace(
    /^Couldn't access platform storage: /,
    '',
  );
  return /no result found/i.test(message)
    ? `${message}; the keyring is locked or has no default collection`
    : message;
}

/** The notice shown when the keychain answered but refused a secret, so it went to the file. */
export function keychainFallbackNotice(path: string, reason: string): string {
  return `The OS keychain refused to store credentials (${reason}), so they are stored in ${path}, readable only by you; unlock the keyring, or set MISTRIVE_CREDENTIAL_STORE=file to stop trying it.`;
}

export function openSecretStore(
  backend: SecretBackend,
  configDir: string,
  onFileCreated?: (path: string) => void,
): SecretStore {
  return backend === 'keychain' ? new KeychainSecretStore() : new FileSecretStore(configDir, onFileCreated);
}
