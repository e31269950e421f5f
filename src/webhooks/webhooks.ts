import type { WebhooksConfig } from '../config/config.js';
import type { RegistryContext } from '../oci/registry-context.js';
import { DeliveryWorkers } from './delivery-workers.js';
import { type HostResolver, systemResolver, TargetGuard } from './target-guard.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';

export interface Webhooks {
  readonly guard: TargetGuard;
  readonly dispatcher: WebhookDispatcher;
  readonly workers: DeliveryWorkers;
  /** Deletes the records of deliveries finished longer ago than `webhooks.keepDeliveries`; returns how many. */
  purgeRecords(): Promise<number>;
}

/**
 * Builds the webhook senders (not started) and subscribes the dispatcher to the registry's events,
 * so that every push, delete and finished scan queues the deliveries it owes.
 */
export function createWebhooks(
  context: RegistryContext,
  config: WebhooksConfig,
  resolver: HostResolver = systemResolver,
): Webhooks {
  const guard = new TargetGuard(config, resolver);
  const store = context.metadata.webhooks;
  const workers = new DeliveryWorkers(
    { store, guard, clock: context.clock, ids: context.ids, logger: context.logger },
    config,
  );
  const dispatcher = new WebhookDispatcher(store, context.clock, context.ids, () => workers.wake());
  context.events.subscribe((event) => dispatcher.dispatch(event));
  const purgeRecords = () =>
    store.deleteFinishedBefore(new Date(context.clock.now().getTime() - config.keepDeliveries));
  return { guard, dispatcher, workers, purgeRecords };
}
