import { z } from 'zod';
import type { RevocationSource, RevocationType } from '../capability/sources.ts';
import { getJson } from './keyring.ts';

// Follows the issuer's revocation feed, `GET /v1/revocations?since=CURSOR&wait=N`, with long polls:
// the server answers as soon as something is revoked, so a verifier learns of it within a second.
// The verifier library's default RevocationSource.

const feedSchema = z.object({
  revoked: z.array(
    z.object({ id: z.string().min(1), type: z.enum(['jti', 'biscuit_revocation_id', 'auth_event_id']), at: z.union([z.string(), z.number()]).optional() }),
  ),
  cursor: z.union([z.string(), z.number()]).transform(String),
});

export interface FeedOptions {
  url: string;
  fetch: typeof fetch;
  /** Seconds the server may hold a poll open. */
  wait: number;
  onError?: (error: unknown) => void;
}

export class RevocationFeed implements RevocationSource {
  readonly #options: FeedOptions;
  readonly #revoked: Record<RevocationType, Set<string>> = {
    jti: new Set(),
    biscuit_revocation_id: new Set(),
    auth_event_id: new Set(),
  };
  readonly #abort = new AbortController();
  #cursor: string | undefined;
  #synced = false;
  readonly #ready: Promise<void>;
  #markReady: () => void = () => {};
  #closed = false;

  constructor(options: FeedOptions) {
    this.#options = options;
    this.#ready = new Promise((resolve) => { this.#markReady = resolve; });
    void this.#follow();
  }

  /** Has the feed been read at least once? Until then a verifier cannot know what is revoked. */
  get synced(): boolean {
    return this.#synced;
  }

  /** Resolves true once synced, false if that takes longer than `timeoutMs`. */
  whenSynced(timeoutMs: number): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      void this.#ready.then(() => { clearTimeout(timer); resolve(true); });
    });
  }

  isRevoked(type: RevocationType, id: string): boolean {
    return this.#revoked[type].has(id);
  }

  close(): void {
    this.#closed = true;
    this.#abort.abort();
  }

  async #poll(wait: number): Promise<void> {
    const url = new URL(this.#options.url);
    if (this.#cursor !== undefined) url.searchParams.set('since', this.#cursor);
    if (wait > 0) url.searchParams.set('wait', String(wait));
    const page = feedSchema.parse(await getJson(this.#options.fetch, url.href, this.#abort.signal));
    for (const entry of page.revoked) this.#revoked[entry.type].add(entry.id);
    this.#cursor = page.cursor;
  }

  async #follow(): Promise<void> {
    let backoff = 250;
    while (!this.#closed) {
      try {
        // The first read has no wait, so start-up learns at once everything revoked so far.
        await this.#poll(this.#synced ? this.#options.wait : 0);
        if (!this.#synced) {
          this.#synced = true;
          this.#markReady();
        }
        backoff = 250;
      } catch (error) {
        if (this.#closed) return;
        this.#options.onError?.(error);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoff);
          this.#abort.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
        });
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }
}
