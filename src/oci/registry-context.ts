import type { MetadataStore } from '../db/metadata.js';
import type { RegistryEvents } from '../events/registry-events.js';
import type { BlobPromises } from '../gc/promises.js';
import type { Clock } from '../lib/clock.js';
import type { IdGenerator } from '../lib/ids.js';
import type { Logger } from '../lib/logger.js';
import type { BlobStore } from '../storage/blob-store.js';

/** What the OCI services share, built once by the composition root. */
export interface RegistryContext {
  readonly blobs: BlobStore;
  readonly metadata: MetadataStore;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly logger: Logger;
  /** Create missing projects and repositories on first push (throwaway local registries only). */
  readonly autoCreateRepositories: boolean;
  /** How long what a client is told about a blob stays (`gc.delay`), and how promises are recorded. */
  readonly promises: BlobPromises;
  /** Where pushes, deletes and finished scans are told (webhooks subscribe). */
  readonly events: RegistryEvents;
}
