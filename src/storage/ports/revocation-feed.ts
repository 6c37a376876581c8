// The public revocation feed: what remote verifiers follow to learn that a grant or capability
// ended. Deployment-wide, one global order; each entry gets the next cursor position.
//
// Declared here, not in revocation/: the feed is read by revocation/ (the public endpoint) and by
// executor/ (its revocation source), its entries are written by grants/ through GrantStore.

export type RevocationKind = 'jti' | 'biscuit_revocation_id' | 'auth_event_id';

export interface RevocationEntry {
  id: string;
  type: RevocationKind;
  at: string;
  /** Epoch seconds after which nothing the entry names can still be valid; the entry may be dropped. */
  expires: number;
}

export interface RevocationFeedStore {
  /** Appends to the feed; each entry gets the next cursor position. */
  appendRevocations(entries: RevocationEntry[]): Promise<void>;
  /** Entries after `cursor` (0 = from the start), oldest first, and the cursor to ask from next. */
  listRevocations(cursor: number, limit: number): Promise<{ entries: RevocationEntry[]; cursor: number }>;
  /** Drops entries whose `expires` has passed. */
  purgeRevocations(nowSeconds: number): Promise<number>;
}
