import type { SeverityCounts } from '../db/scans.js';
import type { Clock } from '../lib/clock.js';
import type { IdGenerator } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';

/**
 * What happened in the registry, told to whoever subscribed (webhooks now; the audit log and
 * metrics may subscribe later). Each event says where it happened and who caused it; the sink
 * gives it an `id` and `occurredAt`, so every subscriber sees the same event.
 */

interface EventBase {
  /** Unique per event: a receiver that sees the same id twice is seeing a redelivery. */
  readonly id: string;
  readonly occurredAt: Date;
}

/** Where an image lives: PROJECT/REPOSITORY/IMAGE, split. */
export interface ImageLocation {
  readonly project: string;
  readonly repository: string;
  /** The image's name inside its repository (may hold `/`). */
  readonly image: string;
}

/** A manifest was stored (pushed, or tagged by the push). */
export interface PushEvent extends EventBase, ImageLocation {
  readonly type: 'push';
  readonly digest: string;
  readonly mediaType: string;
  /** The tag the push named; empty when it pushed by digest. */
  readonly tags: readonly string[];
  /** `user:LOGIN`, `serviceAccount:EMAIL`, or `anonymous`. */
  readonly actor: string;
}

/** An image, a manifest (with the tags on it) or a tag was deleted. */
export interface DeleteEvent extends EventBase, ImageLocation {
  readonly type: 'delete';
  readonly target: 'image' | 'manifest' | 'tag';
  /** The deleted manifest's digest (target `manifest`). */
  readonly digest?: string;
  /** The deleted tag (target `tag`). */
  readonly tag?: string;
  readonly actor: string;
}

/** A vulnerability scan of a manifest ended: succeeded, or failed for good. */
export interface ScanFinishedEvent extends EventBase {
  readonly type: 'scan-finished';
  readonly digest: string;
  readonly status: 'succeeded' | 'failed' | 'scanner_unavailable';
  /** Why it failed; absent on success. */
  readonly reason?: string;
  /** Findings by severity; absent when the scan did not succeed. */
  readonly summary?: SeverityCounts;
}

export type RegistryEvent = PushEvent | DeleteEvent | ScanFinishedEvent;

/** What an emitter says: the event without the `id` and `occurredAt` the sink gives it. */
export type NewRegistryEvent = RegistryEvent extends infer E
  ? E extends RegistryEvent
    ? Omit<E, 'id' | 'occurredAt'>
    : never
  : never;

/** A subscriber. It should be quick (record and return): the emitter waits for it. */
export type RegistryEventListener = (event: RegistryEvent) => Promise<void> | void;

export interface RegistryEvents {
  /**
   * Tells every subscriber. Never throws: a subscriber's failure is logged, and never fails or
   * undoes what happened (a push stays pushed whatever a webhook does).
   */
  emit(event: NewRegistryEvent): Promise<void>;
  /** Returns the function that unsubscribes. */
  subscribe(listener: RegistryEventListener): () => void;
}

/** The in-process event sink the composition root builds once. */
export class InProcessRegistryEvents implements RegistryEvents {
  private readonly listeners = new Set<RegistryEventListener>();

  constructor(
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly logger: Logger,
  ) {}

  async emit(happened: NewRegistryEvent): Promise<void> {
    const event = { ...happened, id: this.ids.next(), occurredAt: this.clock.now() } as RegistryEvent;
    await Promise.all(
      [...this.listeners].map(async (listener) => {
        try {
          await listener(event);
        } catch (error) {
          this.logger.error(
            { err: error, event: event.type, eventId: event.id },
            'an event subscriber failed',
          );
        }
      }),
    );
  }

  subscribe(listener: RegistryEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Tells of a delete: of the whole image, of one manifest (with its tags), or of one tag. */
export function emitDeleted(
  events: RegistryEvents,
  where: ImageLocation,
  what: { target: 'image' } | { target: 'manifest'; digest: string } | { target: 'tag'; tag: string },
  actor: string,
): Promise<void> {
  return events.emit({
    type: 'delete',
    project: where.project,
    repository: where.repository,
    image: where.image,
    ...what,
    actor,
  });
}
