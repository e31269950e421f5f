import type { Webhook, WebhookDelivery } from '../client/webhooks-api.js';
import { formatTime, type RenderTarget, renderDetails, renderTable } from './render.js';
import type { DeliveryList, WebhookCreated } from './resources/webhooks.js';

/** How webhook results read for people; scripts use --json. */

const time = (value: string | undefined, target: RenderTarget) => (target.tty ? formatTime(value) : value);

export function webhookTable(webhooks: readonly Webhook[], target: RenderTarget, project: string): string {
  return renderTable(
    [
      { header: 'ID', value: (row: Webhook) => row.id },
      { header: 'URL', value: (row) => row.url, wrap: true },
      { header: 'Events', value: (row) => row.events.join(',') },
      { header: 'Created', value: (row) => time(row.createdAt, target) },
    ],
    webhooks,
    target,
    `No webhooks in project ${project}.`,
  );
}

export function webhookDetails(webhook: Webhook, target: RenderTarget): string {
  return renderDetails(
    [
      ['ID', webhook.id],
      ['Project', webhook.project],
      ['URL', webhook.url],
      ['Events', webhook.events.join(', ')],
      ['Created by', webhook.createdBy],
      ['Created', time(webhook.createdAt, target)],
    ],
    target,
  );
}

/** The webhook, and a generated secret with the warning that it is shown this once. */
export function createdWebhookDetails(created: WebhookCreated, target: RenderTarget): string {
  const details = webhookDetails(created.webhook, target);
  if (created.secret === undefined) return details;
  return `${details}${renderDetails([['Secret', created.secret]], target)}${
    target.tty ? 'Keep the secret now: it is not shown again. Receivers verify each delivery with it.\n' : ''
  }`;
}

function outcome(delivery: WebhookDelivery): string {
  if (delivery.lastError) return delivery.lastError;
  return delivery.lastStatusCode === undefined ? '' : String(delivery.lastStatusCode);
}

export function deliveryTable(list: DeliveryList, target: RenderTarget): string {
  return renderTable(
    [
      { header: 'Delivery', value: (row: WebhookDelivery) => row.id },
      { header: 'Event', value: (row) => row.eventType },
      { header: 'Status', value: (row) => row.status },
      { header: 'Attempts', value: (row) => row.attempts },
      { header: 'Last outcome', value: outcome, wrap: true },
      { header: 'Created', value: (row) => time(row.createdAt, target) },
    ],
    list.deliveries,
    target,
    `No deliveries for webhook ${list.webhook} yet.`,
  );
}
