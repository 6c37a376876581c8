import type { RevocationFeedStore } from '../storage/ports/revocation-feed.ts';
import type { RevocationSource, RevocationType } from '../verifier/index.ts';

// The executor's revocation source: the revocation feed as the store holds it, read in this
// process. Each check first reads what was appended since the last read, so a revocation
// committed before a call began (by any process on the store) is refused by that call.

const PAGE = 1000;

export class StoreRevocations implements RevocationSource {
  readonly #store: RevocationFeedStore;
  readonly #revoked = new Set<string>();
  #cursor = 0;
  /** Checks begun so far, and how many of them the last completed read covers. */
  #begun = 0;
  #covered = 0;
  #reading: Promise<void> | undefined;

  constructor(store: RevocationFeedStore) {
    this.#store = store;
  }

  async isRevoked(type: RevocationType, id: string): Promise<boolean> {
    const check = ++this.#begun;
    // A read that began after this check did covers it; the checks of one verification,
    // begun together, share one read.
    while (this.#covered < check) {
      this.#reading ??= Promise.resolve().then(() => this.#read()).finally(() => { this.#reading = undefined; });
      await this.#reading;
    }
    return this.#revoked.has(`${type}:${id}`);
  }

  async #read(): Promise<void> {
    const covers = this.#begun;
    for (;;) {
      const { entries, cursor } = await this.#store.listRevocations(this.#cursor, PAGE);
      for (const entry of entries) this.#revoked.add(`${entry.type}:${entry.id}`);
      this.#cursor = cursor;
      if (entries.length < PAGE) break;
    }
    this.#covered = Math.max(this.#covered, covers);
  }
}
