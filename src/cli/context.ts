import { ApiClient } from '../client/api-client.js';
import { trustCertificatesIn } from '../client/trusted-cas.js';
import { type BrowserOpener, browserOpener } from './browser.js';
import { CliConfig } from './config.js';
import { AccountBook } from './credentials/accounts.js';
import { guessedHttps as guessedHttpsOf, normalizeRegistry } from './credentials/registry-url.js';
import {
  environmentKey,
  getAccessToken,
  keyRegistry,
  type SessionEnvironment,
} from './credentials/session.js';
import { CliError } from './errors.js';
import { type CliIo, processIo } from './io.js';
import { configDirectory } from './paths.js';

/** Where `mistrive serve` listens by default: the registry used when nothing else names one. */
export const defaultRegistry = 'http://127.0.0.1:5000';

/**
 * Everything a command needs from the outside world, built once per run: environment, streams,
 * config, accounts and secrets, the browser, the clock and the API client. Commands and the
 * functions under src/cli take it instead of reaching for globals.
 */
export interface CliContext {
  readonly env: NodeJS.ProcessEnv;
  readonly io: CliIo;
  readonly configDir: string;
  readonly config: CliConfig;
  readonly accounts: AccountBook;
  readonly session: SessionEnvironment;
  readonly browser: BrowserOpener;
  now(): Date;
  /** Writes a line for people on stderr (notices, instructions), whatever the output format. */
  notice(message: string): void;
  /** The registry: the flag, else MISTRIVE_REGISTRY, else the config, else MISTRIVE_KEY's, else the default. */
  registry(flag?: string): string;
  /** The project: the flag, else the config's default project. */
  project(flag?: string): string;
  /** An API client for the registry, signed in with its active account (or MISTRIVE_KEY). */
  api(registry: string): ApiClient;
  /** A registry given as a URL or bare `HOST[:PORT]` as an origin; remembers which ones were taken as https from a bare host. */
  normalizeRegistry(input: string): string | undefined;
  /** Origins taken as https from a bare, non-loopback host in this run (see `registry-scheme.ts`). */
  readonly guessedHttps: ReadonlySet<string>;
}

export function createContext(env: NodeJS.ProcessEnv = process.env, io: CliIo = processIo(env)): CliContext {
  const configDir = configDirectory(env);
  trustCertificatesIn(configDir);
  let config: CliConfig | undefined;
  const notice = (message: string) => {
    io.stderr.write(`${message}\n`);
  };
  const session: SessionEnvironment = {
    env,
    configDir,
    nowSeconds: () => Math.floor(Date.now() / 1000),
    notice,
  };
  const guessedHttps = new Set<string>();
  const context: CliContext = {
    env,
    io,
    configDir,
    get config() {
      if (!config) {
        try {
          config = new CliConfig(configDir);
        } catch (error) {
          throw new CliError(
            'LOCAL_FILE',
            `the CLI configuration in ${configDir} is unreadable: ${(error as Error).message}`,
            {
              hint: 'fix or delete config.json in that directory',
            },
          );
        }
      }
      return config;
    },
    accounts: new AccountBook(configDir),
    session,
    browser: browserOpener(env),
    now: () => new Date(),
    notice,
    registry(flag) {
      const given = flag ?? env.MISTRIVE_REGISTRY;
      if (given !== undefined) {
        const registry = context.normalizeRegistry(given);
        if (!registry) {
          throw new CliError('USAGE', `"${given}" is not a registry address`, {
            hint: 'use a URL such as https://registry.example.com or HOST:PORT such as localhost:5000',
          });
        }
        return registry;
      }
      const configured = context.config.get('registry');
      if (configured) return configured;
      const key = environmentKey(env);
      return (key && keyRegistry(key)) || defaultRegistry;
    },
    project(flag) {
      const project = flag ?? context.config.get('project');
      if (!project) {
        throw new CliError('USAGE', 'no project given', {
          hint: 'pass --project P, or set a default with `mistrive config set project P`',
        });
      }
      return project;
    },
    guessedHttps,
    normalizeRegistry(input) {
      const guessed = guessedHttpsOf(input);
      if (guessed) guessedHttps.add(guessed);
      return normalizeRegistry(input);
    },
    api(registry) {
      return new ApiClient(registry, async () => (await getAccessToken(session, registry)).token);
    },
  };
  return context;
}
