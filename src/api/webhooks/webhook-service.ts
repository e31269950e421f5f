import { z } from 'zod';
import type { MetadataStore } from '../../db/metadata.js';
import {
  type DeliveryAttempt,
  type DeliveryRecord,
  deliveryStatuses,
  type WebhookRecord,
  webhookEventTypes,
} from '../../db/webhooks.js';
import { RegistryError } from '../../errors/registry-error.js';
import { type Caller, subjectOf } from '../../iam/principals.js';
import type { Clock } from '../../lib/clock.js';
import type { IdGenerator } from '../../lib/ids.js';
import { generateSecret, maxSecretLength, minSecretLength } from '../../webhooks/signatures.js';
import { type TargetGuard, TargetRefused, TargetUnresolved } from '../../webhooks/target-guard.js';
import { type ApiAccess, projectNotFound } from '../access-checks.js';
import { collectPage, type PageQuery, type PageResult } from '../pagination.js';
import { iso, requestSchema, responseSchema, timestamp } from '../schemas.js';

export const webhookView = responseSchema(
  'Webhook',
  z.object({
    id: z.string(),
    project: z.string(),
    url: z.string(),
    events: z.array(z.enum(webhookEventTypes)),
    createdBy: z.string().describe('Who registered it'),
    createdAt: timestamp,
  }),
);

export const createdWebhookView = responseSchema(
  'CreatedWebhook',
  z.object({
    webhook: webhookView,
    secret: z
      .string()
      .describe('The key deliveries are signed with: returned this once (the one given, or one generated)'),
  }),
);

export const newWebhook = requestSchema(
  'NewWebhook',
  z
    .object({
      url: z
        .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
        .max(2048, 'must be at most 2048 characters')
        .describe('Where deliveries are POSTed'),
      events: z
        .array(z.enum(webhookEventTypes))
        .min(1, 'must name at least one event: push, delete or scan-finished')
        .describe('The events delivered'),
      secret: z
        .string()
        .min(minSecretLength, `must be at least ${minSecretLength} characters`)
        .max(maxSecretLength, `must be at most ${maxSecretLength} characters`)
        .optional()
        .describe('The signing key; generated when absent'),
    })
    .strict(),
);

const attemptView = z.object({
  attempt: z.number().int(),
  startedAt: timestamp,
  durationMs: z.number().int(),
  statusCode: z.number().int().optional().describe("The receiver's HTTP status; absent when none came"),
  error: z.string().optional(),
  responsePrefix: z.string().optional().describe('The first bytes of the answer (at most 1 KiB)'),
});

export const deliveryView = responseSchema(
  'WebhookDelivery',
  z.object({
    id: z.string(),
    webhook: z.string(),
    project: z.string(),
    eventId: z.string().describe('The event’s id, the same in a redelivery'),
    eventType: z.enum(webhookEventTypes),
    status: z.enum(deliveryStatuses),
    attempts: z.number().int(),
    createdAt: timestamp,
    nextAttemptAt: timestamp.optional().describe('When the next attempt is due, while pending'),
    finishedAt: timestamp.optional(),
    redeliveryOf: z.string().optional(),
    lastStatusCode: z.number().int().optional(),
    lastError: z.string().optional(),
    lastDurationMs: z.number().int().optional(),
  }),
);

export const deliveryDetailView = responseSchema(
  'WebhookDeliveryDetail',
  deliveryView.extend({
    payload: z.unknown().describe('The JSON body sent'),
    attemptLog: z.array(attemptView).describe('Each attempt, first first'),
  }),
);

export type WebhookView = z.input<typeof webhookView>;
export type DeliveryView = z.input<typeof deliveryView>;

const viewWebhook = (webhook: WebhookRecord): WebhookView => ({
  id: webhook.id,
  project: webhook.project,
  url: webhook.url,
  events: [...webhook.events],
  createdBy: webhook.createdBy,
  createdAt: iso(webhook.createdAt),
});

const viewDelivery = (delivery: DeliveryRecord): DeliveryView => ({
  id: delivery.id,
  webhook: delivery.webhookId,
  project: delivery.project,
  eventId: delivery.eventId,
  eventType: delivery.eventType,
  status: delivery.status,
  attempts: delivery.attempts,
  createdAt: iso(delivery.createdAt),
  ...(delivery.status === 'pending' ? { nextAttemptAt: iso(delivery.nextAttemptAt) } : {}),
  ...(delivery.finishedAt ? { finishedAt: iso(delivery.finishedAt) } : {}),
  ...(delivery.redeliveryOf ? { redeliveryOf: delivery.redeliveryOf } : {}),
  ...(delivery.lastStatusCode === undefined ? {} : { lastStatusCode: delivery.lastStatusCode }),
  ...(delivery.lastError === undefined ? {} : { lastError: delivery.lastError }),
  ...(delivery.lastDurationMs === undefined ? {} : { lastDurationMs: delivery.lastDurationMs }),
});

const viewAttempt = (attempt: DeliveryAttempt) => ({
  attempt: attempt.attempt,
  startedAt: iso(attempt.startedAt),
  durationMs: attempt.durationMs,
  ...(attempt.statusCode === undefined ? {} : { statusCode: attempt.statusCode }),
  ...(attempt.error === undefined ? {} : { error: attempt.error }),
  ...(attempt.responsePrefix === undefined ? {} : { responsePrefix: attempt.responsePrefix }),
});

