import type { Page } from '../metadata.js';
import { page } from '../rows/manifests.js';
import {
  type AttemptRow,
  type DecodedWebhookRow,
  type DeliveryRow,
  toAttempt,
  toDelivery,
  toWebhookRecord,
  webhookParameters,
} from '../sqlite/webhook-store.js';
import type {
  AttemptOutcome,
  DeliveryAttempt,
  DeliveryClaim,
  DeliveryRecord,
  NewDelivery,
  WebhookEventType,
  WebhookRecord,
  WebhookStore,
} from '../webhooks.js';
import { type PostgresDatabase, sql } from './database.js';

/** A delivery's row with its webhook's project. */
const deliveryColumns = 'd.*, w.project_id';

const statements = {
  create: sql(
    `INSERT INTO webhooks (id, project_id, url, events, secret, created_by, created_at)
     VALUES (@id, @project, @url, @events::jsonb, @secret, @createdBy, @createdAt)`,
  ),
  find: sql('SELECT * FROM webhooks WHERE id = @id'),
  list: sql('SELECT * FROM webhooks WHERE project_id = @project AND id > @after ORDER BY id LIMIT @limit'),
  // Run for every push and delete, so prepared once per connection.
  subscribedTo: sql(
    `SELECT * FROM webhooks WHERE project_id = ANY(@projects::text[])
       AND events @> jsonb_build_array(@type::text)
     ORDER BY id`,
    'webhooks.subscribedTo',
  ),
  delete: sql('DELETE FROM webhooks WHERE id = @id'),
  imagesHolding: sql(
    `SELECT DISTINCT i.name FROM manifests m JOIN images i ON i.id = m.image_id WHERE m.digest = @digest
     ORDER BY i.name`,
  ),
  // Every delivery of an event in one statement, in the order given (their sequence orders the queue).
  enqueue: sql(
    `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, status, attempts,
       created_at, next_attempt_at, redelivery_of)
     SELECT n.id, n.webhook_id, n.event_id, n.event_type, n.payload, 'pending', 0, @at, @at, n.redelivery_of
     FROM ROWS FROM (jsonb_to_recordset(@deliveries::jsonb)
       AS (id text, webhook_id text, event_id text, event_type text, payload text, redelivery_of text))
       WITH ORDINALITY AS n(id, webhook_id, event_id, event_type, payload, redelivery_of, position)
     ORDER BY n.position`,
  ),
  // Instances polling at once each take a different delivery: a row another is taking is skipped
  // rather than waited for. The claimed row comes back with its webhook's target in the same statement.
  claim: sql(
    `WITH claimed AS (
       UPDATE webhook_deliveries SET status = 'delivering', attempts = attempts + 1,
         claimed_by = @worker, lease_expires_at = @lease
       WHERE seq = (SELECT seq FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= @at
                    ORDER BY next_attempt_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
         AND status = 'pending'
       RETURNING *)
     SELECT ${deliveryColumns}, w.url, w.secret FROM claimed d JOIN webhooks w ON w.id = d.webhook_id`,
    'webhooks.claim',
  ),
  requeueExpired: sql(
    `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = @at, claimed_by = NULL,
       lease_expires_at = NULL
     WHERE status = 'delivering' AND lease_expires_at < @at`,
    'webhooks.requeueExpired',
  ),
  // The attempt is recorded only if the worker still held the delivery, in the one statement that settles it.
  recordAttempt: sql(
    `WITH settled AS (
       UPDATE webhook_deliveries SET status = @status, next_attempt_at = @next, finished_at = @finished,
         claimed_by = NULL, lease_expires_at = NULL,
         last_status_code = @statusCode, last_error = @error, last_duration_ms = @durationMs
       WHERE id = @id AND status = 'delivering' AND claimed_by = @worker
       RETURNING id)
     INSERT INTO webhook_attempts (delivery_id, attempt, started_at, duration_ms, status_code, error, response_prefix)
     SELECT id, @attempt::integer, @startedAt::bigint, @durationMs, @statusCode, @error, @responsePrefix::text
     FROM settled`,
    'webhooks.recordAttempt',
  ),
  release: sql(
    `UPDATE webhook_deliveries SET status = 'pending', attempts = greatest(attempts - 1, 0), next_attempt_at = @at,
       claimed_by = NULL, lease_expires_at = NULL
     WHERE id = @id AND status = 'delivering' AND claimed_by = @worker`,
  ),
  findDelivery: sql(
    `SELECT ${deliveryColumns} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = @id`,
  ),
  deliveries: sql(
    `SELECT ${deliveryColumns} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
     WHERE d.webhook_id = @webhookId
       AND (@after::text IS NULL OR d.seq < (SELECT seq FROM webhook_deliveries WHERE id = @after::text))
     ORDER BY d.seq DESC LIMIT @limit`,
  ),
  attempts: sql('SELECT * FROM webhook_attempts WHERE delivery_id = @id ORDER BY attempt'),
  deleteFinished: sql(
    "DELETE FROM webhook_deliveries WHERE status IN ('succeeded', 'failed') AND finished_at < @before",
  ),
};

