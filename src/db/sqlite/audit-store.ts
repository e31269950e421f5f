import type { AuditEntry, AuditFilter, AuditStore, NewAuditEntry } from '../audit.js';
import type { Page } from '../metadata.js';
import { page } from '../rows/manifests.js';
import type { SqliteDatabase } from './database.js';

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  client: string;
  action: string;
  resource: string;
  outcome: AuditEntry['outcome'];
  details: string | null;
}

const toEntry = (row: AuditRow): AuditEntry => ({
  id: row.id,
  at: new Date(row.at),
  actor: row.actor,
  client: row.client,
  action: row.action,
  resource: row.resource,
  outcome: row.outcome,
  details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : undefined,
});

/** `LIKE` patterns match `%` and `_` anywhere: a resource given literally escapes them. */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`);

export class SqliteAuditStore implements AuditStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    this.statements = {
      append: db.prepare(
        `INSERT INTO audit_log (at, actor, client, action, resource, outcome, details)
         VALUES (@at, @actor, @client, @action, @resource, @outcome, @details)`,
      ),
      prune: db.prepare('DELETE FROM audit_log WHERE at < ?'),
    };
  }

  async append(entry: NewAuditEntry): Promise<void> {
    this.statements.append.run({
      ...entry,
      at: entry.at.getTime(),
      details: entry.details === undefined ? null : JSON.stringify(entry.details),
    });
  }

  async list(filter: AuditFilter, before: number | undefined, limit: number): Promise<Page<AuditEntry>> {
    const conditions: string[] = [];
    const values: Record<string, unknown> = { limit: limit + 1 };
    if (before !== undefined) {
      conditions.push('id < @before');
      values.before = before;
    }
    if (filter.since) {
      conditions.push('at >= @since');
      values.since = filter.since.getTime();
    }
    if (filter.actor !== undefined) {
      conditions.push('actor = @actor');
      values.actor = filter.actor;
    }
    if (filter.action !== undefined) {
      conditions.push('action = @action');
      values.action = filter.action;
    }
    if (filter.resource !== undefined) {
      conditions.push("(resource = @resource OR resource LIKE @below ESCAPE '\\')");
      values.resource = filter.resource;
      values.below = `${escapeLike(filter.resource)}/%`;
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    // The filters given decide the statement: preparing one per read costs little beside the read.
    const rows = this.db
      .prepare(`SELECT * FROM audit_log ${where} ORDER BY id DESC LIMIT @limit`)
      .all(values) as AuditRow[];
    return page(rows.map(toEntry), limit);
  }

  async pruneBefore(before: Date): Promise<number> {
    return this.statements.prune.run(before.getTime()).changes;
  }
}
