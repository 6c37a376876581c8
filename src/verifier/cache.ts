import { BoundedMap } from '../capability/bounded-map.ts';

// The verifier's cache of verified tokens, keyed by the token string. Holders choose the keys (a
// Biscuit holder can mint endless distinct variants offline), so it is bounded in bytes as well
// as in entries, and an evicted Biscuit's wasm memory is freed for reuse.

/** An opened Biscuit holds about 30 bytes of wasm memory per character of token (measured, biscuit-wasm 0.6.0). */
const OPENED_BISCUIT_BYTES_PER_CHAR = 32;
/** Decisions, the frozen description and the map's own overhead. */
const ENTRY_OVERHEAD_BYTES = 2048;

export const DEFAULT_CACHE_ENTRIES = 10_000;
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

export interface TokenCacheOptions {
  maxEntries?: number;
  maxBytes?: number;
}

/** What an entry holds that the cache must account for and let go of. */
export interface CachedToken {
  opened?: { biscuit: { free(): void } };
}

export function tokenCache<V extends CachedToken>(options: TokenCacheOptions = {}): BoundedMap<string, V> {
  return new BoundedMap<string, V>({
    maxEntries: options.maxEntries ?? DEFAULT_CACHE_ENTRIES,
    maxBytes: options.maxBytes ?? DEFAULT_CACHE_BYTES,
    weigh: (token, entry) => ENTRY_OVERHEAD_BYTES + 2 * token.length + (entry.opened ? OPENED_BISCUIT_BYTES_PER_CHAR * token.length : 0),
    onEvict: (entry) => entry.opened?.biscuit.free(),
  });
}
