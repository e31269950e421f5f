import type { Page } from './metadata.js';

/**
 * Webhooks registered per project, and the queue of their deliveries. The queue is in the metadata
 * store, claimed with leases like the scan queue, so deliveries survive a restart and several
 * instances share them.
 */

export const webhookEventTypes = ['push', 'delete', 'scan-finished'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

export interface WebhookRecord {
  readonly id: string;
  readonly project: string;
  readonly url: string;
  readonly events: readonly WebhookEventType[];
  /** The HMAC key deliveries are signed with; kept because signing needs it, shown only at creation. */
  readonly secret: string;
  /** Who registered it (`user:LOGIN`, `serviceAccount:EMAIL`). */
  readonly createdBy: string;
  readonly createdAt: Date;
}

/**
 * - `pending`: waiting for a worker (also between attempts, until `nextAttemptAt`);
 * - `delivering`: claimed by a worker, whose lease keeps it;
 * - `succeeded`: the receiver answered 2xx;
 * - `failed`: every attempt failed, or the target was refused (`lastError` says why).
 */
export const deliveryStatuses = ['pending', 'delivering', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/** One try at sending a delivery. */
export interface DeliveryAttempt {
  readonly attempt: number;
  readonly startedAt: Date;
  readonly durationMs: number;
  /** The receiver's HTTP status; absent when no response came (refused, timeout, connection error). */
  readonly statusCode: number | undefined;
  /** Why the attempt failed; absent on success. */
  readonly error: string | undefined;
  /** The first bytes of the response body, as text (never more than a small prefix is kept). */
  readonly responsePrefix: string | undefined;
}

export interface DeliveryRecord {
  readonly id: string;
  readonly webhookId: string;
  readonly project: string;
  readonly eventId: string;
  readonly eventType: WebhookEventType;
  /** The exact JSON body sent (and signed). */
  readonly payload: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly createdAt: Date;
  readonly nextAttemptAt: Date;
  readonly finishedAt: Date | undefined;
  /** The delivery this one sends again, when it is a redelivery. */
  readonly redeliveryOf: string | undefined;
  /** The last attempt's outcome (each attempt's is in `attempts` of `deliveryAttempts`). */
  readonly lastStatusCode: number | undefined;
  readonly lastError: string | undefined;
  readonly lastDurationMs: number | undefined;
}

export interface NewDelivery {
  readonly id: string;
  readonly webhookId: string;
  readonly eventId: string;
  readonly eventType: WebhookEventType;
  readonly payload: string;
  readonly redeliveryOf?: string;
}

/** A delivery a worker holds, with what it needs to send it. */
export interface DeliveryClaim {
  readonly delivery: DeliveryRecord;
  readonly url: string;
  readonly secret: string;
  /** This attempt's number, from 1. */
  readonly attempt: number;
}

/** How a held attempt ended: delivered, to be retried at `retryAt`, or failed for good. */
export type AttemptOutcome =
  | { readonly result: 'succeeded' }
  | { readonly result: 'retry'; readonly retryAt: Date }
  | { readonly result: 'failed' };

export interface WebhookStore {
  create(webhook: WebhookRecord): Promise<void>;
  find(id: string): Promise<WebhookRecord | undefined>;
  /** A project's webhooks in ID order, after the ID `after`. */
  list(project: string, after: string | undefined, limit: number): Promise<Page<WebhookRecord>>;
  /** Webhooks of the projects that subscribe to the event type. */
  subscribedTo(projects: readonly string[], type: WebhookEventType): Promise<WebhookRecord[]>;
  /** Deletes a webhook with its deliveries; false when there was none. */
  delete(id: string): Promise<boolean>;

  /** The images (PROJECT/REPOSITORY/IMAGE) holding a manifest, for events known by digest only. */
  imagesHolding(digest: string): Promise<string[]>;

  /** Queues deliveries, due at `at`. */
  enqueue(deliveries: readonly NewDelivery[], at: Date): Promise<void>;
  /**
   * Atomically takes the oldest due pending delivery, for `worker` until `leaseUntil`. Safe with
   * several instances sharing the store: only one of them gets a given delivery.
   */
  claim(worker: string, at: Date, leaseUntil: Date): Promise<DeliveryClaim | undefined>;
  /** Deliveries whose lease ran out at `at` (their instance stopped) go back to the queue. */
  recoverExpired(at: Date): Promise<number>;
  /**
   * Records a held attempt and what follows it, in one step. False when the worker no longer held
   * the delivery (another instance took it over): nothing is recorded.
   */
  recordAttempt(
    deliveryId: string,
    worker: string,
    attempt: DeliveryAttempt,
    outcome: AttemptOutcome,
  ): Promise<boolean>;
  /** Gives a held delivery back without counting the attempt (the instance is shutting down). */
  release(deliveryId: string, worker: string, at: Date): Promise<boolean>;

  findDelivery(id: string): Promise<DeliveryRecord | undefined>;
  /** A webhook's deliveries, newest first, those after the delivery `after` in that order. */
  deliveries(webhookId: string, after: string | undefined, limit: number): Promise<Page<DeliveryRecord>>;
  /** A delivery's attempts, first first. */
  deliveryAttempts(deliveryId: string): Promise<DeliveryAttempt[]>;
  /** Deletes the records of deliveries that finished before `before`; returns how many. */
  deleteFinishedBefore(before: Date): Promise<number>;
}
