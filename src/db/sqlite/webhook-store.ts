import type { Page } from '../metadata.js';
import { page } from '../rows/manifests.js';
import { optionalDate } from '../rows/values.js';
import type {
  AttemptOutcome,
  DeliveryAttempt,
  DeliveryClaim,
  DeliveryRecord,
  DeliveryStatus,
  NewDelivery,
  WebhookEventType,
  WebhookRecord,
  WebhookStore,
} from '../webhooks.js';
import type { SqliteDatabase } from './database.js';

interface WebhookRow {
  id: string;
  project_id: string;
  url: string;
  events: string;
  secret: string;
  created_by: string;
  created_at: number;
}

/** A webhook's row with its event types decoded, as both stores read it. */
export type DecodedWebhookRow = Omit<WebhookRow, 'events'> & { events: WebhookEventType[] };

export interface DeliveryRow {
  id: string;
  webhook_id: string;
  project_id: string;
  event_id: string;
  event_type: WebhookEventType;
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  finished_at: number | null;
  redelivery_of: string | null;
  last_status_code: number | null;
  last_error: string | null;
  last_duration_ms: number | null;
}

export interface AttemptRow {
  attempt: number;
  started_at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_prefix: string | null;
}

export const toWebhookRecord = (row: DecodedWebhookRow): WebhookRecord => ({
  id: row.id,
  project: row.project_id,
  url: row.url,
  events: row.events,
  secret: row.secret,
  createdBy: row.created_by,
  createdAt: new Date(row.created_at),
});

const toWebhook = (row: WebhookRow): WebhookRecord =>
  toWebhookRecord({ ...row, events: JSON.parse(row.events) as WebhookEventType[] });

/** A webhook as the parameters of both stores' insert (its event types as JSON). */
export const webhookParameters = (webhook: WebhookRecord) => ({
  id: webhook.id,
  project: webhook.project,
  url: webhook.url,
  events: JSON.stringify(webhook.events),
  secret: webhook.secret,
  createdBy: webhook.createdBy,
  createdAt: webhook.createdAt.getTime(),
});

export const toDelivery = (row: DeliveryRow): DeliveryRecord => ({
  id: row.id,
  webhookId: row.webhook_id,
  project: row.project_id,
  eventId: row.event_id,
  eventType: row.event_type,
  payload: row.payload,
  status: row.status,
  attempts: row.attempts,
  createdAt: new Date(row.created_at),
  nextAttemptAt: new Date(row.next_attempt_at),
  finishedAt: optionalDate(row.finished_at),
  redeliveryOf: row.redelivery_of ?? undefined,
  lastStatusCode: row.last_status_code ?? undefined,
  lastError: row.last_error ?? undefined,
  lastDurationMs: row.last_duration_ms ?? undefined,
});

export const toAttempt = (row: AttemptRow): DeliveryAttempt => ({
  attempt: row.attempt,
  startedAt: new Date(row.started_at),
  durationMs: row.duration_ms,
  statusCode: row.status_code ?? undefined,
  error: row.error ?? undefined,
  responsePrefix: row.response_prefix ?? undefined,
});

/** A delivery's row with its webhook's project. */
const deliveryColumns = 'd.*, w.project_id';

export class SqliteWebhookStore implements WebhookStore {
  private readonly statements;

  constructor(private readonly db: SqliteDatabase) {
    this.statements = {
      create: db.prepare(
        `INSERT INTO webhooks (id, project_id, url, events, secret, created_by, created_at)
         VALUES (@id, @project, @url, @events, @secret, @createdBy, @createdAt)`,
      ),
      find: db.prepare('SELECT * FROM webhooks WHERE id = ?'),
      list: db.prepare('SELECT * FROM webhooks WHERE project_id = ? AND id > ? ORDER BY id LIMIT ?'),
      subscribedTo: db.prepare(
        `SELECT * FROM webhooks WHERE project_id IN (SELECT value FROM json_each(?))
           AND EXISTS (SELECT 1 FROM json_each(webhooks.events) WHERE value = ?)
         ORDER BY id`,
      ),
      delete: db.prepare('DELETE FROM webhooks WHERE id = ?'),
      imagesHolding: db
        .prepare(
          'SELECT DISTINCT i.name FROM manifests m JOIN images i ON i.id = m.image_id WHERE m.digest = ? ORDER BY i.name',
        )
        .pluck(),
      enqueue: db.prepare(
        `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, status, attempts,
           created_at, next_attempt_at, redelivery_of)
         VALUES (@id, @webhookId, @eventId, @eventType, @payload, 'pending', 0, @at, @at, @redeliveryOf)`,
      ),
      // One statement, so the row is taken only if it is still pending when the write lock is held.
      claim: db.prepare(
        `UPDATE webhook_deliveries SET status = 'delivering', attempts = attempts + 1,
           claimed_by = @worker, lease_expires_at = @lease
         WHERE seq = (SELECT seq FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= @at
                      ORDER BY next_attempt_at, seq LIMIT 1)
           AND status = 'pending'
         RETURNING id`,
      ),
      claimed: db.prepare(
        `SELECT ${deliveryColumns}, w.url, w.secret FROM webhook_deliveries d
         JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?`,
      ),
      requeueExpired: db.prepare(
        `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = @at, claimed_by = NULL,
           lease_expires_at = NULL
         WHERE status = 'delivering' AND lease_expires_at < @at`,
      ),
      insertAttempt: db.prepare(
        `INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, response_prefix)
         VALUES (@id, @attempt, @startedAt, @durationMs, @statusCode, @error, @responsePrefix)`,
      ),
      settle: db.prepare(
        `UPDATE webhook_deliveries SET status = @status, next_attempt_at = @next, finished_at = @finished,
           claimed_by = NULL, lease_expires_at = NULL,
           last_status_code = @statusCode, last_error = @error, last_duration_ms = @durationMs
         WHERE id = @id AND status = 'delivering' AND claimed_by = @worker`,
      ),
      release: db.prepare(
        `UPDATE webhook_deliveries SET status = 'pending', attempts = max(attempts - 1, 0), next_attempt_at = @at,
           claimed_by = NULL, lease_expires_at = NULL
         WHERE id = @id AND status = 'delivering' AND claimed_by = @worker`,
      ),
      findDelivery: db.prepare(
        `SELECT ${deliveryColumns} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?`,
      ),
      deliveries: db.prepare(
        `SELECT ${deliveryColumns} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
         WHERE d.webhook_id = @webhookId
           AND (@after IS NULL OR d.seq < (SELECT seq FROM webhook_deliveries WHERE id = @after))
         ORDER BY d.seq DESC LIMIT @limit`,
      ),
      attempts: db.prepare('SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt'),
      deleteFinished: db.prepare(
        "DELETE FROM webhook_deliveries WHERE status IN ('succeeded', 'failed') AND finished_at < ?",
      ),
    };
  }

