/** A small least-recently-used cache bounded by the total size of its values. */
export class LruCache<V extends { length: number }> {
  private readonly entries = new Map<string, V>();
  private total = 0;

  constructor(private readonly maxTotal: number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    if (value.length > this.maxTotal) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.total -= old.length;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.total += value.length;
    for (const [oldest, evicted] of this.entries) {
      if (this.total <= this.maxTotal) break;
      this.entries.delete(oldest);
      this.total -= evicted.length;
    }
  }
}
