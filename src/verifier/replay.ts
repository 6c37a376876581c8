import { BoundedMap } from '../capability/bounded-map.ts';

// RFC 9449 §11.1: a DPoP proof is good once. Where several processes accept proofs for one
// service, they must share what they have seen; a downstream service passes its own store, and
// Writ passes one backed by its database.

/** Records that expire. */
export interface ReplayStore {
  /**
   * Claim `key` until `expiresAt`: true for the first caller, false while an unexpired claim
   * exists. Atomic across every process that shares the store.
   */
  claimOnce(key: string, expiresAt: Date): Promise<boolean>;
}

/** The default for one process: bounded in entries and bytes, oldest claims forgotten first. */
export class MemoryReplayStore implements ReplayStore {
  readonly #now: () => number;
  readonly #claims: BoundedMap<string, number>;

  constructor(options: { now?: () => number; maxEntries?: number; maxBytes?: number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#claims = new BoundedMap({
      maxEntries: options.maxEntries ?? 100_000,
      maxBytes: options.maxBytes ?? 16 * 1024 * 1024,
      weigh: (key) => 64 + 2 * key.length,
    });
  }

  async claimOnce(key: string, expiresAt: Date): Promise<boolean> {
    const until = this.#claims.get(key);
    if (until !== undefined && until > this.#now()) return false;
    this.#claims.set(key, expiresAt.getTime());
    return true;
  }
}
