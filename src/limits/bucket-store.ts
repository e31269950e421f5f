import type { Rate } from './rates.js';

/** One bucket a request draws a token from. */
export interface BucketDraw {
  readonly key: string;
  readonly rate: Rate;
}

/** A bucket's state after a draw (or an attempt at one). */
export interface BucketLevel {
  /** Whole tokens left: the `r` of the `RateLimit` header. */
  readonly remaining: number;
  /** Milliseconds until the bucket is full again: the `t` of the `RateLimit` header. */
  readonly msUntilFull: number;
  /** Milliseconds until the next token, when the bucket is empty; 0 otherwise. */
  readonly msUntilToken: number;
}

export interface DrawOutcome {
  /** True when every bucket had a token, and one was taken from each. */
  readonly allowed: boolean;
  /** One per draw, in the order given. */
  readonly levels: readonly BucketLevel[];
}

/**
 * Where token buckets live. A request draws from several buckets at once (its principal's and its
 * repository's) and either takes a token from every one or from none, so a refusal by one bucket
 * never spends another's. The embedded implementation keeps buckets in memory, per instance; a
 * store shared by instances implements the same call.
 */
export interface BucketStore {
  draw(draws: readonly BucketDraw[], now: number): Promise<DrawOutcome>;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Buckets seen but untouched for a full window are forgotten (a full bucket is the same as none). */
const sweepAbove = 100_000;

export class MemoryBucketStore implements BucketStore {
  private readonly buckets = new Map<string, Bucket & { windowMs: number }>();

  async draw(draws: readonly BucketDraw[], now: number): Promise<DrawOutcome> {
    const buckets = draws.map((draw) => this.refilled(draw, now));
    const allowed = buckets.every((bucket) => bucket.tokens >= 1);
    if (allowed) for (const bucket of buckets) bucket.tokens -= 1;
    if (this.buckets.size > sweepAbove) this.sweep(now);
    return {
      allowed,
      levels: buckets.map((bucket, index) => levelOf(bucket, (draws[index] as BucketDraw).rate)),
    };
  }

  private refilled({ key, rate }: BucketDraw, now: number): Bucket {
    const windowMs = rate.windowSeconds * 1000;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: rate.quota, updatedAt: now, windowMs };
      this.buckets.set(key, bucket);
      return bucket;
    }
    const elapsed = Math.max(0, now - bucket.updatedAt);
    // A changed rate (a new override) applies from now: the bucket keeps its tokens up to the new size.
    bucket.tokens = Math.min(rate.quota, bucket.tokens + (elapsed * rate.quota) / windowMs);
    bucket.updatedAt = now;
    bucket.windowMs = windowMs;
    return bucket;
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.updatedAt >= bucket.windowMs) this.buckets.delete(key);
    }
  }
}

function levelOf(bucket: Bucket, rate: Rate): BucketLevel {
  const msPerToken = (rate.windowSeconds * 1000) / rate.quota;
  return {
    remaining: Math.floor(bucket.tokens),
    msUntilFull: Math.max(0, (rate.quota - bucket.tokens) * msPerToken),
    msUntilToken: bucket.tokens >= 1 ? 0 : (1 - bucket.tokens) * msPerToken,
  };
}
