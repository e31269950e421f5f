import { type ApiClient, allPages, segment } from './api-client.js';

/** The webhook operations of the management API, typed (shapes as in `/api/v1/openapi.json`). */

export type WebhookEventType = 'push' | 'delete' | 'scan-finished';

export interface Webhook {
  readonly id: string;
  readonly project: string;
  readonly url: string;
  readonly events: WebhookEventType[];
  readonly createdBy: string;
  readonly createdAt: string;
}

export interface CreatedWebhook {
  readonly webhook: Webhook;
  /** The signing key, returned this once. */
  readonly secret: string;
}

export interface WebhookDelivery {
  readonly id: string;
  readonly webhook: string;
  readonly project: string;
  readonly eventId: string;
  readonly eventType: WebhookEventType;
  readonly status: 'pending' | 'delivering' | 'succeeded' | 'failed';
  readonly attempts: number;
  readonly createdAt: string;
  readonly nextAttemptAt?: string;
  readonly finishedAt?: string;
  readonly redeliveryOf?: string;
  readonly lastStatusCode?: number;
  readonly lastError?: string;
  readonly lastDurationMs?: number;
}

export class WebhooksApi {
  constructor(readonly client: ApiClient) {}

  private path(project: string, webhook?: string): string {
    const base = `/projects/${segment(project)}/webhooks`;
    return webhook === undefined ? base : `${base}/${segment(webhook)}`;
  }

  list(project: string): Promise<Webhook[]> {
    return allPages(this.client, this.path(project), 'webhooks');
  }

  create(
    project: string,
    webhook: { url: string; events: WebhookEventType[]; secret?: string },
  ): Promise<CreatedWebhook> {
    return this.client.call('POST', this.path(project), { body: webhook });
  }

  get(project: string, webhook: string): Promise<Webhook> {
    return this.client.call('GET', this.path(project, webhook));
  }

  delete(project: string, webhook: string): Promise<void> {
    return this.client.call('DELETE', this.path(project, webhook));
  }

  deliveries(project: string, webhook: string): Promise<WebhookDelivery[]> {
    return allPages(this.client, `${this.path(project, webhook)}/deliveries`, 'deliveries');
  }

  redeliver(project: string, delivery: string): Promise<WebhookDelivery> {
    return this.client.call(
      'POST',
      `/projects/${segment(project)}/webhookDeliveries/${segment(delivery)}/redeliver`,
    );
  }
}
