import { z } from 'zod';
import type { MaintenanceKind, MaintenanceRun } from '../../db/lifecycle.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Maintenance } from '../../gc/maintenance.js';
import type { Caller } from '../../iam/principals.js';
import type { ApiAccess } from '../access-checks.js';
import { iso, requestSchema, responseSchema, timestamp } from '../schemas.js';

export const gcRequest = requestSchema(
  'GarbageCollectionRequest',
  z
    .object({
      dryRun: z.boolean().default(false).describe('Report what would be removed, remove nothing'),
    })
    .strict(),
);

export const verifyRequest = requestSchema(
  'IntegrityCheckRequest',
  z
    .object({
      repair: z
        .boolean()
        .default(false)
        .describe('Quarantine corrupt blobs and remove unknown files older than gc.delay'),
    })
    .strict(),
);

export const runView = responseSchema(
  'MaintenanceRun',
  z.object({
    id: z.string(),
    kind: z.enum(['gc', 'verify']),
    status: z.enum(['running', 'succeeded', 'failed']),
    options: z.record(z.string(), z.unknown()),
    progress: z.record(z.string(), z.unknown()).optional().describe('How far an integrity check has got'),
    report: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('What was (or would be) removed and the bytes reclaimed; for a check, what it found'),
    error: z.string().optional(),
    requestedAt: timestamp,
    finishedAt: timestamp.optional(),
  }),
);

export type RunView = z.input<typeof runView>;

const viewRun = (run: MaintenanceRun): RunView => ({
  id: run.id,
  kind: run.kind,
  status: run.status,
  options: run.options,
  progress: run.progress,
  report: run.report,
  error: run.error,
  requestedAt: iso(run.requestedAt),
  finishedAt: run.finishedAt && iso(run.finishedAt),
});

/** Storage maintenance for the instance administrator: garbage collection and the integrity check. */
export class AdminService {
  constructor(
    private readonly access: ApiAccess,
    private readonly maintenance: Maintenance,
  ) {}

  async collect(caller: Caller, options: z.output<typeof gcRequest>): Promise<RunView> {
    this.access.requireAdmin(caller, 'run garbage collection');
    return viewRun(await this.maintenance.requestGc(options));
  }

  async verify(caller: Caller, options: z.output<typeof verifyRequest>): Promise<RunView> {
    this.access.requireAdmin(caller, 'check the store’s integrity');
    return viewRun(await this.maintenance.requestVerify(options));
  }

  async run(caller: Caller, kind: MaintenanceKind, id: string): Promise<RunView> {
    this.access.requireAdmin(caller, 'read maintenance runs');
    const run = await this.maintenance.find(id);
    if (!run || run.kind !== kind) throw new RegistryError('NOT_FOUND', `${kind} run ${id} not found`);
    return viewRun(run);
  }
}
