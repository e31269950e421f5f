import { ManagementApi, type Repository, type RepositoryChanges } from '../../client/management-api.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { parseRepositoryReference, registryOf } from '../references.js';

/** `repos create|list|describe|update|delete`. */

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
  readonly registry: string;
}

export function createRepository(context: CliContext, options: CreateRepositoryOptions): Promise<Repository> {
  return new ManagementApi(context.api(options.registry)).createRepository(options.project, {
    ...(options.id !== undefined ? { repositoryId: options.id } : {}),
    ...(options.displayName !== undefined ? { displayName: options.displayName } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    scanning: options.scanning,
    immutableTags: options.immutableTags,
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

export function updateRepository(
  context: CliContext,
  target: RepositoryTarget,
  changes: RepositoryChanges,
): Promise<Repository> {
  if (Object.values(changes).every((value) => value === undefined)) {
    throw new CliError('USAGE', 'nothing to change', {
      hint: 'pass --scanning/--no-scanning, --immutable-tags/--no-immutable-tags, --description or --display-name',
    });
  }
  return new ManagementApi(context.api(target.registry)).updateRepository(
    target.project,
    target.repository,
    changes,
  );
}

export async function deleteRepository(
  context: CliContext,
  target: RepositoryTarget,
): Promise<RepositoryDeleted> {
  await new ManagementApi(context.api(target.registry)).deleteRepository(target.project, target.repository);
  return { project: target.project, repository: target.repository, deleted: true };
}
