import { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock.ts';
import type { GrantRecord } from '../storage/ports/grants.ts';
import type { CapabilityRecord } from '../storage/ports/capabilities.ts';
import type { RevocationEntry, RevocationFeedStore } from '../storage/ports/revocation-feed.ts';

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
 * The public feed that remote verifiers follow, and the entries a revocation publishes on it.
 * Long polls wake at once for revocations in this process and poll the store for those
 * made by other processes.
 */
export class RevocationFeed {
  readonly #store: RevocationFeedStore;
  readonly #clock: Clock;
  readonly #events = new EventEmitter();
  #purge: NodeJS.Timeout;

  constructor(store: RevocationFeedStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
    this.#events.setMaxListeners(0);
    this.#purge = setInterval(() => void this.#store.purgeRevocations(this.#nowSeconds()).catch(() => {}), 60_000);
    this.#purge.unref();
  }

  #nowSeconds() { return Math.floor(this.#clock.now() / 1000); }

  /**
   * The feed entries for authority that ended: each grant's id, and each capability's jti and
   * Biscuit revocation ids. Written by the store in the same step as the revocation itself.
   */
  entriesFor(ended: { grants: GrantRecord[]; capabilities: CapabilityRecord[] }, at: string): RevocationEntry[] {
    const now = this.#nowSeconds();
    return [
      ...ended.grants.map((g) => ({ id: g.id, type: 'auth_event_id' as const, at, expires: now + ENTRY_LIFETIME_SECONDS })),
      ...ended.capabilities.flatMap((c) => {
        const expires = Math.max(c.exp + 60, now);
        return [
          { id: c.jti, type: 'jti' as const, at, expires },
          ...c.revocation_ids.map((id) => ({ id, type: 'biscuit_revocation_id' as const, at, expires })),
        ];
      }),
    ];
  }

  /** Wakes this process's long polls: something was just committed to the feed. */
  announce(): void {
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