/**
 * PostgreSQL text cannot hold NUL, which a receiver's binary answer decodes to; the prefix is kept
 * for people to read, so NUL becomes the replacement character rather than failing the record.
 */
const storableText = (text: string | undefined): string | null =>
  text?.replaceAll('\u0000', '\uFFFD') ?? null;

export class PostgresWebhookStore implements WebhookStore {
  constructor(private readonly db: PostgresDatabase) {}

  async create(webhook: WebhookRecord): Promise<void> {
    await this.db.run(statements.create, webhookParameters(webhook));
  }

  async find(id: string): Promise<WebhookRecord | undefined> {
    const row = await this.db.row<DecodedWebhookRow>(statements.find, { id });
    return row && toWebhookRecord(row);
  }

  async list(project: string, after: string | undefined, limit: number): Promise<Page<WebhookRecord>> {
    const rows = await this.db.rows<DecodedWebhookRow>(statements.list, {
      project,
      after: after ?? '',
      limit: limit + 1,
    });
    return page(rows.map(toWebhookRecord), limit);
  }

  async subscribedTo(projects: readonly string[], type: WebhookEventType): Promise<WebhookRecord[]> {
    const rows = await this.db.rows<DecodedWebhookRow>(statements.subscribedTo, {
      projects: [...projects],
      type,
    });
    return rows.map(toWebhookRecord);
  }

  async delete(id: string): Promise<boolean> {
    return (await this.db.run(statements.delete, { id })) > 0;
  }

  async imagesHolding(digest: string): Promise<string[]> {
    return (await this.db.rows<{ name: string }>(statements.imagesHolding, { digest })).map(
      (row) => row.name,
    );
  }

  async enqueue(deliveries: readonly NewDelivery[], at: Date): Promise<void> {
    if (deliveries.length === 0) return;
    const rows = deliveries.map((delivery) => ({
      id: delivery.id,
      webhook_id: delivery.webhookId,
      event_id: delivery.eventId,
      event_type: delivery.eventType,
      payload: delivery.payload,
      redelivery_of: delivery.redeliveryOf ?? null,
    }));
    await this.db.run(statements.enqueue, { deliveries: JSON.stringify(rows), at: at.getTime() });
  }

  async claim(worker: string, at: Date, leaseUntil: Date): Promise<DeliveryClaim | undefined> {
    const row = await this.db.row<DeliveryRow & { url: string; secret: string }>(statements.claim, {
      worker,
      at: at.getTime(),
      lease: leaseUntil.getTime(),
    });
    return row && { delivery: toDelivery(row), url: row.url, secret: row.secret, attempt: row.attempts };
  }

  async recoverExpired(at: Date): Promise<number> {
    return this.db.run(statements.requeueExpired, { at: at.getTime() });
  }

  async recordAttempt(
    deliveryId: string,
    worker: string,
    attempt: DeliveryAttempt,
    outcome: AttemptOutcome,
  ): Promise<boolean> {
    const finishedAt = attempt.startedAt.getTime() + attempt.durationMs;
    const recorded = await this.db.run(statements.recordAttempt, {
      id: deliveryId,
      worker,
      status: outcome.result === 'retry' ? 'pending' : outcome.result,
      next: outcome.result === 'retry' ? outcome.retryAt.getTime() : finishedAt,
      finished: outcome.result === 'retry' ? null : finishedAt,
      attempt: attempt.attempt,
      startedAt: attempt.startedAt.getTime(),
      durationMs: attempt.durationMs,
      statusCode: attempt.statusCode ?? null,
      error: storableText(attempt.error),
      responsePrefix: storableText(attempt.responsePrefix),
    });
    return recorded > 0;
  }

  async release(deliveryId: string, worker: string, at: Date): Promise<boolean> {
    return (await this.db.run(statements.release, { id: deliveryId, worker, at: at.getTime() })) > 0;
  }

  async findDelivery(id: string): Promise<DeliveryRecord | undefined> {
    const row = await this.db.row<DeliveryRow>(statements.findDelivery, { id });
    return row && toDelivery(row);
  }

  async deliveries(
    webhookId: string,
    after: string | undefined,
    limit: number,
  ): Promise<Page<DeliveryRecord>> {
    const rows = await this.db.rows<DeliveryRow>(statements.deliveries, {
      webhookId,
      after: after ?? null,
      limit: limit + 1,
    });
    return page(rows.map(toDelivery), limit);
  }

  async deliveryAttempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    return (await this.db.rows<AttemptRow>(statements.attempts, { id: deliveryId })).map(toAttempt);
  }

  async deleteFinishedBefore(before: Date): Promise<number> {
    return this.db.run(statements.deleteFinished, { before: before.getTime() });
  }
}
