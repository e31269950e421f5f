import {
  type CreatedWebhook,
  type Webhook,
  type WebhookDelivery,
  type WebhookEventType,
  WebhooksApi,
} from '../../client/webhooks-api.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';

/** `webhooks create|list|describe|delete|deliveries|redeliver`. */

export interface WebhookList {
  readonly project: string;
  readonly webhooks: Webhook[];
}

/** The secret is in the result only when the server generated it: one given on stdin is the caller's already. */
export interface WebhookCreated {
  readonly webhook: Webhook;
  readonly secret?: string;
}

export interface WebhookDeleted {
  readonly project: string;
  readonly webhook: string;
  readonly deleted: true;
}

export interface DeliveryList {
  readonly project: string;
  readonly webhook: string;
  readonly deliveries: WebhookDelivery[];
}

/** `scan` is short for `scan-finished`, as people type it. */
const eventNames: Record<string, WebhookEventType> = {
  push: 'push',
  delete: 'delete',
  scan: 'scan-finished',
  'scan-finished': 'scan-finished',
};

/** `push,delete,scan` as the API's event types. */
export function parseEvents(text: string): WebhookEventType[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !(name in eventNames));
  if (unknown.length > 0 || names.length === 0) {
    throw new CliError(
      'USAGE',
      names.length === 0 ? 'no events given' : `unknown event ${unknown.map((n) => `"${n}"`).join(', ')}`,
      { hint: 'pass --events with one or more of push, delete, scan (comma-separated)' },
    );
  }
  return [...new Set(names.map((name) => eventNames[name] as WebhookEventType))];
}

const api = (context: CliContext, registry?: string) =>
  new WebhooksApi(context.api(context.registry(registry)));

export async function createWebhook(
  context: CliContext,
  options: { project: string; url: string; events: WebhookEventType[]; secret?: string; registry?: string },
): Promise<WebhookCreated> {
  const created: CreatedWebhook = await api(context, options.registry).create(options.project, {
    url: options.url,
    events: options.events,
    ...(options.secret === undefined ? {} : { secret: options.secret }),
  });
  return options.secret === undefined ? created : { webhook: created.webhook };
}

export async function listWebhooks(
  context: CliContext,
  project: string,
  registry?: string,
): Promise<WebhookList> {
  return { project, webhooks: await api(context, registry).list(project) };
}

export function describeWebhook(
  context: CliContext,
  project: string,
  webhook: string,
  registry?: string,
): Promise<Webhook> {
  return api(context, registry).get(project, webhook);
}

export async function deleteWebhook(
  context: CliContext,
  project: string,
  webhook: string,
  registry?: string,
): Promise<WebhookDeleted> {
  await api(context, registry).delete(project, webhook);
  return { project, webhook, deleted: true };
}

export async function listDeliveries(
  context: CliContext,
  project: string,
  webhook: string,
  registry?: string,
): Promise<DeliveryList> {
  return { project, webhook, deliveries: await api(context, registry).deliveries(project, webhook) };
}

export function redeliver(
  context: CliContext,
  project: string,
  delivery: string,
  registry?: string,
): Promise<WebhookDelivery> {
  return api(context, registry).redeliver(project, delivery);
}
