import type { AuthorityTarget, EndedAuthority, GrantFilter, GrantRecord, GrantSelector, GrantStore, Publication } from '../ports/grants.ts';
import { appendAuditNow } from './audit.ts';
import { capabilitiesOfGrant, revokeCapabilitiesNow } from './capabilities.ts';
import { json, optional, parse, type Migration, type SqliteDatabase } from './database.ts';
import { appendRevocationsNow } from './revocation-feed.ts';

export const grantMigrations: Migration[] = [
  {
    aggregate: 'grants',
    version: 1,
    sql: `
      CREATE TABLE grants (
        org_id TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT, agent_id TEXT NOT NULL,
        authorization_details TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT,
        PRIMARY KEY (org_id, id));
      CREATE INDEX grants_by_user ON grants (org_id, user_id);
      CREATE INDEX grants_by_agent ON grants (org_id, agent_id);
    `,
  },
];

interface GrantRow { org_id: string; id: string; user_id: string | null; agent_id: string; authorization_details: string; created_at: string; expires_at: string | null; revoked_at: string | null }

const toGrant = (r: GrantRow): GrantRecord => ({
  id: r.id, org_id: r.org_id, user_id: r.user_id ?? undefined, agent_id: r.agent_id,
  authorization_details: parse(r.authorization_details), created_at: r.created_at,
  expires_at: r.expires_at ?? undefined, revoked_at: r.revoked_at ?? undefined,
});

export class SqliteGrantStore implements GrantStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async createGrant(org_id: string, g: GrantRecord) {
    this.#db.run(
      `INSERT INTO grants (org_id, id, user_id, agent_id, authorization_details, created_at, expires_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      org_id, g.id, optional(g.user_id), g.agent_id, json(g.authorization_details), g.created_at,
      optional(g.expires_at), optional(g.revoked_at),
    );
  }

  async getGrant(org_id: string, grant_id: string) {
    const r = this.#db.get<GrantRow>('SELECT * FROM grants WHERE org_id = ? AND id = ?', org_id, grant_id);
    return r && toGrant(r);
  }

  async listGrants(org_id: string, filter: GrantFilter = {}) {
    let sql = 'SELECT * FROM grants WHERE org_id = ?';
    const params: string[] = [org_id];
    if (filter.user_id !== undefined) { sql += ' AND user_id = ?'; params.push(filter.user_id); }
    if (filter.agent_id !== undefined) { sql += ' AND agent_id = ?'; params.push(filter.agent_id); }
    if (!filter.include_revoked) sql += ' AND revoked_at IS NULL';
    return this.#db.all<GrantRow>(sql + ' ORDER BY id DESC', ...params).map(toGrant);
  }

  async revokeGrants(org_id: string, select: GrantSelector, at: string) {
    return this.#revokeNow(org_id, select, at);
  }

  #revokeNow(org_id: string, select: GrantSelector, at: string): GrantRecord[] {
    let where = 'org_id = ? AND revoked_at IS NULL';
    const params: string[] = [org_id];
    if (select.id !== undefined) { where += ' AND id = ?'; params.push(select.id); }
    if (select.user_id !== undefined) { where += ' AND user_id = ?'; params.push(select.user_id); }
    if (select.agent_id !== undefined) { where += ' AND agent_id = ?'; params.push(select.agent_id); }
    if (params.length === 1 && !select.all) throw new TypeError('revokeGrants needs a selector');
    return this.#db.transaction(() => {
      const rows = this.#db.all<GrantRow>(`SELECT * FROM grants WHERE ${where}`, ...params);
      this.#db.run(`UPDATE grants SET revoked_at = ? WHERE ${where}`, at, ...params);
      return rows.map((r) => ({ ...toGrant(r), revoked_at: at }));
    });
  }

  async endAuthority(org_id: string, target: AuthorityTarget, at: string, publish: (ended: EndedAuthority) => Publication) {
    // One transaction: the revocation, its feed entries and its audit events commit together.
    return this.#db.transaction((): EndedAuthority => {
      let grants = target.grants ? this.#revokeNow(org_id, target.grants, at) : [];
      let capabilities = revokeCapabilitiesNow(this.#db, org_id, { grant_ids: grants.map((g) => g.id), agent: target.agent }, at);
      let retry = false;
      if (grants.length === 0 && capabilities.length === 0 && target.grants?.id !== undefined) {
        const already = this.#db.get<GrantRow>('SELECT * FROM grants WHERE org_id = ? AND id = ? AND revoked_at IS NOT NULL', org_id, target.grants.id);
        if (already) {
          retry = true;
          grants = [toGrant(already)];
          capabilities = capabilitiesOfGrant(this.#db, org_id, already.id);
        }
      }
      const ended = { grants, capabilities, retry };
      const publication = publish(ended);
      appendRevocationsNow(this.#db, publication.feed);
      for (const build of publication.audit) appendAuditNow(this.#db, org_id, build);
      return ended;
    });
  }
}
