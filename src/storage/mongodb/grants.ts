import type { Collection, Db, Filter, WithId } from 'mongodb';
import type { ToolAccessDetail } from '../../rights/rights.ts';
import type { AuthorityTarget, EndedAuthority, GrantFilter, GrantRecord, GrantStore, Publication } from '../ports/grants.ts';
import { endAuthority } from './authority.ts';
import { json, parse, rethrowAsConflict, type IndexPlan } from './database.ts';

export interface GrantDoc {
  org_id: string; id: string; user_id?: string; agent_id: string;
  /** JSON text: constraints are keyed by tool input field names, which may hold dots or `$`. */
  authorization_details: string;
  created_at: string; expires_at?: string; revoked_at?: string;
}

export const grantIndexes: IndexPlan[] = [
  {
    collection: 'grants',
    indexes: [
      { key: { org_id: 1, id: 1 }, name: 'grants_org_id', unique: true },
      { key: { org_id: 1, user_id: 1 }, name: 'grants_org_user' },
      { key: { org_id: 1, agent_id: 1 }, name: 'grants_org_agent' },
    ],
  },
];

export const toGrant = (d: WithId<GrantDoc>): GrantRecord => ({
  id: d.id, org_id: d.org_id, user_id: d.user_id ?? undefined, agent_id: d.agent_id,
  authorization_details: parse<ToolAccessDetail[]>(d.authorization_details), created_at: d.created_at,
  expires_at: d.expires_at ?? undefined, revoked_at: d.revoked_at ?? undefined,
});

export class MongoGrantStore implements GrantStore {
  readonly #db: Db;
  readonly #grants: Collection<GrantDoc>;
  constructor(db: Db) { this.#db = db; this.#grants = db.collection<GrantDoc>('grants'); }

  endAuthority(org_id: string, target: AuthorityTarget, at: string, publish: (ended: EndedAuthority) => Publication) {
    return endAuthority(this.#db, org_id, target, at, publish);
  }

  async createGrant(org_id: string, g: GrantRecord) {
    try {
      await this.#grants.insertOne({
        org_id, id: g.id, user_id: g.user_id, agent_id: g.agent_id,
        authorization_details: json(g.authorization_details), created_at: g.created_at,
        expires_at: g.expires_at, revoked_at: g.revoked_at,
      });
    } catch (err) {
      rethrowAsConflict(err, 'a grant with this id already exists in the org');
    }
  }

  async getGrant(org_id: string, grant_id: string) {
    const d = await this.#grants.findOne({ org_id, id: grant_id });
    return d ? toGrant(d) : undefined;
  }

  async listGrants(org_id: string, filter: GrantFilter = {}) {
    const query: Filter<GrantDoc> = { org_id };
    if (filter.user_id !== undefined) query.user_id = filter.user_id;
    if (filter.agent_id !== undefined) query.agent_id = filter.agent_id;
    if (!filter.include_revoked) query.revoked_at = { $exists: false };
    return (await this.#grants.find(query).sort({ id: -1 }).toArray()).map(toGrant);
  }

  async revokeGrants(org_id: string, select: { id?: string; user_id?: string; agent_id?: string }, at: string) {
    const query: Filter<GrantDoc> = { org_id, revoked_at: { $exists: false } };
    if (select.id !== undefined) query.id = select.id;
    if (select.user_id !== undefined) query.user_id = select.user_id;
    if (select.agent_id !== undefined) query.agent_id = select.agent_id;
    if (select.id === undefined && select.user_id === undefined && select.agent_id === undefined) {
      throw new TypeError('revokeGrants needs a selector');
    }
    // One conditional update per grant: when two revocations race, each grant is reported as
    // newly revoked by exactly one of them, and the revocation time is the first one's.
    const candidates = await this.#grants.find(query, { projection: { id: 1 } }).sort({ id: 1 }).toArray();
    const revoked: GrantRecord[] = [];
    for (const { id } of candidates) {
      const d = await this.#grants.findOneAndUpdate(
        { org_id, id, revoked_at: { $exists: false } },
        { $set: { revoked_at: at } },
        { returnDocument: 'after' },
      );
      if (d) revoked.push(toGrant(d));
    }
    return revoked;
  }
}
