/** A map that holds at most `maxBytes` of values (each says what it costs), dropping the least recently used. */
export class ByteLru<V extends { bytes: number }> {
  // Map order is insertion order: the least recently used first.
  private readonly entries = new Map<string, V>();
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): { bytes: number; entries: number } {
    return { bytes: this.total, entries: this.entries.size };
  }

  /** The value under `key`, without counting it as used. */
  peek(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Counts the value under `key` as just used. */
  touch(key: string): void {
    const v = this.entries.get(key);
    if (v === undefined) return;
    this.entries.delete(key);
    this.entries.set(key, v);
  }

  /** Puts `value` under `key`, replacing what was there; one that alone costs more than maxBytes is not kept. */
  set(key: string, value: V): void {
    this.delete(key);
    if (value.bytes > this.maxBytes) return;
    this.entries.set(key, value);
    this.total += value.bytes;
    for (const [k, e] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(k);
      this.total -= e.bytes;
    }
  }

  delete(key: string): void {
    const v = this.entries.get(key);
    if (v === undefined) return;
    this.entries.delete(key);
    this.total -= v.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }
}
