import type { CapabilityRecord, CapabilityStore } from '../ports/capabilities.ts';
import { json, optional, parse, type Migration, type SqliteDatabase } from './database.ts';

// The revocation feed's table was created with the capabilities and stays in their migrations;
// its store is revocation-feed.ts.
export const capabilityMigrations: Migration[] = [
  {
    aggregate: 'capabilities',
    version: 1,
    sql: `
      CREATE TABLE capabilities (
        org_id TEXT NOT NULL, jti TEXT NOT NULL, auth_event_id TEXT NOT NULL, parent_jti TEXT,
        client_id TEXT NOT NULL, format TEXT NOT NULL, revocation_ids TEXT NOT NULL,
        single_use INTEGER NOT NULL, exp INTEGER NOT NULL, created_at TEXT NOT NULL,
        spent_at TEXT, revoked_at TEXT,
        PRIMARY KEY (org_id, jti));
      CREATE INDEX capabilities_by_grant ON capabilities (org_id, auth_event_id);
      CREATE INDEX capabilities_by_exp ON capabilities (exp);
      CREATE TABLE revocations (
        position INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, type TEXT NOT NULL,
        at TEXT NOT NULL, expires INTEGER NOT NULL);
      CREATE INDEX revocations_by_expiry ON revocations (expires);
    `,
  },
  {
    // Deleting an agent revokes what it holds and everything delegated through it.
    aggregate: 'capabilities',
    version: 2,
    sql: `
      CREATE INDEX capabilities_by_holder ON capabilities (org_id, client_id);
      CREATE INDEX capabilities_by_parent ON capabilities (org_id, parent_jti);
    `,
  },
];

interface CapabilityRow {
  org_id: string; jti: string; auth_event_id: string; parent_jti: string | null; client_id: string; format: string;
  revocation_ids: string; single_use: number; exp: number; created_at: string; spent_at: string | null; revoked_at: string | null;
}

const toRecord = (r: CapabilityRow): CapabilityRecord => ({
  jti: r.jti, org_id: r.org_id, auth_event_id: r.auth_event_id, parent_jti: r.parent_jti ?? undefined,
  client_id: r.client_id, format: r.format as CapabilityRecord['format'], revocation_ids: parse(r.revocation_ids),
  single_use: r.single_use === 1, exp: r.exp, created_at: r.created_at, spent_at: r.spent_at ?? undefined,
  revoked_at: r.revoked_at ?? undefined,
});

/**
 * Marks revoked, and returns, the live capabilities of these grants and (with `agent`) those the
 * agent holds and every one delegated from them. Synchronous: it joins the caller's transaction.
 */
export function revokeCapabilitiesNow(db: SqliteDatabase, org_id: string, of: { grant_ids: string[]; agent?: string | undefined }, at: string): CapabilityRecord[] {
  const marks = of.grant_ids.map(() => '?').join(', ');
  const rows = db.all<CapabilityRow>(
    `WITH RECURSIVE delegated(jti) AS (
       SELECT jti FROM capabilities WHERE org_id = ? AND client_id = ?
       UNION SELECT c.jti FROM capabilities c JOIN delegated d ON c.org_id = ? AND c.parent_jti = d.jti)
     SELECT * FROM capabilities WHERE org_id = ? AND revoked_at IS NULL
       AND (auth_event_id IN (${marks || "''"}) OR jti IN (SELECT jti FROM delegated))`,
    org_id, of.agent ?? null, org_id, org_id, ...of.grant_ids);
  for (const r of rows) db.run('UPDATE capabilities SET revoked_at = ? WHERE org_id = ? AND jti = ?', at, org_id, r.jti);
  return rows.map((r) => ({ ...toRecord(r), revoked_at: at }));
}

/** Every capability of a grant, revoked or not: what a retried revocation publishes again. */
export function capabilitiesOfGrant(db: SqliteDatabase, org_id: string, grant_id: string): CapabilityRecord[] {
  return db.all<CapabilityRow>('SELECT * FROM capabilities WHERE org_id = ? AND auth_event_id = ?', org_id, grant_id).map(toRecord);
}

export class SqliteCapabilityStore implements CapabilityStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async recordCapability(org_id: string, c: CapabilityRecord) {
    await this.#db.write(() => this.#db.run(
      `INSERT INTO capabilities (org_id, jti, auth_event_id, parent_jti, client_id, format, revocation_ids, single_use, exp, created_at, spent_at, revoked_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      org_id, c.jti, c.auth_event_id, optional(c.parent_jti), c.client_id, c.format, json(c.revocation_ids),
      c.single_use ? 1 : 0, c.exp, c.created_at, optional(c.spent_at), optional(c.revoked_at),
    ));
  }

  async getCapability(org_id: string, jti: string) {
    const r = this.#db.get<CapabilityRow>('SELECT * FROM capabilities WHERE org_id = ? AND jti = ?', org_id, jti);
    return r && toRecord(r);
  }

  async spendCapability(org_id: string, jti: string, at: string) {
    // One conditional UPDATE: the row changes for exactly one caller.
    return this.#db.write(() => this.#db.run(
      'UPDATE capabilities SET spent_at = ? WHERE org_id = ? AND jti = ? AND spent_at IS NULL AND revoked_at IS NULL',
      at, org_id, jti,
    ).changes === 1);
  }

  async releaseCapability(org_id: string, jti: string, spent_at: string) {
    return this.#db.write(() => this.#db.run(
      'UPDATE capabilities SET spent_at = NULL WHERE org_id = ? AND jti = ? AND spent_at = ? AND revoked_at IS NULL',
      org_id, jti, spent_at,
    ).changes === 1);
  }

  async revokeCapabilitiesOfGrants(org_id: string, grant_ids: string[], at: string) {
    if (grant_ids.length === 0) return [];
    const marks = grant_ids.map(() => '?').join(', ');
    return this.#db.transaction(() => {
      const rows = this.#db.all<CapabilityRow>(
        `SELECT * FROM capabilities WHERE org_id = ? AND auth_event_id IN (${marks}) AND revoked_at IS NULL`, org_id, ...grant_ids);
      this.#db.run(`UPDATE capabilities SET revoked_at = ? WHERE org_id = ? AND auth_event_id IN (${marks}) AND revoked_at IS NULL`, at, org_id, ...grant_ids);
      return rows.map((r) => ({ ...toRecord(r), revoked_at: at }));
    });
  }
}
