import { z } from 'zod';
import { cleanupPolicies, normalizePolicies } from '../../cleanup/policy.js';
import type { MetadataStore } from '../../db/metadata.js';
import type { RepositoryRecord } from '../../db/resources.js';
import type { StorageUsage } from '../../db/usage.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Caller } from '../../iam/principals.js';
import type { Clock } from '../../lib/clock.js';
import type { IdGenerator } from '../../lib/ids.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { type ApiAccess, projectNotFound, repositoryNotFound } from '../access-checks.js';
import { collectPage, type PageQuery, type PageResult } from '../pagination.js';
import {
  description,
  displayName,
  iso,
  requestSchema,
  resourceId,
  resourceIdPattern,
  responseSchema,
  timestamp,
  usageView,
} from '../schemas.js';
import {
  remoteChanges,
  remoteChangesInput,
  remoteInput,
  remoteSettings,
  remoteView,
  viewRemote,
} from './remote-settings.js';

export const repositoryView = responseSchema(
  'Repository',
  z.object({
    project: z.string(),
    id: z.string(),
    name: z.string().describe('PROJECT/REPOSITORY, the start of its images’ names'),
    displayName: z.string(),
    description: z.string(),
    scanning: z.boolean().describe('Every pushed image is queued for a vulnerability scan'),
    immutableTags: z.boolean().describe('Existing tags can be neither moved nor deleted'),
    cleanupPolicies,
    cleanupDryRun: z.boolean().describe('Cleanup only records what the policies would delete'),
    remote: remoteView.optional(),
    usage: usageView,
    createdAt: timestamp,
    updatedAt: timestamp,
  }),
);

export const newRepository = requestSchema(
  'NewRepository',
  z
    .object({
      repositoryId: resourceId
        .optional()
        .describe('The repository ID; generated (from the display name when there is one) when not given'),
      displayName: displayName.default(''),
      description: description.default(''),
      scanning: z.boolean().default(false),
      immutableTags: z.boolean().default(false),
      cleanupPolicies: cleanupPolicies.default([]),
      cleanupDryRun: z
        .boolean()
        .default(true)
        .describe('Only record what the policies would delete (the default, until you have seen a dry run)'),
      remote: remoteInput.optional(),
    })
    .strict(),
);

export const repositoryChanges = requestSchema(
  'RepositoryChanges',
  z
    .object({
      displayName: displayName.optional(),
      description: description.optional(),
      scanning: z.boolean().optional(),
      immutableTags: z.boolean().optional(),
      cleanupPolicies: cleanupPolicies.optional().describe('Replaces every policy; [] removes them'),
      cleanupDryRun: z.boolean().optional(),
      remote: remoteChangesInput.optional(),
    })
    .strict(),
  'The fields to change; the others keep their values',
);

export type RepositoryView = z.input<typeof repositoryView>;

export function viewRepository(repository: RepositoryRecord, usage: StorageUsage): RepositoryView {
  return {
    project: repository.project,
    id: repository.id,
    name: `${repository.project}/${repository.id}`,
    displayName: repository.displayName,
    description: repository.description,
    scanning: repository.scanning,
    immutableTags: repository.immutableTags,
    cleanupPolicies: normalizePolicies(repository.cleanupPolicies),
    cleanupDryRun: repository.cleanupDryRun,
    ...(repository.remote ? { remote: viewRemote(repository.remote) } : {}),
    usage,
    createdAt: iso(repository.createdAt),
    updatedAt: iso(repository.updatedAt),
  };
}

/** A readable ID from a display name ("Backend Services" → "backend-services"), or "repo". */
function baseId(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .slice(0, 50)
    .replace(/-+$/, '');
  return resourceIdPattern.test(slug) ? slug : 'repo';
}

