/**
 * How long what a client was told stays (invariant 2 of the collector, see `collector.ts`).
 *
 * Every answer that tells a client a blob exists (201 on upload or mount, 200 on HEAD or GET)
 * records a promise time on the image's link to the blob. Writing it on every request would put a
 * write on the push hot path, so a promise younger than `refreshMs` is not rewritten: a stored time
 * may be up to `refreshMs` older than the last answer, and the collector adds that much to the delay.
 */
export class BlobPromises {
  /** A stored promise younger than this already covers a new answer. */
  readonly refreshMs: number;

  constructor(readonly delayMs: number) {
    this.refreshMs = Math.min(Math.floor(delayMs / 10), 60_000);
  }

  /** Promises recorded after this need no rewrite for an answer given `now`. */
  refreshAfter(now: Date): Date {
    return new Date(now.getTime() - this.refreshMs);
  }

  /** What was last promised before this may be collected `now`: at least `delayMs` have passed since. */
  expiredBefore(now: Date): Date {
    return new Date(now.getTime() - this.delayMs - this.refreshMs);
  }
}
