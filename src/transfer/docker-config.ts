import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { CliError } from '../cli/errors.js';
import { dockerHub } from './image-reference.js';

/**
 * Credentials for a registry from the user's Docker configuration, the way Docker, skopeo and podman
 * find them: `credHelpers[HOST]` first, then `auths[HOST]` (`auth` is base64 `USER:PASSWORD`,
 * `identitytoken` a refresh token for the token endpoint), then the `credsStore` helper. Docker Hub
 * is keyed `https://index.docker.io/v1/`.
 */
export type RegistryCredentials =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'identity-token'; readonly username: string; readonly token: string };

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** Where the Docker config lives: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  return join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json');
}

async function readDockerConfig(path: string): Promise<DockerConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError('LOCAL_FILE', `the Docker config ${path} is unreadable: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as DockerConfigFile;
  } catch {
    throw new CliError('LOCAL_FILE', `the Docker config ${path} is not valid JSON`, {
      hint: 'fix the file, or remove it to copy anonymously',
    });
  }
}

/** The keys a host may be stored under in `auths`: bare, with a scheme, and Docker Hub's legacy URL. */
function keysFor(host: string): string[] {
  if (host === dockerHub.host) return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io'];
  return [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`];
}

function entryIn<T>(record: Record<string, T> | undefined, host: string): T | undefined {
  if (!record) return undefined;
  for (const key of keysFor(host)) if (record[key] !== undefined) return record[key];
  return undefined;
}

/** Runs `docker-credential-HELPER get` with the server on stdin; undefined when it holds nothing for it. */
async function fromHelper(
  helper: string,
  server: string,
  env: NodeJS.ProcessEnv,
): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  const result = await execa(program, ['get'], { input: server, env, reject: false, timeout: 30_000 });
  if ((result as { code?: string }).code === 'ENOENT' || result.exitCode === 127) {
    throw new CliError('MISSING_DEPENDENCY', `the Docker credential helper ${program} is not on PATH`, {
      hint: `install it, or remove "${helper}" from the Docker config`,
    });
  }
  if (result.exitCode !== 0) {
    // "credentials not found in native keychain" is the protocol's way of saying "none".
    if (/not found/i.test(String(result.stdout) + String(result.stderr))) return undefined;
    throw new CliError(
      'AUTH_REQUIRED',
      `the Docker credential helper ${program} failed for ${server}: ${String(result.stderr || result.stdout).trim()}`,
    );
  }
  const answer = JSON.parse(String(result.stdout)) as { Username?: string; Secret?: string };
  if (!answer.Secret) return undefined;
  if (answer.Username === '<token>')
    return { kind: 'identity-token', username: '<token>', token: answer.Secret };
  return { kind: 'basic', username: answer.Username ?? '', password: answer.Secret };
}

export async function dockerCredentials(
  host: string,
  env: NodeJS.ProcessEnv,
): Promise<RegistryCredentials | undefined> {
  const config = await readDockerConfig(dockerConfigPath(env));
  const server = host === dockerHub.host ? 'https://index.docker.io/v1/' : host;
  const helper = entryIn(config.credHelpers, host);
  if (helper) return fromHelper(helper, server, env);
  const entry = entryIn(config.auths, host);
  if (entry?.identitytoken) {
    return { kind: 'identity-token', username: entry.username ?? '<token>', token: entry.identitytoken };
  }
  if (entry?.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0)
      return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry?.username && entry.password)
    return { kind: 'basic', username: entry.username, password: entry.password };
  if (config.credsStore) return fromHelper(config.credsStore, server, env);
  return undefined;
}
