/** A small least-recently-used cache bounded by the total weight of its values (by default, their length). */
export class LruCache<V> {
  private readonly entries = new Map<string, V>();
  private total = 0;

  constructor(
    private readonly maxTotal: number,
    private readonly weigh: (value: V) => number = (value) => (value as { length: number }).length,
  ) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    const weight = this.weigh(value);
    if (weight > this.maxTotal) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.total -= this.weigh(old);
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.total += weight;
    for (const [oldest, evicted] of this.entries) {
      if (this.total <= this.maxTotal) break;
      this.entries.delete(oldest);
      this.total -= this.weigh(evicted);
    }
  }
}
