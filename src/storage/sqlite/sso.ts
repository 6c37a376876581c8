import { WritError } from '../../errors/index.ts';
import type { CrossAppPolicy, IdentityLink, IdentityProviderRecord, SsoStore } from '../ports/sso.ts';
import { json, optional, parse, type Migration, type SqliteDatabase } from './database.ts';

// The `sso` aggregate: one row per org's provider (the record as JSON), the email domains it
// claimed (unique across orgs), identity links, and the cross-app (ID-JAG) targets.

export const ssoMigrations: Migration[] = [
  {
    aggregate: 'sso',
    version: 1,
    sql: `
      CREATE TABLE sso_identity_providers (org_id TEXT PRIMARY KEY, record TEXT NOT NULL);
      CREATE TABLE sso_domains (domain TEXT PRIMARY KEY, org_id TEXT NOT NULL);
      CREATE INDEX sso_domains_by_org ON sso_domains (org_id);
      CREATE TABLE sso_links (
        org_id TEXT NOT NULL, issuer TEXT NOT NULL, subject TEXT NOT NULL, user_id TEXT NOT NULL,
        display_name TEXT, created_at TEXT NOT NULL, PRIMARY KEY (org_id, issuer, subject));
      CREATE TABLE sso_cross_app (org_id TEXT PRIMARY KEY, record TEXT NOT NULL);
    `,
  },
];

interface LinkRow { org_id: string; issuer: string; subject: string; user_id: string; display_name: string | null; created_at: string }

export class SqliteSsoStore implements SsoStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async putIdentityProvider(org_id: string, idp: IdentityProviderRecord) {
    if (idp.org_id !== org_id) throw new TypeError('idp.org_id does not match org_id');
    this.#db.transaction(() => {
      const taken = idp.domains.find((d) => {
        const owner = this.#db.get<{ org_id: string }>('SELECT org_id FROM sso_domains WHERE domain = ?', d);
        return owner !== undefined && owner.org_id !== org_id;
      });
      if (taken) throw new WritError('conflict', `the domain ${taken} is claimed by another organisation`);
      const existing = this.#db.get<{ record: string }>('SELECT record FROM sso_identity_providers WHERE org_id = ?', org_id);
      const record = existing ? { ...idp, created_at: parse<IdentityProviderRecord>(existing.record).created_at } : idp;
      this.#db.run(
        'INSERT INTO sso_identity_providers (org_id, record) VALUES (?, ?) ON CONFLICT (org_id) DO UPDATE SET record = excluded.record',
        org_id, json(record),
      );
      this.#db.run('DELETE FROM sso_domains WHERE org_id = ?', org_id);
      for (const d of idp.domains) this.#db.run('INSERT INTO sso_domains (domain, org_id) VALUES (?, ?)', d, org_id);
    });
  }

  async getIdentityProvider(org_id: string) {
    const row = this.#db.get<{ record: string }>('SELECT record FROM sso_identity_providers WHERE org_id = ?', org_id);
    return row && parse<IdentityProviderRecord>(row.record);
  }

  async deleteIdentityProvider(org_id: string) {
    return this.#db.transaction(() => {
      this.#db.run('DELETE FROM sso_domains WHERE org_id = ?', org_id);
      this.#db.run('DELETE FROM sso_links WHERE org_id = ?', org_id);
      return this.#db.run('DELETE FROM sso_identity_providers WHERE org_id = ?', org_id).changes === 1;
    });
  }

  async orgForDomain(domain: string) {
    return this.#db.get<{ org_id: string }>('SELECT org_id FROM sso_domains WHERE domain = ?', domain)?.org_id;
  }

  async getLink(org_id: string, issuer: string, subject: string) {
    const r = this.#db.get<LinkRow>('SELECT * FROM sso_links WHERE org_id = ? AND issuer = ? AND subject = ?', org_id, issuer, subject);
    return r && { org_id: r.org_id, issuer: r.issuer, subject: r.subject, user_id: r.user_id, display_name: r.display_name ?? undefined, created_at: r.created_at };
  }

  async createLink(org_id: string, link: IdentityLink) {
    if (link.org_id !== org_id) throw new TypeError('link.org_id does not match org_id');
    try {
      this.#db.run(
        'INSERT INTO sso_links (org_id, issuer, subject, user_id, display_name, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        org_id, link.issuer, link.subject, link.user_id, optional(link.display_name), link.created_at,
      );
    } catch (err) {
      if (err instanceof Error && /UNIQUE constraint failed/.test(err.message)) throw new WritError('conflict', 'this identity is linked already');
      throw err;
    }
  }

  async deleteLinksOf(org_id: string, user_id: string) {
    return this.#db.run('DELETE FROM sso_links WHERE org_id = ? AND user_id = ?', org_id, user_id).changes;
  }

  async putCrossAppPolicy(org_id: string, policy: CrossAppPolicy) {
    if (policy.org_id !== org_id) throw new TypeError('policy.org_id does not match org_id');
    this.#db.run('INSERT INTO sso_cross_app (org_id, record) VALUES (?, ?) ON CONFLICT (org_id) DO UPDATE SET record = excluded.record', org_id, json(policy));
  }

  async getCrossAppPolicy(org_id: string) {
    const row = this.#db.get<{ record: string }>('SELECT record FROM sso_cross_app WHERE org_id = ?', org_id);
    return row && parse<CrossAppPolicy>(row.record);
  }
}
