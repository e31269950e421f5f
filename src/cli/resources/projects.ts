import { ManagementApi, type Project, type ProjectChanges } from '../../client/management-api.js';
import { parseByteSize } from '../../lib/byte-sizes.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';

/** `projects create|list|describe|update|delete`. */

export interface ProjectList {
  readonly projects: Project[];
}

export interface ProjectDeleted {
  readonly project: string;
  readonly deleted: true;
}

export interface CreateProjectOptions {
  readonly id: string;
  readonly displayName?: string;
  readonly description?: string;
  readonly organization?: string;
}

const api = (context: CliContext, registry?: string) =>
  new ManagementApi(context.api(context.registry(registry)));

export function createProject(
  context: CliContext,
  options: CreateProjectOptions,
  registry?: string,
): Promise<Project> {
  return api(context, registry).createProject({
    projectId: options.id,
    ...(options.displayName !== undefined ? { displayName: options.displayName } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    ...(options.organization !== undefined ? { organization: options.organization } : {}),
  });
}

export async function listProjects(context: CliContext, registry?: string): Promise<ProjectList> {
  return { projects: await api(context, registry).listProjects() };
}

export function describeProject(context: CliContext, id: string, registry?: string): Promise<Project> {
  return api(context, registry).getProject(id);
}

export async function deleteProject(
  context: CliContext,
  id: string,
  registry?: string,
): Promise<ProjectDeleted> {
  await api(context, registry).deleteProject(id);
  return { project: id, deleted: true };
}

/** `--storage-quota`: a size such as `10GiB` or `500MB`, or `none` to remove the quota. */
export function parseStorageQuota(text: string): number | null {
  if (/^(none|unlimited)$/i.test(text.trim())) return null;
  const bytes = parseByteSize(text);
  if (bytes === undefined) {
    throw new CliError('USAGE', `--storage-quota "${text}" is not a size`, {
      hint: 'write it like 10GiB, 500MB or 1073741824 (bytes), or none to remove the quota',
    });
  }
  return bytes;
}

export function updateProject(
  context: CliContext,
  id: string,
  changes: ProjectChanges,
  registry?: string,
): Promise<Project> {
  if (Object.values(changes).every((value) => value === undefined)) {
    throw new CliError('USAGE', 'nothing to change', {
      hint: 'pass --storage-quota, --description or --display-name',
    });
  }
  return api(context, registry).updateProject(id, changes);
}
