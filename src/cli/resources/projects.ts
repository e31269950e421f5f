import {
  ManagementApi,
  type Project,
  type ProjectChanges,
  type ProjectRateLimits,
  type RateLimitChanges,
  type SecurityPolicyChanges,
  type SecurityPolicySettings,
} from '../../client/management-api.js';
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

/** What `projects update` changed: the project, and its rate limits or security policy when asked. */
export type ProjectUpdate = Project & {
  readonly rateLimits?: ProjectRateLimits;
  readonly securityPolicy?: SecurityPolicySettings;
};

export async function updateProject(
  context: CliContext,
  id: string,
  changes: ProjectChanges,
  registry?: string,
  settings: { rateLimits?: RateLimitChanges; securityPolicy?: SecurityPolicyChanges } = {},
): Promise<ProjectUpdate> {
  const projectChanged = Object.values(changes).some((value) => value !== undefined);
  if (!projectChanged && !settings.rateLimits && !settings.securityPolicy) {
    throw new CliError('USAGE', 'nothing to change', {
      hint: 'pass --storage-quota, --description, --display-name, a rate (--pull-rate…) or a security policy setting (--block-severity…)',
    });
  }
  const client = api(context, registry);
  const project = projectChanged ? await client.updateProject(id, changes) : await client.getProject(id);
  const rateLimits = settings.rateLimits && (await client.updateProjectRateLimits(id, settings.rateLimits));
  const policy =
    settings.securityPolicy && (await client.updateProjectSecurityPolicy(id, settings.securityPolicy));
  return {
    ...project,
    ...(rateLimits ? { rateLimits } : {}),
    ...(policy ? { securityPolicy: policy.policy } : {}),
  };
}