  async create(webhook: WebhookRecord): Promise<void> {
    this.statements.create.run(webhookParameters(webhook));
  }

  async find(id: string): Promise<WebhookRecord | undefined> {
    const row = this.statements.find.get(id) as WebhookRow | undefined;
    return row && toWebhook(row);
  }

  async list(project: string, after: string | undefined, limit: number): Promise<Page<WebhookRecord>> {
    const rows = this.statements.list.all(project, after ?? '', limit + 1) as WebhookRow[];
    return page(rows.map(toWebhook), limit);
  }

  async subscribedTo(projects: readonly string[], type: WebhookEventType): Promise<WebhookRecord[]> {
    const rows = this.statements.subscribedTo.all(JSON.stringify(projects), type) as WebhookRow[];
    return rows.map(toWebhook);
  }

  async delete(id: string): Promise<boolean> {
    return this.statements.delete.run(id).changes > 0;
  }

  async imagesHolding(digest: string): Promise<string[]> {
    return this.statements.imagesHolding.all(digest) as string[];
  }

  async enqueue(deliveries: readonly NewDelivery[], at: Date): Promise<void> {
    this.db.transaction(() => {
      for (const delivery of deliveries) {
        this.statements.enqueue.run({
          id: delivery.id,
          webhookId: delivery.webhookId,
          eventId: delivery.eventId,
          eventType: delivery.eventType,
          payload: delivery.payload,
          redeliveryOf: delivery.redeliveryOf ?? null,
          at: at.getTime(),
        });
      }
    })();
  }

  async claim(worker: string, at: Date, leaseUntil: Date): Promise<DeliveryClaim | undefined> {
    return this.db.transaction(() => {
      const claimed = this.statements.claim.get({ worker, at: at.getTime(), lease: leaseUntil.getTime() }) as
        | { id: string }
        | undefined;
      if (!claimed) return undefined;
      const row = this.statements.claimed.get(claimed.id) as DeliveryRow & { url: string; secret: string };
      return { delivery: toDelivery(row), url: row.url, secret: row.secret, attempt: row.attempts };
    })();
  }

  async recoverExpired(at: Date): Promise<number> {
    return this.statements.requeueExpired.run({ at: at.getTime() }).changes;
  }

  async recordAttempt(
    deliveryId: string,
    worker: string,
    attempt: DeliveryAttempt,
    outcome: AttemptOutcome,
  ): Promise<boolean> {
    return this.db.transaction(() => {
      const finishedAt = attempt.startedAt.getTime() + attempt.durationMs;
      const settled = this.statements.settle.run({
        id: deliveryId,
        worker,
        status: outcome.result === 'retry' ? 'pending' : outcome.result,
        next: outcome.result === 'retry' ? outcome.retryAt.getTime() : finishedAt,
        finished: outcome.result === 'retry' ? null : finishedAt,
        statusCode: attempt.statusCode ?? null,
        error: attempt.error ?? null,
        durationMs: attempt.durationMs,
      }).changes;
      if (settled === 0) return false;
      this.statements.insertAttempt.run({
        id: deliveryId,
        attempt: attempt.attempt,
        startedAt: attempt.startedAt.getTime(),
        durationMs: attempt.durationMs,
        statusCode: attempt.statusCode ?? null,
        error: attempt.error ?? null,
        responsePrefix: attempt.responsePrefix ?? null,
      });
      return true;
    })();
  }

  async release(deliveryId: string, worker: string, at: Date): Promise<boolean> {
    return this.statements.release.run({ id: deliveryId, worker, at: at.getTime() }).changes > 0;
  }

  async findDelivery(id: string): Promise<DeliveryRecord | undefined> {
    const row = this.statements.findDelivery.get(id) as DeliveryRow | undefined;
    return row && toDelivery(row);
  }

  async deliveries(
    webhookId: string,
    after: string | undefined,
    limit: number,
  ): Promise<Page<DeliveryRecord>> {
    const rows = this.statements.deliveries.all({
      webhookId,
      after: after ?? null,
      limit: limit + 1,
    }) as DeliveryRow[];
    return page(rows.map(toDelivery), limit);
  }

  async deliveryAttempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    return (this.statements.attempts.all(deliveryId) as AttemptRow[]).map(toAttempt);
  }

  async deleteFinishedBefore(before: Date): Promise<number> {
    return this.statements.deleteFinished.run(before.getTime()).changes;
  }
}
