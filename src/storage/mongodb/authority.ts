import type { ClientSession, Db, Filter } from 'mongodb';
import { WritError } from '../../errors/index.ts';
import type { AuthorityTarget, EndedAuthority, GrantRecord, Publication } from '../ports/grants.ts';
import type { CapabilityRecord } from '../ports/capabilities.ts';
import { toAuditDoc, type AuditDoc } from './audit.ts';
import { toCapabilityRecord, type CapabilityDoc } from './capabilities.ts';
import { isDuplicateKey } from './database.ts';
import { toGrant, type GrantDoc } from './grants.ts';
import { FEED_FLOOR_ID, type FeedFloorDoc, type RevocationDoc } from './revocation-feed.ts';

// Ending authority on MongoDB: the grants and capabilities marked revoked, the feed entries and the
// audit events all written in one multi-document transaction, so a crash commits all or nothing.
// Feed positions and audit sequence numbers are read from the head inside the transaction; two
// transactions that take the same one conflict, and the loser runs again from the new head.
// A standalone server has no transactions: there the same steps run in order, without the
// all-or-nothing guarantee (docs/storage.md says which deployments have it).

const MAX_ATTEMPTS = 16;

async function supportsTransactions(db: Db): Promise<boolean> {
  const hello = await db.admin().command({ hello: 1 });
  return typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
}

const transactional = new WeakMap<Db, Promise<boolean>>();

export async function endAuthority(
  db: Db, org_id: string, target: AuthorityTarget, at: string, publish: (ended: EndedAuthority) => Publication,
): Promise<EndedAuthority> {
  let supported = transactional.get(db);
  if (!supported) { supported = supportsTransactions(db); transactional.set(db, supported); }
  if (!(await supported)) return steps(db, undefined, org_id, target, at, publish);
  for (let attempt = 1; ; attempt++) {
    const session = db.client.startSession();
    try {
      let ended: EndedAuthority | undefined;
      await session.withTransaction(async () => { ended = await steps(db, session, org_id, target, at, publish); },
        { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' } });
      return ended!;
    } catch (err) {
      // A position or sequence number taken by a writer outside any transaction: start again.
      if (!isDuplicateKey(err) || attempt >= MAX_ATTEMPTS) {
        if (isDuplicateKey(err)) throw new WritError('temporarily_unavailable', 'the revocation could not be committed, try again', { cause: err });
        throw err;
      }
    } finally {
      await session.endSession();
    }
  }
}

async function steps(
  db: Db, session: ClientSession | undefined, org_id: string, target: AuthorityTarget, at: string,
  publish: (ended: EndedAuthority) => Publication,
): Promise<EndedAuthority> {
  const grantsCol = db.collection<GrantDoc>('grants');
  const capsCol = db.collection<CapabilityDoc>('capabilities');
  const opts = session ? { session } : {};

  let grants: GrantRecord[] = [];
  if (target.grants) {
    const s = target.grants;
    if (s.id === undefined && s.user_id === undefined && s.agent_id === undefined && !s.all) throw new TypeError('revokeGrants needs a selector');
    const query: Filter<GrantDoc> = { org_id, revoked_at: { $exists: false } };
    if (s.id !== undefined) query.id = s.id;
    if (s.user_id !== undefined) query.user_id = s.user_id;
    if (s.agent_id !== undefined) query.agent_id = s.agent_id;
    // One conditional update per grant: under racing revocations each is reported by one caller.
    for (const { id } of await grantsCol.find(query, { ...opts, projection: { id: 1 } }).sort({ id: 1 }).toArray()) {
      const d = await grantsCol.findOneAndUpdate({ org_id, id, revoked_at: { $exists: false } }, { $set: { revoked_at: at } }, { ...opts, returnDocument: 'after' });
      if (d) grants.push(toGrant(d));
    }
  }

  // Capabilities of those grants, and those the agent holds with everything delegated from them.
  const jtis = new Set<string>();
  if (grants.length) {
    for (const d of await capsCol.find({ org_id, auth_event_id: { $in: grants.map((g) => g.id) } }, { ...opts, projection: { jti: 1 } }).toArray()) jtis.add(d.jti);
  }
  if (target.agent !== undefined) {
    let frontier = (await capsCol.find({ org_id, client_id: target.agent }, { ...opts, projection: { jti: 1 } }).toArray()).map((d) => d.jti);
    while (frontier.length) {
      for (const j of frontier) jtis.add(j);
      frontier = (await capsCol.find({ org_id, parent_jti: { $in: frontier } }, { ...opts, projection: { jti: 1 } }).toArray())
        .map((d) => d.jti).filter((j) => !jtis.has(j));
    }
  }
  let capabilities: CapabilityRecord[] = [];
  for (const jti of [...jtis].sort()) {
    const d = await capsCol.findOneAndUpdate({ org_id, jti, revoked_at: { $exists: false } }, { $set: { revoked_at: at } }, { ...opts, returnDocument: 'after' });
    if (d) capabilities.push(toCapabilityRecord(d));
  }

  let retry = false;
  if (grants.length === 0 && capabilities.length === 0 && target.grants?.id !== undefined) {
    const already = await grantsCol.findOne({ org_id, id: target.grants.id, revoked_at: { $exists: true } }, opts);
    if (already) {
      retry = true;
      grants = [toGrant(already)];
      capabilities = (await capsCol.find({ org_id, auth_event_id: already.id }, opts).toArray()).map(toCapabilityRecord);
    }
  }

  const ended = { grants, capabilities, retry };
  const publication = publish(ended);
  await appendFeed(db, session, publication.feed);
  await appendAudit(db, session, org_id, publication.audit);
  return ended;
}

async function appendFeed(db: Db, session: ClientSession | undefined, entries: Publication['feed']): Promise<void> {
  if (entries.length === 0) return;
  const revocations = db.collection<RevocationDoc>('revocations');
  const floor = await db.collection<FeedFloorDoc>('feed_floor').findOne({ _id: FEED_FLOOR_ID }, session ? { session } : {});
  const last = await revocations.findOne({}, { ...(session ? { session } : {}), sort: { position: -1 }, projection: { _id: 0, position: 1 } });
  let position = Math.max(last?.position ?? 0, floor?.position ?? 0);
  // Inside a transaction a position another writer took is a write conflict, retried from the top.
  await revocations.insertMany(entries.map((e) => ({ position: ++position, id: e.id, type: e.type, at: e.at, expires: e.expires })), session ? { session } : {});
}

async function appendAudit(db: Db, session: ClientSession | undefined, org_id: string, builders: Publication['audit']): Promise<void> {
  const events = db.collection<AuditDoc>('audit_events');
  for (const build of builders) {
    const head = await events.findOne({ org_id }, { ...(session ? { session } : {}), sort: { seq: -1 }, projection: { _id: 0, seq: 1, hash: 1 } });
    await events.insertOne(toAuditDoc(build(head ? { seq: head.seq, hash: head.hash } : undefined)), session ? { session } : {});
  }
}