export class RepositoryService {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly secrets: SecretBox,
  ) {}

  /** Creating a repository takes artifactstore.owner on its project, directly or from the organization. */
  async create(
    caller: Caller,
    project: string,
    input: z.output<typeof newRepository>,
  ): Promise<RepositoryView> {
    await this.access.project(caller, project, 'createRepository');
    if (!(await this.metadata.projects.find(project))) throw projectNotFound(project);
    const now = this.clock.now();
    const remote = input.remote && remoteSettings(input.remote, this.secrets);
    const record = (id: string): RepositoryRecord => ({
      project,
      id,
      displayName: input.displayName,
      description: input.description,
      scanning: input.scanning,
      immutableTags: input.immutableTags,
      cleanupPolicies: normalizePolicies(input.cleanupPolicies),
      cleanupDryRun: input.cleanupDryRun,
      remote,
      createdAt: now,
      updatedAt: now,
    });
    if (input.repositoryId !== undefined) {
      const repository = record(input.repositoryId);
      if (!(await this.metadata.repositories.create(repository))) {
        if (!(await this.metadata.projects.find(project))) throw projectNotFound(project);
        throw new RegistryError(
          'ALREADY_EXISTS',
          `repository ${project}/${input.repositoryId} already exists: choose another ID`,
        );
      }
      return this.view(repository);
    }
    const base = baseId(input.displayName);
    const candidates = [
      ...(base === 'repo' ? [] : [base]),
      ...Array.from(
        { length: 5 },
        () =>
          `${base}-${this.ids
            .next()
            .replace(/[^a-z0-9]/g, '')
            .slice(0, 8)}`,
      ),
    ];
    for (const id of candidates) {
      const repository = record(id);
      if (await this.metadata.repositories.create(repository)) return this.view(repository);
    }
    throw projectNotFound(project);
  }

  /** Every repository for those with a role on the project; otherwise only those bound to the caller. */
  async list(caller: Caller, project: string, query: PageQuery): Promise<PageResult<RepositoryView>> {
    const role = await this.access.project(caller, project, 'see');
    if (!(await this.metadata.projects.find(project))) throw projectNotFound(project);
    const bound = role === undefined ? await this.access.boundRepositoriesIn(caller, project) : undefined;
    const page = await collectPage(
      `repositories ${project}`,
      query,
      (after, limit) => this.metadata.repositories.list(project, after, limit),
      (repository) => repository.id,
      (repository) => bound === undefined || bound.has(repository.id),
    );
    const items: RepositoryView[] = [];
    for (const repository of page.items) items.push(await this.view(repository));
    return { items, nextPageToken: page.nextPageToken };
  }

  async get(caller: Caller, project: string, id: string): Promise<RepositoryView> {
    await this.access.repository(caller, project, id, 'read');
    return this.view(await this.find(project, id));
  }

  async update(
    caller: Caller,
    project: string,
    id: string,
    changes: z.output<typeof repositoryChanges>,
  ): Promise<RepositoryView> {
    await this.access.repository(caller, project, id, 'administer');
    const { cleanupPolicies: policies, remote, ...rest } = changes;
    if (remote && !(await this.find(project, id)).remote) {
      throw new RegistryError(
        'FAILED_PRECONDITION',
        `repository ${project}/${id} is a local repository: only a remote repository has upstream settings (create one with a remote URL)`,
      );
    }
    const updated = await this.metadata.repositories.update(
      project,
      id,
      {
        ...rest,
        ...(policies ? { cleanupPolicies: normalizePolicies(policies) } : {}),
        ...(remote ? { remote: remoteChanges(remote, this.secrets) } : {}),
      },
      this.clock.now(),
    );
    if (!updated) throw repositoryNotFound(project, id);
    return this.view(updated);
  }

  /** Deletes the repository with its images and the IAM bindings on it. */
  async delete(caller: Caller, project: string, id: string): Promise<void> {
    await this.access.repository(caller, project, id, 'administer');
    if (!(await this.metadata.repositories.delete(project, id))) throw repositoryNotFound(project, id);
  }

  private async view(repository: RepositoryRecord): Promise<RepositoryView> {
    return viewRepository(
      repository,
      await this.metadata.usage.repository(repository.project, repository.id),
    );
  }

  async find(project: string, id: string): Promise<RepositoryRecord> {
    const repository = await this.metadata.repositories.find(project, id);
    if (!repository) throw repositoryNotFound(project, id);
    return repository;
  }
}
