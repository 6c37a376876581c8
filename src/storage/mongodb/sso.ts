import type { Collection, Db } from 'mongodb';
import type { CrossAppPolicy, IdentityLink, IdentityProviderRecord, SsoStore } from '../ports/sso.ts';
import { WritError } from '../../errors/index.ts';
import { isDuplicateKey, json, parse, rethrowAsConflict, type IndexPlan } from './database.ts';

// The `sso` aggregate: `sso_identity_providers` (one per org, the record as JSON text),
// `sso_domains` (unique domain → org), `sso_links`, `sso_cross_app`. Claiming domains is one insert
// per domain against the unique index: a domain another org holds makes the put fail before the
// provider is replaced, and what this call inserted is taken back.

interface RecordDoc { org_id: string; record: string }
interface DomainDoc { domain: string; org_id: string }
type LinkDoc = IdentityLink;

export const ssoIndexes: IndexPlan[] = [
  { collection: 'sso_identity_providers', indexes: [{ key: { org_id: 1 }, name: 'sso_idp_org', unique: true }] },
  { collection: 'sso_domains', indexes: [{ key: { domain: 1 }, name: 'sso_domains_domain', unique: true }, { key: { org_id: 1 }, name: 'sso_domains_org' }] },
  { collection: 'sso_links', indexes: [{ key: { org_id: 1, issuer: 1, subject: 1 }, name: 'sso_links_identity', unique: true }] },
  { collection: 'sso_cross_app', indexes: [{ key: { org_id: 1 }, name: 'sso_cross_app_org', unique: true }] },
];

export class MongoSsoStore implements SsoStore {
  readonly #idps: Collection<RecordDoc>;
  readonly #domains: Collection<DomainDoc>;
  readonly #links: Collection<LinkDoc>;
  readonly #crossApp: Collection<RecordDoc>;

  constructor(db: Db) {
    this.#idps = db.collection<RecordDoc>('sso_identity_providers');
    this.#domains = db.collection<DomainDoc>('sso_domains');
    this.#links = db.collection<LinkDoc>('sso_links');
    this.#crossApp = db.collection<RecordDoc>('sso_cross_app');
  }

  async putIdentityProvider(org_id: string, idp: IdentityProviderRecord) {
    if (idp.org_id !== org_id) throw new TypeError('idp.org_id does not match org_id');
    const held = new Set((await this.#domains.find({ org_id }).toArray()).map((d) => d.domain));
    const added: string[] = [];
    for (const domain of idp.domains.filter((d) => !held.has(d))) {
      try {
        await this.#domains.insertOne({ domain, org_id });
        added.push(domain);
      } catch (err) {
        if (added.length) await this.#domains.deleteMany({ org_id, domain: { $in: added } });
        if (isDuplicateKey(err)) throw new WritError('conflict', `the domain ${domain} is claimed by another organisation`, { cause: err });
        throw err;
      }
    }
    const existing = await this.#idps.findOne({ org_id });
    const record = existing ? { ...idp, created_at: parse<IdentityProviderRecord>(existing.record).created_at } : idp;
    await this.#idps.updateOne({ org_id }, { $set: { record: json(record) } }, { upsert: true });
    await this.#domains.deleteMany({ org_id, domain: { $nin: idp.domains } });
  }

  async getIdentityProvider(org_id: string) {
    const doc = await this.#idps.findOne({ org_id });
    return doc ? parse<IdentityProviderRecord>(doc.record) : undefined;
  }

  async deleteIdentityProvider(org_id: string) {
    await this.#domains.deleteMany({ org_id });
    await this.#links.deleteMany({ org_id });
    return (await this.#idps.deleteOne({ org_id })).deletedCount === 1;
  }

  async orgForDomain(domain: string) {
    return (await this.#domains.findOne({ domain }))?.org_id;
  }

  async getLink(org_id: string, issuer: string, subject: string) {
    const d = await this.#links.findOne({ org_id, issuer, subject });
    return d ? { org_id: d.org_id, issuer: d.issuer, subject: d.subject, user_id: d.user_id, display_name: d.display_name ?? undefined, created_at: d.created_at } : undefined;
  }

  async createLink(org_id: string, link: IdentityLink) {
    if (link.org_id !== org_id) throw new TypeError('link.org_id does not match org_id');
    const doc: LinkDoc = { org_id, issuer: link.issuer, subject: link.subject, user_id: link.user_id, created_at: link.created_at, ...(link.display_name ? { display_name: link.display_name } : {}) };
    try {
      await this.#links.insertOne(doc);
    } catch (err) {
      rethrowAsConflict(err, 'this identity is linked already');
    }
  }

  async deleteLinksOf(org_id: string, user_id: string) {
    return (await this.#links.deleteMany({ org_id, user_id })).deletedCount;
  }

  async putCrossAppPolicy(org_id: string, policy: CrossAppPolicy) {
    if (policy.org_id !== org_id) throw new TypeError('policy.org_id does not match org_id');
    await this.#crossApp.updateOne({ org_id }, { $set: { record: json(policy) } }, { upsert: true });
  }

  async getCrossAppPolicy(org_id: string) {
    const doc = await this.#crossApp.findOne({ org_id });
    return doc ? parse<CrossAppPolicy>(doc.record) : undefined;
  }
}
