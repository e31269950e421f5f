import { RegistryError } from '../errors/registry-error.js';

/** How long a push waits for a collector deleting the same blob: past its lease, the push takes the blob back. */
const waitLimitMs = 120_000;
const retryMs = 20;

export interface StoreSteps<T> {
  /** Writes the bytes under their digest; does nothing when they are there already. */
  place(): Promise<void>;
  /** Records the blob in the metadata: `deleting` while the collector is removing the file. */
  record(): Promise<T | 'deleting'>;
  /** Whether the bytes are in place. */
  present(): Promise<boolean>;
}

/**
 * The one way a push makes stored bytes known, safe against a collector sweeping the same digest
 * (invariants 2 and 3 in `collector.ts`). Bytes first, then the metadata, in one transaction with
 * the collector's state:
 * - recorded before the collector marks the blob: the collector sees the link and keeps it;
 * - marked first: the push is told `deleting`, waits for the file to go and puts its bytes back;
 * - the collector may have unlinked the file and forgotten it just before the push recorded it, so
 *   the bytes are checked once more after recording (no collector can mark them any longer) and put
 *   back if missing. Only then does the client hear that the blob exists.
 */
export async function storeBytes<T>(steps: StoreSteps<T>): Promise<T> {
  for (let waited = 0; ; waited += retryMs) {
    await steps.place();
    const outcome = await steps.record();
    if (outcome !== 'deleting') {
      if (!(await steps.present())) await steps.place();
      return outcome;
    }
    if (waited > waitLimitMs) {
      throw new RegistryError('UNKNOWN', 'the blob is being removed by garbage collection; try again', {
        status: 503,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}
