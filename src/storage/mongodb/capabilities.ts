import type { Collection, Db, WithId } from 'mongodb';
import type { CapabilityRecord, CapabilityStore } from '../ports/capabilities.ts';
import { rethrowAsConflict, type IndexPlan } from './database.ts';

// Issued capabilities, per org. The revocation feed is revocation-feed.ts.

export interface CapabilityDoc {
  org_id: string; jti: string; auth_event_id: string; parent_jti?: string; client_id: string;
  format: CapabilityRecord['format']; revocation_ids: string[]; single_use: boolean; exp: number;
  created_at: string; spent_at?: string; revoked_at?: string;
}

export const capabilityIndexes: IndexPlan[] = [
  {
    collection: 'capabilities',
    indexes: [
      { key: { org_id: 1, jti: 1 }, name: 'capabilities_org_jti', unique: true },
      // Revoking a grant revokes every capability derived from it.
      { key: { org_id: 1, auth_event_id: 1 }, name: 'capabilities_org_grant' },
      // Deleting an agent revokes what it holds and everything delegated through it.
      { key: { org_id: 1, client_id: 1 }, name: 'capabilities_org_holder' },
      { key: { org_id: 1, parent_jti: 1 }, name: 'capabilities_org_parent' },
    ],
  },
];

export const toCapabilityRecord = (d: WithId<CapabilityDoc>): CapabilityRecord => ({
  jti: d.jti, org_id: d.org_id, auth_event_id: d.auth_event_id, parent_jti: d.parent_jti ?? undefined,
  client_id: d.client_id, format: d.format, revocation_ids: [...d.revocation_ids], single_use: d.single_use,
  exp: d.exp, created_at: d.created_at, spent_at: d.spent_at ?? undefined, revoked_at: d.revoked_at ?? undefined,
});

export class MongoCapabilityStore implements CapabilityStore {
  readonly #capabilities: Collection<CapabilityDoc>;

  constructor(db: Db) {
    this.#capabilities = db.collection<CapabilityDoc>('capabilities');
  }

  async recordCapability(org_id: string, c: CapabilityRecord) {
    try {
      await this.#capabilities.insertOne({
        org_id, jti: c.jti, auth_event_id: c.auth_event_id, parent_jti: c.parent_jti, client_id: c.client_id,
        format: c.format, revocation_ids: [...c.revocation_ids], single_use: c.single_use, exp: c.exp,
        created_at: c.created_at, spent_at: c.spent_at, revoked_at: c.revoked_at,
      });
    } catch (err) {
      rethrowAsConflict(err, 'a capability with this jti already exists in the org');
    }
  }

  async getCapability(org_id: string, jti: string) {
    const d = await this.#capabilities.findOne({ org_id, jti });
    return d ? toCapabilityRecord(d) : undefined;
  }

  async spendCapability(org_id: string, jti: string, at: string) {
    // One conditional update: the document changes for exactly one caller.
    const r = await this.#capabilities.updateOne(
      { org_id, jti, spent_at: { $exists: false }, revoked_at: { $exists: false } },
      { $set: { spent_at: at } },
    );
    return r.modifiedCount === 1;
  }

  async releaseCapability(org_id: string, jti: string, spent_at: string) {
    const r = await this.#capabilities.updateOne({ org_id, jti, spent_at, revoked_at: { $exists: false } }, { $unset: { spent_at: '' } });
    return r.modifiedCount === 1;
  }

  async revokeCapabilitiesOfGrants(org_id: string, grant_ids: string[], at: string) {
    if (grant_ids.length === 0) return [];
    const candidates = await this.#capabilities
      .find({ org_id, auth_event_id: { $in: grant_ids }, revoked_at: { $exists: false } }, { projection: { jti: 1 } })
      .sort({ jti: 1 }).toArray();
    const revoked: CapabilityRecord[] = [];
    for (const { jti } of candidates) {
      const d = await this.#capabilities.findOneAndUpdate(
        { org_id, jti, revoked_at: { $exists: false } }, { $set: { revoked_at: at } }, { returnDocument: 'after' },
      );
      if (d) revoked.push(toCapabilityRecord(d));
    }
    return revoked;
  }
}
