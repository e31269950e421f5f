import { readFile } from 'node:fs/promises';
import {
  type CleanupPolicy,
  type CleanupRun,
  ManagementApi,
  type NewRemote,
  type Repository,
  type RepositoryChanges,
  type RepositorySecurityPolicy,
  type SecurityPolicyChanges,
} from '../../client/management-api.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { parseRepositoryReference, registryOf } from '../references.js';

/** `repos create|list|describe|update|delete|cleanup`. */

export interface RepositoryList {
  readonly project: string;
  readonly repositories: Repository[];
}

export interface RepositoryDeleted {
  readonly project: string;
  readonly repository: string;
  readonly deleted: true;
}

export interface RepositoryTarget {
  readonly registry: string;
  readonly project: string;
  readonly repository: string;
}

/** The repository a command names: `ID --project P`, `PROJECT/ID` or `HOST/PROJECT/ID`. */
export function repositoryTarget(
  context: CliContext,
  id: string,
  projectFlag?: string,
  registryFlag?: string,
): RepositoryTarget {
  const reference = parseRepositoryReference(context, id, projectFlag);
  return {
    registry: registryOf(context, reference.host, registryFlag),
    project: reference.project,
    repository: reference.repository,
  };
}

export interface CreateRepositoryOptions {
  readonly project: string;
  readonly id?: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly scanning: boolean;
  readonly immutableTags: boolean;
  /** Makes it a remote repository: a pull-through cache of this upstream. */
  readonly remote?: NewRemote;
  readonly registry: string;
}

