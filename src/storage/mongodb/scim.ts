import type { Collection, Db } from 'mongodb';
import type { ScimStore, ScimTokenRecord } from '../ports/scim.ts';
import type { IndexPlan } from './database.ts';

interface TokenDoc { org_id: string; digest: string; created_at: string }

export const scimIndexes: IndexPlan[] = [
  { collection: 'scim_tokens', indexes: [{ key: { org_id: 1 }, name: 'scim_tokens_org', unique: true }] },
];

export class MongoScimStore implements ScimStore {
  readonly #tokens: Collection<TokenDoc>;
  constructor(db: Db) { this.#tokens = db.collection<TokenDoc>('scim_tokens'); }

  async putToken(t: ScimTokenRecord) {
    await this.#tokens.updateOne({ org_id: t.org_id }, { $set: { digest: t.digest, created_at: t.created_at } }, { upsert: true });
  }
  async getToken(org_id: string) {
    const d = await this.#tokens.findOne({ org_id });
    return d ? { org_id: d.org_id, digest: d.digest, created_at: d.created_at } : undefined;
  }
  async deleteToken(org_id: string) {
    return (await this.#tokens.deleteOne({ org_id })).deletedCount === 1;
  }
}
