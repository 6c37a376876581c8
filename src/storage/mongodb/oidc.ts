import type { Collection, Db, Filter } from 'mongodb';
import { bearerDigest, BEARER_MODELS, isBearerDigest, type OidcPayload, type OidcStore } from '../ports/oidc.ts';
import { isDuplicateKey, json, parse, retryOnDuplicate, setAndUnset, type IndexPlan } from './database.ts';

// oidc-provider's models in one collection keyed by (model, id). The payload is JSON text: its
// maps are keyed by client ids and resource URLs, which hold dots. `consumed` lives beside it so
// that consuming a code is one atomic `$set`, and it overrides the payload's own on read.

interface ModelDoc {
  model: string;
  id: string;
  payload: string;
  uid?: string;
  userCode?: string;
  grantId?: string;
  accountId?: string;
  /** A BSON date, because TTL indexes only expire dates. */
  expiresAt?: Date;
  consumed?: number;
}

export const oidcIndexes: IndexPlan[] = [
  {
    collection: 'oidc_models',
    indexes: [
      { key: { model: 1, id: 1 }, name: 'oidc_model_id', unique: true },
      { key: { model: 1, uid: 1 }, name: 'oidc_model_uid' },
      { key: { model: 1, userCode: 1 }, name: 'oidc_model_user_code' },
      // revokeByGrantId crosses models: every token, code and session of one grant.
      { key: { grantId: 1 }, name: 'oidc_grant_id' },
      { key: { accountId: 1 }, name: 'oidc_account_id', sparse: true },
      // Garbage collection only. The TTL monitor runs about once a minute on the server's clock,
      // so reads filter on expiresAt themselves and an expired row is never returned.
      { key: { expiresAt: 1 }, name: 'oidc_expires_at_ttl', expireAfterSeconds: 0 },
    ],
  },
];

export class MongoOidcStore implements OidcStore {
  readonly #models: Collection<ModelDoc>;
  readonly #now: () => number;

  #upgraded: Promise<void> | undefined;

  constructor(db: Db, now: () => number = Date.now) {
    this.#models = db.collection<ModelDoc>('oidc_models');
    this.#now = now;
  }

  /**
   * Documents written before bearer ids were stored as digests (ports/oidc.ts) are rekeyed, once
   * per process before its first oidc read or write, so refresh tokens issued before the upgrade
   * keep working. Concurrent processes may race on a document: the loser finds the digest taken
   * and removes the plain one.
   */
  #ready(): Promise<void> {
    this.#upgraded ??= (async () => {
      const plain = this.#models.find({ model: { $in: [...BEARER_MODELS] }, id: { $not: /^sha256:/ } }, { projection: { _id: 1, id: 1, payload: 1 } });
      for await (const d of plain) {
        if (isBearerDigest(d.id)) continue;
        const key = bearerDigest(d.id);
        const payload = json({ ...parse<OidcPayload>(d.payload), jti: key });
        try {
          await this.#models.updateOne({ _id: d._id }, { $set: { id: key, payload } });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
          await this.#models.deleteOne({ _id: d._id });
        }
      }
    })().catch((err: unknown) => { this.#upgraded = undefined; throw err; });
    return this.#upgraded;
  }

  async #findLive(filter: Filter<ModelDoc>): Promise<OidcPayload | undefined> {
    await this.#ready();
    const d = await this.#models.findOne({
      ...filter,
      $or: [{ expiresAt: { $exists: false } }, { expiresAt: { $gt: new Date(this.#now()) } }],
    });
    if (!d) return undefined;
    const payload = parse<OidcPayload>(d.payload);
    return d.consumed === undefined || d.consumed === null ? payload : { ...payload, consumed: d.consumed };
  }

  async upsert(model: string, id: string, payload: OidcPayload, expiresAt: number | undefined) {
    await this.#ready();
    // The whole record is replaced, as in oidc-provider's contract: an old `consumed` goes too.
    const update = setAndUnset({
      payload: json(payload),
      uid: payload.uid,
      userCode: payload.userCode,
      grantId: payload.grantId,
      // Sessions are found by their account when a user is disabled or deleted.
      accountId: model === 'Session' && typeof payload.accountId === 'string' ? payload.accountId : undefined,
      expiresAt: expiresAt === undefined ? undefined : new Date(expiresAt),
      consumed: undefined,
    });
    await retryOnDuplicate(() => this.#models.updateOne({ model, id }, update, { upsert: true }));
  }

  find(model: string, id: string) {
    return this.#findLive({ model, id });
  }

  findByUid(model: string, uid: string) {
    return this.#findLive({ model, uid });
  }

  findByUserCode(model: string, userCode: string) {
    return this.#findLive({ model, userCode });
  }

  async consume(model: string, id: string, at: number) {
    await this.#ready();
    await this.#models.updateOne({ model, id }, { $set: { consumed: at } });
  }

  async destroy(model: string, id: string) {
    await this.#ready();
    await this.#models.deleteOne({ model, id });
  }

  async revokeByGrantId(grantId: string) {
    await this.#ready();
    await this.#models.deleteMany({ grantId });
  }

  async destroySessionsOf(accountId: string) {
    await this.#ready();
    return (await this.#models.deleteMany({ model: 'Session', accountId })).deletedCount;
  }
}
