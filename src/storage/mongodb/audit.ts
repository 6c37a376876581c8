import { setTimeout as sleep } from 'node:timers/promises';
import type { Collection, Db, Filter, WithId } from 'mongodb';
import { WritError } from '../../errors/index.ts';
import { auditFacets, type AuditQuery, type AuditRecord, type AuditStore } from '../ports/audit.ts';
import { isDuplicateKey, json, KeyedQueue, parse, type IndexPlan } from './database.ts';

// The chain per org is kept by one unique index, (org_id, seq): an append reads the head, builds
// the next event from it and inserts; when another writer got there first the insert fails with
// E11000 on that index, and the append starts again from the new head. Appends from this process
// are queued per org first, so the retry loop only ever races other processes.

export interface AuditDoc {
  org_id: string; seq: number; id: string; at: string; type: string;
  /** JSON text, byte for byte what was hashed: the chain must verify after a round trip. */
  actor: string; subject: string; details: string;
  prev_hash: string; hash: string;
  // Denormalised facets so the usual questions use an index.
  user_id?: string; agent_id?: string; tool?: string; grant_id?: string; capability_id?: string;
}

/** Bounded so a pathological pile-up surfaces as an error rather than an endless loop. */
const MAX_APPEND_ATTEMPTS = 64;
const SEQ_INDEX = 'audit_org_seq';

export const auditIndexes: IndexPlan[] = [
  {
    collection: 'audit_events',
    indexes: [
      { key: { org_id: 1, seq: 1 }, name: SEQ_INDEX, unique: true },
      { key: { org_id: 1, id: 1 }, name: 'audit_org_id', unique: true },
      { key: { org_id: 1, type: 1, seq: -1 }, name: 'audit_org_type' },
      { key: { org_id: 1, user_id: 1, seq: -1 }, name: 'audit_org_user' },
      { key: { org_id: 1, agent_id: 1, seq: -1 }, name: 'audit_org_agent' },
      { key: { org_id: 1, tool: 1, seq: -1 }, name: 'audit_org_tool' },
      { key: { org_id: 1, grant_id: 1, seq: -1 }, name: 'audit_org_grant' },
      { key: { org_id: 1, capability_id: 1 }, name: 'audit_org_capability' },
      { key: { org_id: 1, at: 1 }, name: 'audit_org_at' },
    ],
  },
];


const toRecord = (d: WithId<AuditDoc>): AuditRecord => ({
  id: d.id, org_id: d.org_id, seq: d.seq, at: d.at, type: d.type,
  actor: parse(d.actor), subject: parse(d.subject), details: parse(d.details),
  prev_hash: d.prev_hash, hash: d.hash,
});

type Head = { seq: number; hash: string } | undefined;

/** The stored form of an event: JSON text for the hashed maps, facets beside them. */
export function toAuditDoc(e: AuditRecord): AuditDoc {
  const f = auditFacets(e);
  return {
    org_id: e.org_id, seq: e.seq, id: e.id, at: e.at, type: e.type,
    actor: json(e.actor), subject: json(e.subject), details: json(e.details),
    prev_hash: e.prev_hash, hash: e.hash,
    user_id: f.user_id, agent_id: f.agent_id, tool: f.tool, grant_id: f.grant_id, capability_id: f.capability_id,
  };
}

export class MongoAuditStore implements AuditStore {
  readonly #events: Collection<AuditDoc>;
  readonly #queue = new KeyedQueue();

  constructor(db: Db) { this.#events = db.collection<AuditDoc>('audit_events'); }

  appendAudit(org_id: string, build: (head: Head) => AuditRecord): Promise<AuditRecord> {
    return this.#queue.run(org_id, () => this.#append(org_id, build));
  }

  async #append(org_id: string, build: (head: Head) => AuditRecord): Promise<AuditRecord> {
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      // `local`, not `majority`: the freshest head means fewer lost races. A head that is later
      // rolled back takes this event with it, since this insert comes after it in the oplog.
      const head = await this.#events.findOne(
        { org_id },
        { sort: { seq: -1 }, projection: { _id: 0, seq: 1, hash: 1 }, readConcern: { level: 'local' } },
      );
      const e = build(head ? { seq: head.seq, hash: head.hash } : undefined);
      try {
        await this.#events.insertOne(toAuditDoc(e));
        return e;
      } catch (err) {
        if (!isDuplicateKey(err, SEQ_INDEX)) throw err;
        // Someone else took this seq: back off a little, with jitter, and rebuild from the new head.
        await sleep(Math.random() * Math.min(50, 2 ** attempt));
      }
    }
    throw new WritError('temporarily_unavailable', 'the audit log is busy, try again', {
      debug: { org_id, attempts: MAX_APPEND_ATTEMPTS },
    });
  }

  async queryAudit(org_id: string, q: AuditQuery) {
    // MongoDB reads limit 0 as "no limit"; the port means "nothing".
    if (q.limit <= 0) return [];
    const filter: Filter<AuditDoc> = { org_id };
    if (q.type !== undefined) filter.type = q.type;
    if (q.user_id !== undefined) filter.user_id = q.user_id;
    if (q.agent_id !== undefined) filter.agent_id = q.agent_id;
    if (q.tool !== undefined) filter.tool = q.tool;
    if (q.grant_id !== undefined) filter.grant_id = q.grant_id;
    if (q.capability_id !== undefined) filter.capability_id = q.capability_id;
    if (q.since !== undefined || q.until !== undefined) {
      filter.at = {
        ...(q.since !== undefined ? { $gte: q.since } : {}),
        ...(q.until !== undefined ? { $lt: q.until } : {}),
      };
    }
    if (q.before_seq !== undefined) filter.seq = { $lt: q.before_seq };
    return (await this.#events.find(filter).sort({ seq: -1 }).limit(q.limit).toArray()).map(toRecord);
  }

  async scanAudit(org_id: string, afterSeq: number, limit: number) {
    if (limit <= 0) return [];
    return (await this.#events.find({ org_id, seq: { $gt: afterSeq } }).sort({ seq: 1 }).limit(limit).toArray()).map(toRecord);
  }
}
