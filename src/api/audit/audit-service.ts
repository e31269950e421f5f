import { z } from 'zod';
import type { AuditEntry, AuditFilter } from '../../db/audit.js';
import type { MetadataStore } from '../../db/metadata.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { Caller } from '../../iam/principals.js';
import type { Clock } from '../../lib/clock.js';
import { parseDuration } from '../../lib/durations.js';
import type { ApiAccess } from '../access-checks.js';
import {
  decodePageToken,
  encodePageToken,
  type PageQuery,
  type PageResult,
  pageQuery,
} from '../pagination.js';
import { responseSchema, timestamp } from '../schemas.js';

export const auditQuery = pageQuery.extend({
  since: z
    .string()
    .max(64)
    .optional()
    .describe('Only entries this recent: a duration back from now (`24h`, `7d`) or a time (RFC 3339).'),
  actor: z.string().max(300).optional().describe('Only what this principal did (`user:bob@example.com`).'),
  resource: z
    .string()
    .max(1024)
    .optional()
    .describe('Only entries about this resource and what is below it (`projects/my-project`).'),
  action: z.string().max(100).optional().describe('Only this action (`createProject`, `signIn`).'),
});

export const auditEntryView = responseSchema(
  'AuditEntry',
  z.object({
    id: z.string().describe('Increasing with every entry'),
    time: timestamp,
    actor: z
      .string()
      .describe('user:LOGIN, serviceAccount:EMAIL or anonymous; for a failed sign-in, the account named'),
    client: z.string().describe('The client’s address, behind any trusted proxies'),
    action: z.string(),
    resource: z.string(),
    outcome: z.enum(['success', 'denied', 'failed']),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
);

export type AuditEntryView = z.input<typeof auditEntryView>;

const listing = 'audit';

function viewOf(entry: AuditEntry): AuditEntryView {
  return {
    id: String(entry.id),
    time: entry.at.toISOString(),
    actor: entry.actor,
    client: entry.client,
    action: entry.action,
    resource: entry.resource,
    outcome: entry.outcome,
    ...(entry.details ? { details: { ...entry.details } } : {}),
  };
}

/** Reading the audit log: the instance administrator only, newest first, a page at a time. */
export class AuditService {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
    private readonly clock: Clock,
  ) {}

  async list(caller: Caller, query: z.output<typeof auditQuery>): Promise<PageResult<AuditEntryView>> {
    this.access.requireAdmin(caller, 'read the audit log');
    const filter: AuditFilter = {
      ...(query.since === undefined ? {} : { since: this.sinceTime(query.since) }),
      ...(query.actor === undefined ? {} : { actor: query.actor }),
      ...(query.resource === undefined ? {} : { resource: query.resource.replace(/^\/+|\/+$/g, '') }),
      ...(query.action === undefined ? {} : { action: query.action }),
    };
    const after = decodePageToken(listing, (query as PageQuery).pageToken);
    const before = after === undefined ? undefined : Number(after);
    const page = await this.metadata.audit.list(filter, before, query.pageSize);
    const last = page.items.at(-1);
    return {
      items: page.items.map(viewOf),
      nextPageToken: page.more && last ? encodePageToken(listing, String(last.id)) : undefined,
    };
  }

  /** `24h` back from now, or an RFC 3339 time. */
  private sinceTime(since: string): Date {
    const back = parseDuration(since);
    if (back !== undefined) return new Date(this.clock.now().getTime() - back);
    const at = /^\d{4}-\d{2}-\d{2}/.test(since) ? new Date(since) : undefined;
    if (at && !Number.isNaN(at.getTime())) return at;
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `invalid query parameter "since": "${since}" is neither a duration such as 24h or 7d nor a time such as 2026-01-31T12:00:00Z`,
    );
  }
}
