import type { Clock } from '../lib/clock.js';

export interface RateLimit {
  /** Failures allowed inside the window before further attempts are refused. */
  readonly failures: number;
  readonly windowMs: number;
}

/**
 * Counts failed attempts per key (an account, a client address) in a fixed window. Kept in memory:
 * each instance limits what reaches it, which bounds guessing to failures × instances per window.
 */
export class FailureRateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: RateLimit,
    private readonly clock: Clock,
  ) {}

  /** Seconds until `key` may try again, or 0 when it may try now. */
  retryAfter(key: string): number {
    const window = this.current(key);
    if (!window || window.count < this.limit.failures) return 0;
    return Math.max(1, Math.ceil((window.start + this.limit.windowMs - this.clock.now().getTime()) / 1000));
  }

  recordFailure(key: string): void {
    const window = this.current(key);
    if (window) window.count++;
    else this.windows.set(key, { start: this.clock.now().getTime(), count: 1 });
    if (this.windows.size > 100_000) this.sweep();
  }

  /**
   * Takes back one failure recorded ahead of a check that then passed. Callers record a failure
   * before a slow check (scrypt) and forgive it after: counted only afterwards, a burst of parallel
   * guesses would all pass `retryAfter` before the first of them failed.
   */
  forgive(key: string): void {
    const window = this.current(key);
    if (!window) return;
    window.count--;
    if (window.count <= 0) this.windows.delete(key);
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private current(key: string): { start: number; count: number } | undefined {
    const window = this.windows.get(key);
    if (window && window.start + this.limit.windowMs <= this.clock.now().getTime()) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  private sweep(): void {
    for (const key of [...this.windows.keys()]) this.current(key);
  }
}
