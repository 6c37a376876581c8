/** Limits of a BoundedMap: how many entries, and how many bytes as its `weigh` counts them. */
export interface BoundedMapOptions<K, V> {
  maxEntries: number;
  /** Budget for the sum of `weigh(key, value)`; unbounded when absent. */
  maxBytes?: number;
  /** An estimate of the memory an entry holds, in bytes (wasm memory included). */
  weigh?: (key: K, value: V) => number;
  /** Called once for every entry that leaves: evicted, replaced, deleted or cleared. */
  onEvict?: (value: V) => void;
}

/**
 * A map that forgets its oldest entries first, bounded by entry count and by bytes: a cache keyed
 * by attacker-chosen tokens must not grow with their number or their size.
 */
export class BoundedMap<K, V> {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #weigh: (key: K, value: V) => number;
  readonly #onEvict: ((value: V) => void) | undefined;
  readonly #map = new Map<K, { value: V; bytes: number }>();
  #bytes = 0;

  constructor(options: BoundedMapOptions<K, V>) {
    this.#maxEntries = options.maxEntries;
    this.#maxBytes = options.maxBytes ?? Infinity;
    this.#weigh = options.weigh ?? (() => 0);
    this.#onEvict = options.onEvict;
  }

  get(key: K): V | undefined {
    return this.#map.get(key)?.value;
  }

  /** Remember `value`; an entry heavier than the whole budget is not kept (and is evicted at once). */
  set(key: K, value: V): void {
    const previous = this.#map.get(key);
    if (previous !== undefined) {
      this.#forget(key, previous);
      if (previous.value !== value) this.#onEvict?.(previous.value);
    }
    const bytes = this.#weigh(key, value);
    this.#map.set(key, { value, bytes });
    this.#bytes += bytes;
    while (this.#map.size > this.#maxEntries || this.#bytes > this.#maxBytes) {
      const oldest = this.#map.keys().next().value as K;
      const evicted = this.#map.get(oldest)!;
      this.#forget(oldest, evicted);
      this.#onEvict?.(evicted.value);
    }
  }

  delete(key: K): void {
    const entry = this.#map.get(key);
    if (entry === undefined) return;
    this.#forget(key, entry);
    this.#onEvict?.(entry.value);
  }

  clear(): void {
    const values = [...this.#map.values()];
    this.#map.clear();
    this.#bytes = 0;
    for (const { value } of values) this.#onEvict?.(value);
  }

  get size(): number {
    return this.#map.size;
  }

  /** The sum of the entries' weights. */
  get bytes(): number {
    return this.#bytes;
  }

  #forget(key: K, entry: { bytes: number }): void {
    this.#map.delete(key);
    this.#bytes -= entry.bytes;
  }
}
