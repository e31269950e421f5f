import { z } from 'zod';
import type { MetadataStore } from '../../db/metadata.js';
import type { ProjectRecord } from '../../db/resources.js';
import type { StorageUsage } from '../../db/usage.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Caller } from '../../iam/principals.js';
import type { Clock } from '../../lib/clock.js';
import { type ApiAccess, projectNotFound } from '../access-checks.js';
import { collectPage, type PageQuery, type PageResult } from '../pagination.js';
import {
  description,
  displayName,
  iso,
  requestSchema,
  resourceId,
  responseSchema,
  timestamp,
  usageView,
} from '../schemas.js';

export const defaultOrganization = 'default';

export const projectView = responseSchema(
  'Project',
  z.object({
    id: z.string(),
    organization: z.string(),
    displayName: z.string(),
    description: z.string(),
    storageQuota: z
      .number()
      .int()
      .optional()
      .describe('The most logical bytes its repositories may hold together; absent when unlimited'),
    usage: usageView,
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
);

export const newProject = requestSchema(
  'NewProject',
  z
    .object({
      projectId: resourceId.describe(
        'The project ID, part of every image reference: HOST/PROJECT/REPOSITORY/IMAGE',
      ),
      organization: resourceId.default(defaultOrganization).describe('The organization it joins'),
      displayName: displayName.default(''),
      description: description.default(''),
    })
    .strict(),
);

export const projectChanges = requestSchema(
  'ProjectChanges',
  z
    .object({
      displayName: displayName.optional(),
      description: description.optional(),
      storageQuota: z
        .number()
        .int('must be a whole number of bytes')
        .min(0, 'must not be negative')
        .max(Number.MAX_SAFE_INTEGER)
        .nullable()
        .optional()
        .describe('Bytes; null removes the quota. Only the instance administrator sets it'),
    })
    .strict(),
  'The fields to change; the others keep their values',
);

export type ProjectView = z.input<typeof projectView>;

export function viewProject(project: ProjectRecord, usage: StorageUsage): ProjectView {
  return {
    id: project.id,
    organization: project.organization,
    displayName: project.displayName,
    description: project.description,
    ...(project.storageQuota !== undefined ? { storageQuota: project.storageQuota } : {}),
    usage,
    createdAt: iso(project.createdAt),
    updatedAt: iso(project.updatedAt),
  };
}

export class ProjectService {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
  ) {}

  /** Creating a project takes the instance administrator or Artifact Store Owner on the organization. */
  async create(caller: Caller, input: z.output<typeof newProject>): Promise<ProjectView> {
    await this.access.organization(caller, input.organization, 'administer');
    if (!(await this.metadata.organizations.find(input.organization))) {
      throw new RegistryError('NOT_FOUND', `organization ${input.organization} not found`);
    }
    const now = this.clock.now();
    const project: ProjectRecord = {
      id: input.projectId,
      organization: input.organization,
      displayName: input.displayName,
      description: input.description,
      storageQuota: undefined,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.metadata.projects.create(project))) {
      throw new RegistryError(
        'ALREADY_EXISTS',
        `project ${input.projectId} already exists: choose another ID`,
      );
    }
    return this.view(project);
  }

  /** The projects the caller can see: through its organization, itself, or one of its repositories. */
  async list(caller: Caller, query: PageQuery): Promise<PageResult<ProjectView>> {
    const bound = await this.access.bound(caller);
    const page = await collectPage(
      'projects',
      query,
      (after, limit) => this.metadata.projects.list(after, limit),
      (project) => project.id,
      (project) =>
        bound.everything || bound.organizations.has(project.organization) || bound.projects.has(project.id),
    );
    const items: ProjectView[] = [];
    for (const project of page.items) items.push(await this.view(project));
    return { items, nextPageToken: page.nextPageToken };
  }

  async get(caller: Caller, id: string): Promise<ProjectView> {
    await this.access.project(caller, id, 'see');
    return this.view(await this.find(id));
  }

  async update(caller: Caller, id: string, changes: z.output<typeof projectChanges>): Promise<ProjectView> {
    await this.access.project(caller, id, 'administer');
    // A quota limits what the project's own owners may store, so only the administrator sets it.
    if (changes.storageQuota !== undefined) this.access.requireAdmin(caller, 'set storage quotas');
    const updated = await this.metadata.projects.update(id, changes, this.clock.now());
    if (!updated) throw projectNotFound(id);
    return this.view(updated);
  }

  /** Deletes the project with its repositories, images, service accounts and IAM bindings. */
  async delete(caller: Caller, id: string): Promise<void> {
    await this.access.project(caller, id, 'administer');
    if (!(await this.metadata.projects.delete(id))) throw projectNotFound(id);
  }

  private async view(project: ProjectRecord): Promise<ProjectView> {
    return viewProject(project, await this.metadata.usage.project(project.id));
  }

  async find(id: string): Promise<ProjectRecord> {
    const project = await this.metadata.projects.find(id);
    if (!project) throw projectNotFound(id);
    return project;
  }
}
