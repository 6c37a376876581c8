import type { Collection, Db, WithId } from 'mongodb';
import type { CheckpointKeyRecord, CheckpointRecord, CheckpointStore, SiemStore, SiemStreamChanges, SiemStreamRecord } from '../ports/evidence.ts';
import { isDuplicateKey, setAndUnset, type IndexPlan } from './database.ts';

type KeyDoc = CheckpointKeyRecord;
type CheckpointDoc = CheckpointRecord;
type StreamDoc = SiemStreamRecord;

export const evidenceIndexes: IndexPlan[] = [
  // One key per org: the unique index on org_id alone makes the first writer's key the org's key.
  { collection: 'audit_checkpoint_keys', indexes: [{ key: { org_id: 1 }, name: 'checkpoint_keys_org', unique: true }] },
  { collection: 'audit_checkpoints', indexes: [{ key: { org_id: 1, seq: 1 }, name: 'checkpoints_org_seq', unique: true }] },
  {
    collection: 'siem_streams',
    indexes: [{ key: { org_id: 1 }, name: 'siem_org', unique: true }, { key: { next_attempt_at: 1 }, name: 'siem_due' }],
  },
];

const toKey = (d: WithId<KeyDoc>): CheckpointKeyRecord => ({
  org_id: d.org_id, kid: d.kid, public_jwk: { ...d.public_jwk }, sealed_private_key: d.sealed_private_key, created_at: d.created_at,
});
const toCheckpoint = (d: WithId<CheckpointDoc>): CheckpointRecord => ({
  org_id: d.org_id, seq: d.seq, head_hash: d.head_hash, at: d.at, kid: d.kid, signature: d.signature,
});
const toStream = (d: WithId<StreamDoc>): SiemStreamRecord => ({
  org_id: d.org_id, url: d.url, cursor: d.cursor, failures: d.failures, next_attempt_at: d.next_attempt_at,
  last_error: d.last_error ?? undefined, last_delivered_at: d.last_delivered_at ?? undefined,
  lease_owner: d.lease_owner ?? undefined, lease_until: d.lease_until ?? undefined, created_at: d.created_at, updated_at: d.updated_at,
});

export class MongoCheckpointStore implements CheckpointStore {
  readonly #keys: Collection<KeyDoc>;
  readonly #checkpoints: Collection<CheckpointDoc>;
  constructor(db: Db) {
    this.#keys = db.collection<KeyDoc>('audit_checkpoint_keys');
    this.#checkpoints = db.collection<CheckpointDoc>('audit_checkpoints');
  }

  async createKeyIfAbsent(k: CheckpointKeyRecord) {
    try {
      await this.#keys.insertOne({ ...k, public_jwk: { ...k.public_jwk } });
      return k;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      return toKey((await this.#keys.findOne({ org_id: k.org_id }))!);
    }
  }
  async listKeys(org_id: string) {
    return (await this.#keys.find({ org_id }).sort({ created_at: 1, kid: 1 }).toArray()).map(toKey);
  }
  async appendCheckpoint(c: CheckpointRecord) {
    try {
      await this.#checkpoints.insertOne({ ...c });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }
  async listCheckpoints(org_id: string, options: { after_seq?: number; limit?: number } = {}) {
    return (await this.#checkpoints.find({ org_id, seq: { $gt: options.after_seq ?? 0 } }).sort({ seq: 1 }).limit(options.limit ?? 1000).toArray()).map(toCheckpoint);
  }
  async latestCheckpoint(org_id: string) {
    const d = await this.#checkpoints.find({ org_id }).sort({ seq: -1 }).limit(1).next();
    return d ? toCheckpoint(d) : undefined;
  }
}

export class MongoSiemStore implements SiemStore {
  readonly #streams: Collection<StreamDoc>;
  constructor(db: Db) { this.#streams = db.collection<StreamDoc>('siem_streams'); }

  async putStream(s: SiemStreamRecord) {
    const { org_id, ...rest } = s;
    await this.#streams.updateOne({ org_id }, setAndUnset(rest), { upsert: true });
  }
  async getStream(org_id: string) {
    const d = await this.#streams.findOne({ org_id });
    return d ? toStream(d) : undefined;
  }
  async deleteStream(org_id: string) {
    return (await this.#streams.deleteOne({ org_id })).deletedCount === 1;
  }
  async listDue(now: number, limit: number) {
    return (await this.#streams.find({ next_attempt_at: { $lte: now } }).sort({ next_attempt_at: 1 }).limit(limit).toArray()).map(toStream);
  }
  async claim(org_id: string, owner: string, until: number, now: number) {
    const r = await this.#streams.updateOne(
      { org_id, $or: [{ lease_owner: { $exists: false } }, { lease_until: { $lte: now } }, { lease_owner: owner }] },
      { $set: { lease_owner: owner, lease_until: until } },
    );
    return r.matchedCount === 1;
  }
  async update(org_id: string, owner: string, changes: SiemStreamChanges, release: boolean) {
    const set = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    const r = await this.#streams.updateOne({ org_id, lease_owner: owner }, {
      ...(Object.keys(set).length ? { $set: set } : {}),
      ...(release ? { $unset: { lease_owner: '', lease_until: '' } } : {}),
    });
    return r.matchedCount === 1;
  }
}
