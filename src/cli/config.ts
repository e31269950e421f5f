import Conf from 'conf';
import { normalizeRegistry } from './credentials/registry-url.js';
import { CliError } from './errors.js';

/**
 * The CLI's settings (`config.json` in the config directory, through `conf`). Plain settings only:
 * tokens and keys never go here.
 */

const idShape = /^[a-z][a-z0-9-]{0,62}$/;

export interface SettingDefinition {
  readonly description: string;
  /** The value to store, or a CliError saying what is wrong. */
  readonly parse: (value: string) => string;
}

export const settings = {
  registry: {
    description: 'the registry the commands talk to, as a URL or HOST:PORT (loopback hosts default to http)',
    parse: (value: string) => {
      const registry = normalizeRegistry(value);
      if (!registry) {
        throw new CliError('INVALID_ARGUMENT', `"${value}" is not a registry address`, {
          hint: 'use a URL such as https://registry.example.com or HOST:PORT such as localhost:5000',
        });
      }
      return registry;
    },
  },
  project: {
    description: 'the project commands use when --project is not given',
    parse: (value: string) => {
      if (!idShape.test(value)) {
        throw new CliError('INVALID_ARGUMENT', `"${value}" is not a project ID`, {
          hint: 'project IDs are lowercase letters, digits and hyphens, starting with a letter',
        });
      }
      return value;
    },
  },
} as const satisfies Record<string, SettingDefinition>;

export type SettingName = keyof typeof settings;
export const settingNames = Object.keys(settings) as SettingName[];

export function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(settings, name);
}

type Settings = Partial<Record<SettingName, string>>;

export class CliConfig {
  private readonly store: Conf<Settings>;

  constructor(configDir: string) {
    this.store = new Conf<Settings>({ cwd: configDir, configName: 'config', projectName: 'mistrive' });
  }

  get path(): string {
    return this.store.path;
  }

  get(name: SettingName): string | undefined {
    return this.store.get(name);
  }

  /** Checks and stores a setting; returns what was stored (a registry address is normalized). */
  set(name: SettingName, value: string): string {
    const parsed = settings[name].parse(value);
    this.store.set(name, parsed);
    return parsed;
  }

  unset(name: SettingName): void {
    this.store.delete(name);
  }

  all(): Settings {
    const values: Settings = {};
    for (const name of settingNames) {
      const value = this.store.get(name);
      if (value !== undefined) values[name] = value;
    }
    return values;
  }
}
