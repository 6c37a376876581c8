import { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock.ts';
import type { GrantRecord } from '../storage/ports/grants.ts';
import type { CapabilityStore, RevocationEntry } from '../storage/ports/capabilities.ts';

// Capabilities live at most as long as the delegated token they came from (≤ 10 minutes); a feed
// entry outlives everything it names by a margin for clock skew.
const ENTRY_LIFETIME_SECONDS = 15 * 60;
const POLL_MS = 200;
const PAGE = 1000;

export interface FeedPage {
  revoked: Array<{ id: string; type: RevocationEntry['type']; at: string }>;
  cursor: string;
}

/**
 * Revocation cascades from grants to capabilities, and the public feed that remote verifiers
 * follow. Long polls wake at once for revocations in this process and poll the store for those
 * made by other processes.
 */
export class RevocationFeed {
  readonly #store: CapabilityStore;
  readonly #clock: Clock;
  readonly #events = new EventEmitter();
  #purge: NodeJS.Timeout;

  constructor(store: CapabilityStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
    this.#events.setMaxListeners(0);
    this.#purge = setInterval(() => void this.#store.purgeRevocations(this.#nowSeconds()).catch(() => {}), 60_000);
    this.#purge.unref();
  }

  #nowSeconds() { return Math.floor(this.#clock.now() / 1000); }

  /** Revokes every capability derived from these grants and publishes them all. */
  async grantsRevoked(org_id: string, grants: GrantRecord[], at: string): Promise<void> {
    if (grants.length === 0) return;
    const capabilities = await this.#store.revokeCapabilitiesOfGrants(org_id, grants.map((g) => g.id), at);
    const expires = this.#nowSeconds() + ENTRY_LIFETIME_SECONDS;
    const entries: RevocationEntry[] = [
      ...grants.map((g) => ({ id: g.id, type: 'auth_event_id' as const, at, expires })),
      ...capabilities.flatMap((c) => [
        { id: c.jti, type: 'jti' as const, at, expires: Math.max(c.exp + 60, this.#nowSeconds()) },
        ...c.revocation_ids.map((id) => ({ id, type: 'biscuit_revocation_id' as const, at, expires: Math.max(c.exp + 60, this.#nowSeconds()) })),
      ]),
    ];
    await this.#store.appendRevocations(entries);
    this.#events.emit('revoked');
  }

  /** Entries after `since`; with `waitSeconds`, holds the request until something arrives. */
  async page(since: number, waitSeconds = 0, signal?: AbortSignal): Promise<FeedPage> {
    const deadline = performance.now() + waitSeconds * 1000;
    for (;;) {
      const { entries, cursor } = await this.#store.listRevocations(since, PAGE);
      if (entries.length > 0 || performance.now() >= deadline || signal?.aborted) {
        return { revoked: entries.map(({ id, type, at }) => ({ id, type, at })), cursor: String(cursor) };
      }
      await new Promise<void>((resolve) => {
        const done = () => { clearTimeout(timer); this.#events.off('revoked', done); signal?.removeEventListener('abort', done); resolve(); };
        const timer = setTimeout(done, Math.min(POLL_MS, Math.max(0, deadline - performance.now())));
        this.#events.on('revoked', done);
        signal?.addEventListener('abort', done);
      });
    }
  }

  close(): void {
    clearInterval(this.#purge);
    this.#events.emit('revoked');
  }
}
