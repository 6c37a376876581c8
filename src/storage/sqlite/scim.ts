import type { ScimStore, ScimTokenRecord } from '../ports/scim.ts';
import type { Migration, SqliteDatabase } from './database.ts';

export const scimMigrations: Migration[] = [
  {
    aggregate: 'scim',
    version: 1,
    sql: `CREATE TABLE scim_tokens (org_id TEXT PRIMARY KEY REFERENCES orgs(id), digest TEXT NOT NULL, created_at TEXT NOT NULL)`,
  },
];

export class SqliteScimStore implements ScimStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async putToken(t: ScimTokenRecord) {
    this.#db.run(
      `INSERT INTO scim_tokens (org_id, digest, created_at) VALUES (?, ?, ?)
       ON CONFLICT (org_id) DO UPDATE SET digest = excluded.digest, created_at = excluded.created_at`,
      t.org_id, t.digest, t.created_at,
    );
  }
  async getToken(org_id: string) {
    return this.#db.get<ScimTokenRecord>('SELECT org_id, digest, created_at FROM scim_tokens WHERE org_id = ?', org_id);
  }
  async deleteToken(org_id: string) {
    return this.#db.run('DELETE FROM scim_tokens WHERE org_id = ?', org_id).changes > 0;
  }
}
