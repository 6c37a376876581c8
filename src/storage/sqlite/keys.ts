import type { KeyStore, SigningKeyRecord } from '../ports/keys.ts';
import { json, optional, parse, type Migration, type SqliteDatabase } from './database.ts';

export const keyMigrations: Migration[] = [
  {
    aggregate: 'keys',
    version: 1,
    sql: `CREATE TABLE signing_keys (
      kid TEXT PRIMARY KEY, use TEXT NOT NULL, sealed_private TEXT NOT NULL, public_jwk TEXT NOT NULL,
      created_at TEXT NOT NULL, superseded_at TEXT, retire_after TEXT)`,
  },
];

interface KeyRow { kid: string; use: string; sealed_private: string; public_jwk: string; created_at: string; superseded_at: string | null; retire_after: string | null }

export class SqliteKeyStore implements KeyStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async putKey(k: SigningKeyRecord) {
    this.#db.run(
      'INSERT INTO signing_keys (kid, use, sealed_private, public_jwk, created_at, superseded_at, retire_after) VALUES (?, ?, ?, ?, ?, ?, ?)',
      k.kid, k.use, k.sealed_private, json(k.public_jwk), k.created_at, optional(k.superseded_at), optional(k.retire_after),
    );
  }

  async listKeys() {
    return this.#db.all<KeyRow>('SELECT * FROM signing_keys ORDER BY created_at, kid').map((r) => ({
      kid: r.kid, use: r.use as SigningKeyRecord['use'], sealed_private: r.sealed_private,
      public_jwk: parse<Record<string, unknown>>(r.public_jwk), created_at: r.created_at,
      superseded_at: r.superseded_at ?? undefined, retire_after: r.retire_after ?? undefined,
    }));
  }

  async updateKey(kid: string, patch: Partial<Pick<SigningKeyRecord, 'superseded_at' | 'retire_after' | 'sealed_private'>>) {
    if (patch.sealed_private !== undefined) this.#db.run('UPDATE signing_keys SET sealed_private = ? WHERE kid = ?', patch.sealed_private, kid);
    if (patch.superseded_at !== undefined) this.#db.run('UPDATE signing_keys SET superseded_at = ? WHERE kid = ?', patch.superseded_at, kid);
    if (patch.retire_after !== undefined) this.#db.run('UPDATE signing_keys SET retire_after = ? WHERE kid = ?', patch.retire_after, kid);
  }
}
