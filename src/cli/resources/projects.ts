import { ManagementApi, type Project } from '../../client/management-api.js';
import type { CliContext } from '../context.js';

/** `projects create|list|describe|delete`. */

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
