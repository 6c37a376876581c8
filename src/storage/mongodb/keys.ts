import type { Collection, Db, WithId } from 'mongodb';
import type { KeyStore, SigningKeyRecord } from '../ports/keys.ts';
import { rethrowAsConflict, type IndexPlan } from './database.ts';

interface KeyDoc {
  kid: string; use: SigningKeyRecord['use']; sealed_private: string; public_jwk: Record<string, unknown>;
  created_at: string; superseded_at?: string; retire_after?: string;
}

export const keyIndexes: IndexPlan[] = [
  { collection: 'signing_keys', indexes: [{ key: { kid: 1 }, name: 'signing_keys_kid', unique: true }] },
];

const toKey = (d: WithId<KeyDoc>): SigningKeyRecord => ({
  kid: d.kid, use: d.use, sealed_private: d.sealed_private, public_jwk: d.public_jwk, created_at: d.created_at,
  superseded_at: d.superseded_at ?? undefined, retire_after: d.retire_after ?? undefined,
});

/** Deployment-wide, not per tenant: a handful of documents, never sharded. */
export class MongoKeyStore implements KeyStore {
  readonly #keys: Collection<KeyDoc>;
  constructor(db: Db) { this.#keys = db.collection<KeyDoc>('signing_keys'); }

  async putKey(k: SigningKeyRecord) {
    try {
      await this.#keys.insertOne({
        kid: k.kid, use: k.use, sealed_private: k.sealed_private, public_jwk: k.public_jwk,
        created_at: k.created_at, superseded_at: k.superseded_at, retire_after: k.retire_after,
      });
    } catch (err) {
      rethrowAsConflict(err, 'a signing key with this kid already exists');
    }
  }

  async listKeys() {
    return (await this.#keys.find({}).sort({ created_at: 1, kid: 1 }).toArray()).map(toKey);
  }

  async updateKey(kid: string, patch: Partial<Pick<SigningKeyRecord, 'superseded_at' | 'retire_after' | 'sealed_private'>>) {
    const $set: Partial<Pick<KeyDoc, 'superseded_at' | 'retire_after' | 'sealed_private'>> = {};
    if (patch.sealed_private !== undefined) $set.sealed_private = patch.sealed_private;
    if (patch.superseded_at !== undefined) $set.superseded_at = patch.superseded_at;
    if (patch.retire_after !== undefined) $set.retire_after = patch.retire_after;
    if (Object.keys($set).length === 0) return;
    await this.#keys.updateOne({ kid }, { $set });
  }
}