/** A project's webhooks and their deliveries; all of it takes artifactstore.owner on the project. */
export class WebhookService {
  constructor(
    private readonly access: ApiAccess,
    private readonly metadata: MetadataStore,
    private readonly guard: TargetGuard,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    /** Wakes the senders once a redelivery is queued. */
    private readonly queued: () => void,
  ) {}

  async create(
    caller: Caller,
    project: string,
    input: z.output<typeof newWebhook>,
  ): Promise<z.input<typeof createdWebhookView>> {
    await this.authorize(caller, project);
    await this.refuseUnreachable(input.url);
    const secret = input.secret ?? generateSecret();
    const webhook: WebhookRecord = {
      id: this.ids.next(),
      project,
      url: input.url,
      events: [...new Set(input.events)],
      secret,
      createdBy: subjectOf(caller),
      createdAt: this.clock.now(),
    };
    await this.metadata.webhooks.create(webhook);
    return { webhook: viewWebhook(webhook), secret };
  }

  async list(caller: Caller, project: string, query: PageQuery): Promise<PageResult<WebhookView>> {
    await this.authorize(caller, project);
    const page = await collectPage(
      `webhooks ${project}`,
      query,
      (after, limit) => this.metadata.webhooks.list(project, after, limit),
      (webhook) => webhook.id,
    );
    return { items: page.items.map(viewWebhook), nextPageToken: page.nextPageToken };
  }

  async get(caller: Caller, project: string, id: string): Promise<WebhookView> {
    await this.authorize(caller, project);
    return viewWebhook(await this.find(project, id));
  }

  /** Deletes the webhook with its delivery records; deliveries still queued are not sent. */
  async delete(caller: Caller, project: string, id: string): Promise<void> {
    await this.authorize(caller, project);
    await this.find(project, id);
    if (!(await this.metadata.webhooks.delete(id))) throw webhookNotFound(project, id);
  }

  async deliveries(
    caller: Caller,
    project: string,
    id: string,
    query: PageQuery,
  ): Promise<PageResult<DeliveryView>> {
    await this.authorize(caller, project);
    await this.find(project, id);
    const page = await collectPage(
      `deliveries ${id}`,
      query,
      (after, limit) => this.metadata.webhooks.deliveries(id, after, limit),
      (delivery) => delivery.id,
    );
    return { items: page.items.map(viewDelivery), nextPageToken: page.nextPageToken };
  }

  async delivery(caller: Caller, project: string, id: string): Promise<z.input<typeof deliveryDetailView>> {
    await this.authorize(caller, project);
    const delivery = await this.findDelivery(project, id);
    const attempts = await this.metadata.webhooks.deliveryAttempts(id);
    return {
      ...viewDelivery(delivery),
      payload: JSON.parse(delivery.payload) as unknown,
      attemptLog: attempts.map(viewAttempt),
    };
  }

  /** Queues the delivery's payload again, as a new delivery of the same event (same `id` in the body). */
  async redeliver(caller: Caller, project: string, id: string): Promise<DeliveryView> {
    await this.authorize(caller, project);
    const original = await this.findDelivery(project, id);
    const copy = {
      id: this.ids.next(),
      webhookId: original.webhookId,
      eventId: original.eventId,
      eventType: original.eventType,
      payload: original.payload,
      redeliveryOf: original.id,
    };
    await this.metadata.webhooks.enqueue([copy], this.clock.now());
    this.queued();
    const queued = await this.metadata.webhooks.findDelivery(copy.id);
    if (!queued) throw deliveryNotFound(project, copy.id);
    return viewDelivery(queued);
  }

  /** A target refused now would be refused at every delivery: say so to the owner at once. */
  private async refuseUnreachable(url: string): Promise<void> {
    const parsed = new URL(url);
    if (parsed.username !== '' || parsed.password !== '') {
      throw invalidUrl('must not carry a user name or password (the signature authenticates deliveries)');
    }
    try {
      await this.guard.addressesOf(parsed.hostname);
    } catch (error) {
      if (error instanceof TargetRefused || error instanceof TargetUnresolved)
        throw invalidUrl(error.message);
      throw error;
    }
  }

  private async authorize(caller: Caller, project: string): Promise<void> {
    await this.access.project(caller, project, 'administer');
    if (!(await this.metadata.projects.find(project))) throw projectNotFound(project);
  }

  private async find(project: string, id: string): Promise<WebhookRecord> {
    const found = await this.metadata.webhooks.find(id);
    if (!found || found.project !== project) throw webhookNotFound(project, id);
    return found;
  }

  private async findDelivery(project: string, id: string): Promise<DeliveryRecord> {
    const found = await this.metadata.webhooks.findDelivery(id);
    if (!found || found.project !== project) throw deliveryNotFound(project, id);
    return found;
  }
}

function invalidUrl(why: string): RegistryError {
  return new RegistryError('INVALID_ARGUMENT', `invalid field "url": ${why}`, {
    detail: { fieldViolations: [{ field: 'url', description: why }] },
  });
}

function webhookNotFound(project: string, id: string): RegistryError {
  return new RegistryError('NOT_FOUND', `webhook ${id} not found in project ${project}`);
}

function deliveryNotFound(project: string, id: string): RegistryError {
  return new RegistryError('NOT_FOUND', `webhook delivery ${id} not found in project ${project}`);
}
