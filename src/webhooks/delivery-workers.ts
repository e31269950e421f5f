import type { AttemptOutcome, DeliveryClaim, WebhookStore } from '../db/webhooks.js';
import type { Clock } from '../lib/clock.js';
import type { IdGenerator } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import { Wakeups } from '../lib/wakeups.js';
import { signatureHeaders, signPayload } from './signatures.js';
import type { TargetGuard } from './target-guard.js';
import { sendWebhook, type WebhookResponse } from './webhook-sender.js';

export interface DeliveryWorkerOptions {
  /** How many deliveries this instance sends at once; 0 sends none. */
  readonly workers: number;
  readonly maxAttempts: number;
  /** The wait before the second attempt, doubled for each one after, capped at `maxBackoff`. */
  readonly retryBackoff: number;
  readonly maxBackoff: number;
  readonly timeout: number;
  readonly pollInterval: number;
  readonly lease: number;
}

export interface DeliveryWorkerDependencies {
  readonly store: WebhookStore;
  readonly guard: TargetGuard;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
}

/** The wait after failed attempt `attempt` (from 1): backoff, 2 × backoff, 4 × backoff… up to the cap. */
export function retryDelay(
  attempt: number,
  options: Pick<DeliveryWorkerOptions, 'retryBackoff' | 'maxBackoff'>,
): number {
  return Math.min(options.retryBackoff * 2 ** (attempt - 1), options.maxBackoff);
}

/**
 * Sends queued deliveries, a bounded number at a time. Deliveries are claimed from the store with a
 * lease, so instances sharing a store share the queue and a delivery held by an instance that
 * stopped is sent again by another.
 */
export class DeliveryWorkers {
  private readonly abort = new AbortController();
  private readonly wakeups: Wakeups;
  private loops: Promise<void>[] = [];
  private stopping = false;

  constructor(
    private readonly deps: DeliveryWorkerDependencies,
    private readonly options: DeliveryWorkerOptions,
  ) {
    this.wakeups = new Wakeups(options.pollInterval);
  }

  start(): void {
    if (this.loops.length > 0 || this.stopping) return;
    for (let index = 0; index < this.options.workers; index++) {
      this.loops.push(this.loop(this.deps.ids.next()));
    }
  }

  /** Tells idle workers that deliveries were queued. */
  wake(): void {
    this.wakeups.wake();
  }

  /** Stops claiming; deliveries being sent are cut and go back to the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.wakeups.stop();
    await Promise.all(this.loops);
  }

  private async loop(worker: string): Promise<void> {
    const { store, clock, logger } = this.deps;
    while (!this.stopping) {
      const seen = this.wakeups.seen();
      let claim: DeliveryClaim | undefined;
      try {
        const now = clock.now();
        const recovered = await store.recoverExpired(now);
        if (recovered > 0) logger.warn({ recovered }, 'took back webhook deliveries whose instance stopped');
        claim = await store.claim(worker, now, new Date(now.getTime() + this.options.lease));
      } catch (error) {
        logger.error({ err: error }, 'webhook delivery queue unavailable');
      }
      if (claim) await this.deliver(worker, claim);
      else await this.wakeups.idle(seen);
    }
  }

  private async deliver(worker: string, claim: DeliveryClaim): Promise<void> {
    const { store, clock, logger, guard } = this.deps;
    const { delivery, attempt } = claim;
    const startedAt = clock.now();
    const timestamp = Math.floor(startedAt.getTime() / 1000);
    try {
      const response = await sendWebhook(guard, {
        url: claim.url,
        body: delivery.payload,
        timeoutMs: this.options.timeout,
        signal: this.abort.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Mistrive-Webhooks/1',
          [signatureHeaders.event]: delivery.eventType,
          [signatureHeaders.eventId]: delivery.eventId,
          [signatureHeaders.delivery]: delivery.id,
          [signatureHeaders.timestamp]: String(timestamp),
          [signatureHeaders.signature]: signPayload(claim.secret, timestamp, delivery.payload),
        },
      });
      if (response.kind === 'failed' && response.aborted) {
        await store.release(delivery.id, worker, clock.now());
        return;
      }
      const durationMs = Math.max(0, clock.now().getTime() - startedAt.getTime());
      const outcome = this.outcomeOf(response, attempt);
      const recorded = await store.recordAttempt(
        delivery.id,
        worker,
        {
          attempt,
          startedAt,
          durationMs,
          statusCode: response.kind === 'answered' ? response.statusCode : undefined,
          error: errorOf(response),
          responsePrefix: response.kind === 'answered' ? response.responsePrefix : undefined,
        },
        outcome,
      );
      const log = { delivery: delivery.id, webhook: delivery.webhookId, attempt, ms: durationMs };
      if (!recorded) logger.warn(log, 'webhook delivery taken over by another instance: outcome dropped');
      else if (outcome.result === 'succeeded') logger.info(log, 'webhook delivered');
      else if (outcome.result === 'retry') {
        logger.warn(
          { ...log, reason: errorOf(response), retryAt: outcome.retryAt },
          'webhook delivery failed: will retry',
        );
        this.wakeups.wakeAfter(outcome.retryAt.getTime() - clock.now().getTime());
      } else logger.error({ ...log, reason: errorOf(response) }, 'webhook delivery failed');
    } catch (error) {
      // The store could not be written; the lease runs out and the delivery is taken back.
      logger.error({ err: error, delivery: delivery.id }, 'recording a webhook delivery failed');
    }
  }

  private outcomeOf(response: WebhookResponse, attempt: number): AttemptOutcome {
    if (response.kind === 'answered' && response.statusCode >= 200 && response.statusCode < 300) {
      return { result: 'succeeded' };
    }
    // A refused target stays refused: retrying would only knock on the same door.
    if (response.kind === 'refused' || attempt >= this.options.maxAttempts) return { result: 'failed' };
    return {
      result: 'retry',
      retryAt: new Date(this.deps.clock.now().getTime() + retryDelay(attempt, this.options)),
    };
  }
}

function errorOf(response: WebhookResponse): string | undefined {
  if (response.kind !== 'answered') return response.error;
  if (response.statusCode >= 200 && response.statusCode < 300) return undefined;
  return `the receiver answered ${response.statusCode}`;
}
