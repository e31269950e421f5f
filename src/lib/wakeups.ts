/**
 * How queue workers wait for work: they sleep until the next poll, or until someone says work was
 * queued (`wake`), or until a retry falls due (`wakeAfter`). Wake-ups are counted, so a worker
 * that was busy claiming when one came does not sleep through it.
 */
export class Wakeups {
  private readonly sleepers = new Set<() => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private count = 0;
  private stopped = false;

  constructor(private readonly pollInterval: number) {}

  /** A mark to hand to `idle` later: work queued since then ends the sleep at once. */
  seen(): number {
    return this.count;
  }

  wake(): void {
    this.count++;
    for (const sleeper of [...this.sleepers]) sleeper();
  }

  /** Wakes the workers once `delay` has passed (a retry falling due). */
  wakeAfter(delay: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.wake();
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  /** Sleeps until the next poll or wake-up; returns at once if one came since `seen`. */
  idle(seen: number): Promise<void> {
    if (this.stopped || this.count !== seen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.pollInterval);
      timer.unref();
      this.sleepers.add(done);
    });
  }

  /** Ends every sleep and cancels pending wake-ups. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.wake();
  }
}
