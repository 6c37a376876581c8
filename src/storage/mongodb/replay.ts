import type { Db } from 'mongodb';
import type { ReplayStore } from '../ports/replay.ts';
import { isDuplicateKey, type IndexPlan } from './database.ts';

// `_id` is the claim: a unique insert. The TTL index removes expired claims in the background
// (within about a minute); until it does, an expired claim is taken over by a conditional update.
export const replayIndexes: IndexPlan[] = [
  { collection: 'replay_claims', indexes: [{ key: { expires_at: 1 }, name: 'replay_claims_ttl', expireAfterSeconds: 0 }] },
];

interface ClaimDocument {
  _id: string;
  expires_at: Date;
}

export class MongoReplayStore implements ReplayStore {
  readonly #claims;
  readonly #now: () => number;

  constructor(db: Db, now: () => number = Date.now) {
    this.#claims = db.collection<ClaimDocument>('replay_claims');
    this.#now = now;
  }

  async claimOnce(key: string, expiresAt: Date): Promise<boolean> {
    try {
      await this.#claims.insertOne({ _id: key, expires_at: expiresAt });
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const taken = await this.#claims.updateOne({ _id: key, expires_at: { $lte: new Date(this.#now()) } }, { $set: { expires_at: expiresAt } });
    return taken.matchedCount === 1;
  }
}
