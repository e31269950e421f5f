import { z } from 'zod';
import type { MetadataStore } from '../db/metadata.js';
import type { Caller } from '../iam/principals.js';
import type { ApiAccess } from './access-checks.js';
import { type ApiOperation, operation } from './operation.js';
import { responseSchema, usageView } from './schemas.js';

export const instanceUsageView = responseSchema(
  'InstanceUsage',
  z.object({
    logicalBytes: z
      .number()
      .int()
      .describe("Every repository's logical bytes, added up: the size before sharing"),
    storedBytes: z.number().int().describe('The distinct blobs and manifests held anywhere, added up'),
    digests: z.number().int().describe('How many distinct blobs and manifests that is'),
    projects: z.array(
      z.object({
        project: z.string(),
        storageQuota: z.number().int().optional(),
        usage: usageView,
      }),
    ),
  }),
  'Storage used by the whole instance, and by each project',
);

export type InstanceUsageView = z.input<typeof instanceUsageView>;

/** Storage for the whole instance, for the administrator. */
export class InstanceUsageService {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
  ) {}

  async get(caller: Caller): Promise<InstanceUsageView> {
    this.access.requireAdmin(caller, 'read the storage usage of the whole instance');
    const projects: InstanceUsageView['projects'] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.metadata.projects.list(after, 500);
      for (const project of page.items) {
        projects.push({
          project: project.id,
          ...(project.storageQuota !== undefined ? { storageQuota: project.storageQuota } : {}),
          usage: await this.metadata.usage.project(project.id),
        });
      }
      if (!page.more) break;
      after = page.items.at(-1)?.id;
    }
    return { ...(await this.metadata.usage.instance()), projects };
  }
}

export function usageOperations(usage: InstanceUsageService): ApiOperation[] {
  return [
    operation({
      id: 'getInstanceUsage',
      method: 'GET',
      path: '/api/v1/usage',
      tag: 'Usage',
      summary: 'Storage used by the whole instance and by each project',
      description: 'Only the instance administrator.',
      response: instanceUsageView,
      handle: ({ caller }) => usage.get(caller),
    }),
  ];
}
