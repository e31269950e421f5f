import type { ServeOverrides } from '../../src/config/config.js';
import type { ApiClient, Json } from './api-client.js';
import { waitFor } from './wait.js';

/** Webhook timings shortened for tests; private targets allowed, as the receiver is on loopback. */
export const fastWebhooks: NonNullable<ServeOverrides['webhooks']> = {
  allowPrivateTargets: true,
  retryBackoff: '50ms',
  maxBackoff: '200ms',
  pollInterval: '50ms',
  timeout: '5s',
  lease: '10s',
};

export function webhooksPath(project: string): string {
  return `/api/v1/projects/${project}/webhooks`;
}

/** Registers a webhook as `client`; returns `{webhook, secret}`. */
export function createWebhook(
  client: ApiClient,
  project: string,
  url: string,
  events: string[],
  secret?: string,
): Promise<Json> {
  return client.ok('POST', webhooksPath(project), { url, events, ...(secret ? { secret } : {}) });
}

/** A webhook's deliveries, newest first. */
export async function deliveriesOf(client: ApiClient, project: string, webhook: string): Promise<Json[]> {
  return (await client.ok('GET', `${webhooksPath(project)}/${webhook}/deliveries`)).deliveries;
}

/** Polls a delivery until it is no longer pending or being sent; returns its detail. */
export function waitForDeliveryOutcome(client: ApiClient, project: string, delivery: string): Promise<Json> {
  return waitFor(`delivery ${delivery} to finish`, async () => {
    const detail = await client.ok('GET', `/api/v1/projects/${project}/webhookDeliveries/${delivery}`);
    return detail.status === 'succeeded' || detail.status === 'failed' ? detail : undefined;
  });
}
