/** A size-bounded map that forgets its oldest entries first. */
export class BoundedMap<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();
  readonly #onEvict: ((value: V) => void) | undefined;

  constructor(max: number, onEvict?: (value: V) => void) {
    this.#max = max;
    this.#onEvict = onEvict;
  }

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  set(key: K, value: V): void {
    const previous = this.#map.get(key);
    if (previous !== undefined) {
      this.#map.delete(key);
      if (previous !== value) this.#onEvict?.(previous);
    }
    this.#map.set(key, value);
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value as K;
      const evicted = this.#map.get(oldest);
      this.#map.delete(oldest);
      if (evicted !== undefined) this.#onEvict?.(evicted);
    }
  }

  delete(key: K): void {
    const value = this.#map.get(key);
    if (value === undefined) return;
    this.#map.delete(key);
    this.#onEvict?.(value);
  }

  clear(): void {
    for (const value of this.#map.values()) this.#onEvict?.(value);
    this.#map.clear();
  }

  get size(): number {
    return this.#map.size;
  }
}
