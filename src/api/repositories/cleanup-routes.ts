import { z } from 'zod';
import type { CleanupService } from '../../cleanup/cleanup-service.js';
import type { CleanupRun } from '../../db/cleanup.js';
import type { MetadataStore } from '../../db/metadata.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Caller } from '../../iam/principals.js';
import { type ApiAccess, repositoryNotFound } from '../access-checks.js';
import { type ApiOperation, operation } from '../operation.js';
import { iso, pathParams, requestSchema, responseSchema, timestamp } from '../schemas.js';

const repositoryParams = z.object({ project: pathParams.project, repository: pathParams.repository });

export const cleanupRunView = responseSchema(
  'CleanupRun',
  z.object({
    project: z.string(),
    repository: z.string(),
    dryRun: z.boolean().describe('True when nothing was deleted, only recorded'),
    startedAt: timestamp,
    finishedAt: timestamp,
    deleted: z.number().int().describe('Digests deleted, or that would be in a dry run'),
    freedBytes: z
      .number()
      .int()
      .describe(
        'Bytes no manifest needs any longer once these are deleted; the garbage collector reclaims them',
      ),
    items: z.array(
      z.object({
        image: z.string().describe('The image name inside its repository'),
        digest: z.string(),
        tags: z.array(z.string()),
        policies: z.array(z.string()).describe('The Delete policies that matched'),
        outcome: z
          .enum(['deleted', 'would-delete', 'kept'])
          .describe('kept: the repository changed since the evaluation (a new tag or index), so it stayed'),
      }),
    ),
  }),
  'One evaluation of a repository’s cleanup policies',
);

const cleanupRequest = requestSchema(
  'CleanupRequest',
  z
    .object({
      dryRun: z
        .boolean()
        .optional()
        .describe(
          'true: only report; false: delete even in a dry-run repository; absent: the repository’s setting',
        ),
    })
    .strict(),
);

export type CleanupRunView = z.input<typeof cleanupRunView>;

function viewRun(run: CleanupRun): CleanupRunView {
  return {
    project: run.project,
    repository: run.repository,
    dryRun: run.dryRun,
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    deleted: run.items.filter((item) => item.outcome !== 'kept').length,
    freedBytes: run.freedBytes,
    items: run.items,
  };
}

/** Runs and reads cleanup through the API: evaluating takes the owner role, reading the last run viewer. */
export class CleanupApi {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
    private readonly cleanup: CleanupService,
  ) {}

  async run(caller: Caller, project: string, repository: string, dryRun: boolean | undefined) {
    await this.access.repository(caller, project, repository, 'delete');
    const run = await this.cleanup.run(project, repository, dryRun === undefined ? {} : { dryRun });
    if (!run) throw repositoryNotFound(project, repository);
    return viewRun(run);
  }

  async last(caller: Caller, project: string, repository: string) {
    await this.access.repository(caller, project, repository, 'read');
    if (!(await this.metadata.repositories.find(project, repository))) {
      throw repositoryNotFound(project, repository);
    }
    const run = await this.metadata.cleanup.lastRun(project, repository);
    if (!run) {
      throw new RegistryError(
        'NOT_FOUND',
        `cleanup has not run on ${project}/${repository} yet: it runs on the daemon's schedule, or now with POST`,
      );
    }
    return viewRun(run);
  }
}

export function cleanupOperations(cleanup: CleanupApi): ApiOperation[] {
  const path = '/api/v1/projects/{project}/repositories/{repository}/cleanup';
  return [
    operation({
      id: 'runCleanup',
      method: 'POST',
      path,
      tag: 'Repositories',
      summary: "Evaluate a repository's cleanup policies now, and delete what they match unless in dry run",
      description: 'Needs the owner role on the repository. The run is recorded as the last one.',
      params: repositoryParams,
      body: cleanupRequest,
      response: cleanupRunView,
      handle: ({ caller, params, body }) =>
        cleanup.run(caller, params.project, params.repository, body.dryRun),
    }),
    operation({
      id: 'getLastCleanup',
      method: 'GET',
      path,
      tag: 'Repositories',
      summary: "The last evaluation of a repository's cleanup policies: what went, or would go in a dry run",
      params: repositoryParams,
      response: cleanupRunView,
      handle: ({ caller, params }) => cleanup.last(caller, params.project, params.repository),
    }),
  ];
}
