import { setTimeout as sleep } from 'node:timers/promises';
import type { Collection, Db, WithId } from 'mongodb';
import { WritError } from '../../errors/index.ts';
import type { CapabilityRecord, CapabilityStore, RevocationEntry } from '../ports/capabilities.ts';
import { isDuplicateKey, KeyedQueue, rethrowAsConflict, type IndexPlan } from './database.ts';

// Issued capabilities (per org) and the public revocation feed (deployment-wide).
//
// Feed positions must be handed out in the order entries become visible, or a follower could
// read position 11, move its cursor past 10, and never see 10. So an entry is inserted at
// head + 1 only after the head was read: the unique index on `position` turns a race into a
// retry, and position order is commit order. A floor document remembers the highest position
// ever used, so purging the newest entries never lets a position be handed out twice.

export interface CapabilityDoc {
  org_id: string; jti: string; auth_event_id: string; parent_jti?: string; client_id: string;
  format: CapabilityRecord['format']; revocation_ids: string[]; single_use: boolean; exp: number;
  created_at: string; spent_at?: string; revoked_at?: string;
}

export interface RevocationDoc extends RevocationEntry { position: number }

export interface FeedFloorDoc { _id: string; position: number }

const FEED_POSITION_INDEX = 'revocations_position';
export const FEED_FLOOR_ID = 'revocations';
const MAX_APPEND_ATTEMPTS = 64;

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
  {
    collection: 'revocations',
    indexes: [
      { key: { position: 1 }, name: FEED_POSITION_INDEX, unique: true },
      { key: { expires: 1 }, name: 'revocations_expires' },
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
  readonly #revocations: Collection<RevocationDoc>;
  readonly #floor: Collection<FeedFloorDoc>;
  readonly #queue = new KeyedQueue();

  constructor(db: Db) {
    this.#capabilities = db.collection<CapabilityDoc>('capabilities');
    this.#revocations = db.collection<RevocationDoc>('revocations');
    this.#floor = db.collection<FeedFloorDoc>('feed_floor');
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

  async appendRevocations(entries: RevocationEntry[]) {
    await this.#queue.run(FEED_FLOOR_ID, async () => {
      for (const e of entries) await this.#appendOne(e);
    });
  }

  /**
   * The highest position used. The newest entry is read before the floor, in that order: a purge
   * raises the floor before it deletes, so whichever side of the purge the first read lands on,
   * the head is seen.
   */
  async #head(): Promise<number> {
    const last = await this.#revocations.findOne(
      {}, { sort: { position: -1 }, projection: { _id: 0, position: 1 }, readConcern: { level: 'local' } });
    const floor = await this.#floor.findOne({ _id: FEED_FLOOR_ID }, { readConcern: { level: 'local' } });
    return Math.max(last?.position ?? 0, floor?.position ?? 0);
  }

  async #appendOne(e: RevocationEntry): Promise<void> {
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      const position = (await this.#head()) + 1;
      try {
        await this.#revocations.insertOne({ position, id: e.id, type: e.type, at: e.at, expires: e.expires });
        return;
      } catch (err) {
        if (!isDuplicateKey(err, FEED_POSITION_INDEX)) throw err;
        await sleep(Math.random() * Math.min(50, 2 ** attempt));
      }
    }
    throw new WritError('temporarily_unavailable', 'the revocation feed is busy, try again', { debug: { attempts: MAX_APPEND_ATTEMPTS } });
  }

  async listRevocations(cursor: number, limit: number) {
    // The cursor is the last entry handed out, never the head: the head is read apart from the
    // page (and with read concern local), so an entry at or below it may not be visible to this
    // majority read yet, and a cursor moved to the head would pass it for good.
    const docs = limit <= 0 ? [] : await this.#revocations.find({ position: { $gt: cursor } }).sort({ position: 1 }).limit(limit).toArray();
    const last = docs.at(-1);
    if (!last) return { entries: [], cursor };
    return {
      entries: docs.map((d): RevocationEntry => ({ id: d.id, type: d.type, at: d.at, expires: d.expires })),
      cursor: last.position,
    };
  }

  async purgeRevocations(nowSeconds: number) {
    // Raise the floor to the current head before deleting, so the head is remembered even when
    // the newest entries are the ones that go.
    const head = await this.#head();
    if (head > 0) {
      await this.#floor.updateOne({ _id: FEED_FLOOR_ID }, { $max: { position: head } }, { upsert: true });
    }
    return (await this.#revocations.deleteMany({ expires: { $lt: nowSeconds } })).deletedCount;
  }
}
