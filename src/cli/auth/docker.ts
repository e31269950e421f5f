import { copyFile, readFile, stat } from 'node:fs/promises';
import type { CliContext } from '../context.js';
import { activeAccount, registriesForHost } from '../credentials/accounts.js';
import { writePrivateFile } from '../credentials/files.js';
import { normalizeRegistry, registryHost, sameHost } from '../credentials/registry-url.js';
import { environmentKey, getAccessToken, keyRegistry } from '../credentials/session.js';
import { CliError } from '../errors.js';
import { dockerConfigPath } from '../paths.js';

/** The name Docker derives the helper program from: `docker-credential-` + this. */
export const credentialHelperName = 'mistrive';

export interface ConfigureDockerResult {
  /** The Docker config file. */
  readonly path: string;
  /** Hosts now handed to the helper that were not before. */
  readonly added: string[];
  /** Hosts that were set up already. */
  readonly unchanged: string[];
  /** Where the previous file was copied, when it was changed. */
  readonly backup: string | undefined;
  /** Hosts no signed-in account (nor MISTRIVE_KEY) can answer for yet: the helper has nothing to hand out there. */
  readonly withoutAccount: string[];
}

/** `HOST[:PORT]` for each argument (a URL or a host), or the configured registry's host. */
export function dockerHosts(context: CliContext, hosts: readonly string[], registryFlag?: string): string[] {
  if (hosts.length === 0) return [registryHost(context.registry(registryFlag))];
  return hosts.map((host) => {
    const registry = normalizeRegistry(host);
    if (!registry) {
      throw new CliError('USAGE', `"${host}" is not a registry host`, {
        hint: 'give HOST or HOST:PORT, such as localhost:5000',
      });
    }
    return registryHost(registry);
  });
}

/**
 * Merges `"credHelpers": {"HOST": "mistrive"}` into the Docker config, keeping everything else in it.
 * Idempotent: nothing is written when every host is set up already. Before a change, the previous
 * file is copied to `config.json.bak`.
 */
export async function configureDocker(
  context: CliContext,
  hosts: readonly string[],
): Promise<ConfigureDockerResult> {
  const path = dockerConfigPath(context.env);
  let text: string | undefined;
  let mode = 0o600;
  try {
    text = await readFile(path, 'utf8');
    mode = (await stat(path)).mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CliError(
        'LOCAL_FILE',
        `cannot read the Docker config ${path}: ${(error as NodeJS.ErrnoException).code}`,
      );
    }
  }
  let parsed: unknown = {};
  if (text !== undefined && text.trim() !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!isObject(parsed)) {
    throw new CliError('LOCAL_FILE', `the Docker config ${path} is not a JSON object, so it was left alone`, {
      hint: 'fix the file (or move it away) and run the command again',
    });
  }
  const config = parsed;
  const existing = config.credHelpers;
  if (existing !== undefined && !isObject(existing)) {
    throw new CliError(
      'LOCAL_FILE',
      `"credHelpers" in ${path} is not an object, so the file was left alone`,
      {
        hint: 'fix the file and run the command again',
      },
    );
  }
  const helpers: Record<string, unknown> = { ...existing };
  const added: string[] = [];
  const unchanged: string[] = [];
  for (const host of [...new Set(hosts)]) {
    if (helpers[host] === credentialHelperName) unchanged.push(host);
    else {
      helpers[host] = credentialHelperName;
      added.push(host);
    }
  }
  const withoutAccount = await hostsWithoutAccount(context, [...added, ...unchanged]);
  if (added.length === 0) return { path, added, unchanged, backup: undefined, withoutAccount };
  let backup: string | undefined;
  if (text !== undefined) {
    backup = `${path}.bak`;
    await copyFile(path, backup);
  }
  await writePrivateFile(path, `${JSON.stringify({ ...config, credHelpers: helpers }, null, '\t')}\n`, mode);
  return { path, added, unchanged, backup, withoutAccount };
}

/** The hosts for which the helper would answer "credentials not found": no active account, no MISTRIVE_KEY of theirs. */
async function hostsWithoutAccount(context: CliContext, hosts: readonly string[]): Promise<string[]> {
  const data = await context.accounts.read();
  const key = environmentKey(context.env);
  const keyHost = key ? keyRegistry(key) : undefined;
  return hosts.filter(
    (host) =>
      !(keyHost && sameHost(registryHost(keyHost), host)) &&
      !registriesForHost(data, host).some((registry) => activeAccount(data, registry)),
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export interface DockerLoginResult {
  readonly host: string;
  readonly username: string;
  readonly account: string;
  readonly expiresAt: string;
}

/**
 * Pipes a new access token to `docker login --username oauth2accesstoken --password-stdin HOST`:
 * renewed rather than the cached one, so Docker holds a token for its full lifetime.
 */
export async function dockerLogin(context: CliContext, registry: string): Promise<DockerLoginResult> {
  const token = await getAccessToken(context.session, registry, { renew: true });
  const host = registryHost(registry);
  const { execa } = await import('execa');
  const result = await execa(
    'docker',
    ['login', '--username', 'oauth2accesstoken', '--password-stdin', host],
    {
      input: token.token,
      reject: false,
      all: true,
      env: context.env,
      extendEnv: false,
    },
  );
  const failure = result as { code?: string; failed: boolean; exitCode?: number; all?: string };
  if (failure.code === 'ENOENT') {
    throw new CliError('MISSING_DEPENDENCY', 'docker is not installed here (no `docker` on PATH)', {
      hint: 'install Docker, or let skopeo, podman or buildah use the credential helper: `mistrive auth configure-docker`',
    });
  }
  if (result.failed) {
    const output = (failure.all ?? '').trim().split('\n').slice(-3).join(' ');
    throw new CliError(
      'MISSING_DEPENDENCY',
      `docker login failed (exit ${failure.exitCode ?? '?'}): ${output}`,
      {
        hint: 'check that Docker works (`docker info`), or use `mistrive auth configure-docker` instead',
      },
    );
  }
  return {
    host,
    username: 'oauth2accesstoken',
    account: token.account,
    expiresAt: new Date(token.expiresAt * 1000).toISOString(),
  };
}