export function createRepository(context: CliContext, options: CreateRepositoryOptions): Promise<Repository> {
  return new ManagementApi(context.api(options.registry)).createRepository(options.project, {
    ...(options.id !== undefined ? { repositoryId: options.id } : {}),
    ...(options.displayName !== undefined ? { displayName: options.displayName } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    scanning: options.scanning,
    immutableTags: options.immutableTags,
    ...(options.remote ? { remote: options.remote } : {}),
  });
}

export async function listRepositories(
  context: CliContext,
  project: string,
  registry: string,
): Promise<RepositoryList> {
  return { project, repositories: await new ManagementApi(context.api(registry)).listRepositories(project) };
}

export function describeRepository(context: CliContext, target: RepositoryTarget): Promise<Repository> {
  return new ManagementApi(context.api(target.registry)).getRepository(target.project, target.repository);
}

/** What `repos update` changed: the repository, and its security policy when asked. */
export type RepositoryUpdate = Repository & { readonly securityPolicy?: RepositorySecurityPolicy };

export async function updateRepository(
  context: CliContext,
  target: RepositoryTarget,
  changes: RepositoryChanges,
  securityPolicy?: SecurityPolicyChanges,
): Promise<RepositoryUpdate> {
  const { remote, ...rest } = changes;
  const remoteChanged = remote !== undefined && Object.values(remote).some((value) => value !== undefined);
  const repositoryChanged = remoteChanged || Object.values(rest).some((value) => value !== undefined);
  if (!repositoryChanged && !securityPolicy) {
    throw new CliError('USAGE', 'nothing to change', {
      hint:
        'pass --scanning/--no-scanning, --immutable-tags/--no-immutable-tags, --cleanup-policies FILE, ' +
        '--cleanup-dry-run/--no-cleanup-dry-run, --description, --display-name, a security policy setting ' +
        '(--block-severity…), or (remote repositories) --remote-url, --remote-username, ' +
        '--remote-password-stdin, --remote-prefix, --remote-ttl, --remote-anonymous',
    });
  }
  const api = new ManagementApi(context.api(target.registry));
  const repository = repositoryChanged
    ? await api.updateRepository(target.project, target.repository, {
        ...rest,
        ...(remoteChanged ? { remote } : {}),
      })
    : await api.getRepository(target.project, target.repository);
  if (!securityPolicy) return repository;
  return {
    ...repository,
    securityPolicy: await api.updateRepositorySecurityPolicy(
      target.project,
      target.repository,
      securityPolicy,
    ),
  };
}

export async function deleteRepository(
  context: CliContext,
  target: RepositoryTarget,
): Promise<RepositoryDeleted> {
  await new ManagementApi(context.api(target.registry)).deleteRepository(target.project, target.repository);
  return { project: target.project, repository: target.repository, deleted: true };
}

/**
 * A cleanup policy file: a JSON array of policies (see the README). Only its JSON is checked here;
 * the registry validates the policies themselves and names the field at fault.
 */
export async function readPolicyFile(path: string): Promise<CleanupPolicy[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError('LOCAL_FILE', `cannot read cleanup policy file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(
      'LOCAL_FILE',
      `cleanup policy file ${path} is not valid JSON: ${(error as Error).message}`,
      {
        hint: 'the file holds a JSON array of policies, e.g. [{"name":"untagged","action":{"type":"Delete"},"condition":{"tagState":"untagged","olderThan":"7d"}}]',
      },
    );
  }
  if (!Array.isArray(parsed)) {
    throw new CliError('LOCAL_FILE', `cleanup policy file ${path} must hold a JSON array of policies`, {
      hint: 'write [] to remove every policy',
    });
  }
  return parsed as CleanupPolicy[];
}

/** `repos cleanup`: evaluates the policies now; `dryRun` undefined keeps the repository's setting. */
export function cleanupRepository(
  context: CliContext,
  target: RepositoryTarget,
  dryRun: boolean | undefined,
): Promise<CleanupRun> {
  return new ManagementApi(context.api(target.registry)).runCleanup(
    target.project,
    target.repository,
    dryRun,
  );
}

/** `--remote-*` flags shared by `repos create` and `repos update`. */
export interface RemoteFlags {
  readonly 'remote-url'?: string | undefined;
  readonly 'remote-username'?: string | undefined;
  readonly 'remote-password-stdin'?: boolean | undefined;
  readonly 'remote-prefix'?: string | undefined;
  readonly 'remote-ttl'?: string | undefined;
}

/** The remote settings `repos create` asks for; the password, when asked for, comes from stdin. */
export async function newRemote(
  flags: RemoteFlags,
  readPassword: () => Promise<string>,
): Promise<NewRemote | undefined> {
  const url = flags['remote-url'];
  if (url === undefined) {
    const given = Object.entries(flags).find(
      ([name, value]) => name.startsWith('remote-') && value !== undefined && value !== false,
    );
    if (given) {
      throw new CliError('USAGE', `--${given[0]} needs --remote-url`, {
        hint: 'a remote repository is created with --remote-url URL, e.g. --remote-url https://registry-1.docker.io',
      });
    }
    return undefined;
  }
  return {
    url,
    ...(flags['remote-username'] !== undefined ? { username: flags['remote-username'] } : {}),
    ...(flags['remote-password-stdin'] ? { password: await remotePassword(readPassword) } : {}),
    ...(flags['remote-prefix'] !== undefined ? { prefix: flags['remote-prefix'] } : {}),
    ...(flags['remote-ttl'] !== undefined ? { ttl: flags['remote-ttl'] } : {}),
  };
}

/** The remote settings `repos update` changes; `anonymous` removes the credentials. */
export async function remoteUpdate(
  flags: RemoteFlags & { readonly 'remote-anonymous'?: boolean | undefined },
  readPassword: () => Promise<string>,
): Promise<RepositoryChanges['remote']> {
  if (
    flags['remote-anonymous'] &&
    (flags['remote-username'] !== undefined || flags['remote-password-stdin'])
  ) {
    throw new CliError(
      'USAGE',
      '--remote-anonymous removes the credentials: give no --remote-username or password with it',
    );
  }
  return {
    url: flags['remote-url'],
    username: flags['remote-anonymous'] ? null : flags['remote-username'],
    password: flags['remote-anonymous']
      ? null
      : flags['remote-password-stdin']
        ? await remotePassword(readPassword)
        : undefined,
    prefix: flags['remote-prefix'],
    ttl: flags['remote-ttl'],
  };
}

async function remotePassword(readPassword: () => Promise<string>): Promise<string> {
  const password = await readPassword();
  if (password === '') {
    throw new CliError('USAGE', 'no upstream password on stdin', {
      hint: 'printf %s "$UPSTREAM_PASSWORD" | mistrive repos create ... --remote-username U --remote-password-stdin',
    });
  }
  return password;
}
