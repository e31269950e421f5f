import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const durationShape = /^(\d+)(ms|s|m|h|d)$/;
const durationUnits = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Durations are written `500ms`, `30s`, `15m`, `24h` or `7d`; they become milliseconds. */
const duration = z.string().transform((text, context) => {
  const match = durationShape.exec(text);
  if (!match) {
    context.addIssue({ code: 'custom', message: `"${text}" is not a duration such as 30s, 15m, 24h or 7d` });
    return z.NEVER;
  }
  return Number(match[1]) * durationUnits[match[2] as keyof typeof durationUnits];
});

const configSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(5000),
    dataDir: z.string().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Create missing projects and repositories on first push: for throwaway local registries only. */
    autoCreateRepositories: z.boolean().default(true),
    uploads: z
      .object({
        /** Upload sessions untouched for this long are deleted with their bytes. */
        purgeAfter: duration.default(24 * 3_600_000),
        purgeEvery: duration.default(3_600_000),
      })
      .strict()
      .default({ purgeAfter: 24 * 3_600_000, purgeEvery: 3_600_000 }),
    /** How long shutdown waits for requests in flight before closing their connections. */
    shutdownGrace: duration.default(10_000),
  })
  .strict();

export type ServeConfig = z.infer<typeof configSchema> & { dataDir: string };

export type ServeOverrides = Partial<Pick<ServeConfig, 'host' | 'port' | 'dataDir' | 'logLevel'>> & {
  autoCreateRepositories?: boolean;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The default data directory: `$XDG_DATA_HOME/mistrive`, else `~/.local/share/mistrive`. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'mistrive');
}

/**
 * Builds the daemon's configuration: defaults, then the YAML or JSON file, then flags.
 * Environment variables are read here and nowhere else.
 */
export function loadServeConfig(
  file: string | undefined,
  overrides: ServeOverrides,
  env: NodeJS.ProcessEnv = process.env,
): ServeConfig {
  let fromFile: unknown = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
    }
    try {
      fromFile = parseYaml(text) ?? {};
    } catch (error) {
      throw new ConfigError(`config file ${file} is not valid YAML or JSON: ${(error as Error).message}`);
    }
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const result = configSchema.safeParse({ ...(fromFile as object), ...defined });
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(
      `invalid configuration${file ? ` in ${file}` : ''}: ${issue?.path.join('.') || 'config'}: ${issue?.message}`,
    );
  }
  return {
    ...result.data,
    dataDir: resolve(result.data.dataDir ?? env.MISTRIVE_DATA_DIR ?? defaultDataDir(env)),
  };
}
