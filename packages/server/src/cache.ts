/**
 * A bounded map whose entries expire: the in-process cache for tenants and credentials.
 * Without Redis, other nodes' changes reach this node when an entry expires (seconds).
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expires: number; touched: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(key: K): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    const now = Date.now();
    if (hit.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    // Re-insert to keep Map order = least recently used first; at most once a second per
    // entry, which keeps that order to the second and spares a hot entry the work per read.
    if (now - hit.touched >= 1000) {
      hit.touched = now;
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit.value;
  }

  set(key: K, value: V): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key);
    const now = Date.now();
    this.entries.set(key, { value, expires: now + this.ttlMs, touched: now });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  deleteWhere(test: (value: V, key: K) => boolean): void {
    for (const [key, { value }] of this.entries) if (test(value, key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
