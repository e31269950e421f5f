import type { NewDelivery, WebhookStore } from '../db/webhooks.js';
import type { RegistryEvent } from '../events/registry-events.js';
import type { Clock } from '../lib/clock.js';
import type { IdGenerator } from '../lib/ids.js';
import { parseImageName } from '../oci/names.js';
import { payloadOf } from './payloads.js';

/**
 * Turns registry events into queued deliveries, one per subscribed webhook. It only writes the
 * queue (one small transaction) and wakes the senders: what a receiver does never reaches the
 * push or delete that caused the event.
 */
export class WebhookDispatcher {
  constructor(
    private readonly store: WebhookStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly queued: () => void,
  ) {}

  async dispatch(event: RegistryEvent): Promise<void> {
    const deliveries = await this.deliveriesFor(event);
    if (deliveries.length === 0) return;
    await this.store.enqueue(deliveries, this.clock.now());
    this.queued();
  }

  private async deliveriesFor(event: RegistryEvent): Promise<NewDelivery[]> {
    // A scan is of a digest: every project holding it hears of it, each about its own images.
    const imagesByProject = new Map<string, string[]>();
    if (event.type === 'scan-finished') {
      for (const name of await this.store.imagesHolding(event.digest)) {
        const { project } = parseImageName(name);
        imagesByProject.set(project, [...(imagesByProject.get(project) ?? []), name]);
      }
    } else imagesByProject.set(event.project, []);
    if (imagesByProject.size === 0) return [];
    const webhooks = await this.store.subscribedTo([...imagesByProject.keys()], event.type);
    return webhooks.map((webhook) => ({
      id: this.ids.next(),
      webhookId: webhook.id,
      eventId: event.id,
      eventType: event.type,
      payload: payloadOf(event, webhook.project, imagesByProject.get(webhook.project)),
    }));
  }
}
