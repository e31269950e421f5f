import type { AuditEntry, AuditFilter, AuditStore, NewAuditEntry } from '../audit.js';
import type { Page } from '../metadata.js';
import { page } from '../rows/manifests.js';
import { type PostgresDatabase, sql } from './database.js';

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  client: string;
  action: string;
  resource: string;
  outcome: AuditEntry['outcome'];
  details: Record<string, unknown> | null;
}

const toEntry = (row: AuditRow): AuditEntry => ({
  id: row.id,
  at: new Date(row.at),
  actor: row.actor,
  client: row.client,
  action: row.action,
  resource: row.resource,
  outcome: row.outcome,
  details: row.details ?? undefined,
});

const audit = {
  append: sql(
    `INSERT INTO audit_log (at, actor, client, action, resource, outcome, details)
     VALUES (@at, @actor, @client, @action, @resource, @outcome, @details::jsonb)`,
    'audit.append',
  ),
  // Every filter is optional: a null parameter matches every row, so one statement serves them all.
  list: sql(
    `SELECT * FROM audit_log
     WHERE (@before::bigint IS NULL OR id < @before) AND (@since::bigint IS NULL OR at >= @since)
       AND (@actor::text IS NULL OR actor = @actor) AND (@action::text IS NULL OR action = @action)
       AND (@resource::text IS NULL OR resource = @resource OR starts_with(resource, @resource || '/'))
     ORDER BY id DESC LIMIT @limit`,
    'audit.list',
  ),
  prune: sql('DELETE FROM audit_log WHERE at < @before'),
};

export class PostgresAuditStore implements AuditStore {
  constructor(private readonly db: PostgresDatabase) {}

  async append(entry: NewAuditEntry): Promise<void> {
    await this.db.run(audit.append, {
      ...entry,
      at: entry.at.getTime(),
      details: entry.details === undefined ? null : JSON.stringify(entry.details),
    });
  }

  async list(filter: AuditFilter, before: number | undefined, limit: number): Promise<Page<AuditEntry>> {
    const rows = await this.db.rows<AuditRow>(audit.list, {
      before: before ?? null,
      since: filter.since?.getTime() ?? null,
      actor: filter.actor ?? null,
      action: filter.action ?? null,
      resource: filter.resource ?? null,
      limit: limit + 1,
    });
    return page(rows.map(toEntry), limit);
  }

  async pruneBefore(before: Date): Promise<number> {
    return this.db.run(audit.prune, { before: before.getTime() });
  }
}
