import { bearerDigest, BEARER_MODELS, isBearerDigest, type OidcPayload, type OidcStore } from '../ports/oidc.ts';
import { json, parse, type Migration, type SqliteDatabase } from './database.ts';

export const oidcMigrations: Migration[] = [
  {
    aggregate: 'oidc',
    version: 1,
    sql: `
      CREATE TABLE oidc_models (
        model TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL,
        uid TEXT, user_code TEXT, grant_id TEXT, expires_at INTEGER,
        PRIMARY KEY (model, id));
      CREATE INDEX oidc_by_uid ON oidc_models (model, uid) WHERE uid IS NOT NULL;
      CREATE INDEX oidc_by_user_code ON oidc_models (model, user_code) WHERE user_code IS NOT NULL;
      CREATE INDEX oidc_by_grant ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
      CREATE INDEX oidc_by_expiry ON oidc_models (expires_at) WHERE expires_at IS NOT NULL;
    `,
  },
];

interface ModelRow { payload: string; expires_at: number | null }

export class SqliteOidcStore implements OidcStore {
  readonly #db: SqliteDatabase;
  readonly #now: () => number;
  constructor(db: SqliteDatabase, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
    this.#digestPlainBearerIds();
  }

  /**
   * Rows written before bearer ids were stored as digests (ports/oidc.ts) are rekeyed in place,
   * so refresh tokens issued before the upgrade keep working. Idempotent and cheap once done;
   * every process opening the file runs it, under the write lock. The old values are zeroed in
   * the file and the WAL is truncated, so they do not linger in freed pages.
   */
  #digestPlainBearerIds(): void {
    const models = [...BEARER_MODELS];
    const marks = models.map(() => '?').join(', ');
    const pending = () => this.#db.all<{ model: string; id: string }>(`SELECT model, id FROM oidc_models WHERE model IN (${marks}) AND substr(id, 1, 7) <> 'sha256:'`, ...models)
      .filter((r) => !isBearerDigest(r.id));
    if (pending().length === 0) return;
    const previous = this.#db.get<{ secure_delete: number }>('PRAGMA secure_delete')!.secure_delete;
    this.#db.db.exec('PRAGMA secure_delete = ON');
    try {
      this.#db.transaction(() => {
        for (const { model, id } of pending()) {
          const key = bearerDigest(id);
          this.#db.run(`UPDATE OR REPLACE oidc_models SET id = ?, payload = json_set(payload, '$.jti', ?) WHERE model = ? AND id = ?`, key, key, model, id);
        }
      });
      this.#db.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    } finally {
      this.#db.db.exec(`PRAGMA secure_delete = ${previous ? 'ON' : 'OFF'}`);
    }
  }

  #live(row: ModelRow | undefined): OidcPayload | undefined {
    if (!row) return undefined;
    if (row.expires_at !== null && row.expires_at <= this.#now()) return undefined;
    return parse<OidcPayload>(row.payload);
  }

  async upsert(model: string, id: string, payload: OidcPayload, expiresAt: number | undefined) {
    this.#db.run(
      `INSERT INTO oidc_models (model, id, payload, uid, user_code, grant_id, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, uid = excluded.uid,
         user_code = excluded.user_code, grant_id = excluded.grant_id, expires_at = excluded.expires_at`,
      model, id, json(payload), payload.uid ?? null, payload.userCode ?? null, payload.grantId ?? null, expiresAt ?? null,
    );
  }

  async find(model: string, id: string) {
    return this.#live(this.#db.get<ModelRow>('SELECT payload, expires_at FROM oidc_models WHERE model = ? AND id = ?', model, id));
  }

  async findByUid(model: string, uid: string) {
    return this.#live(this.#db.get<ModelRow>('SELECT payload, expires_at FROM oidc_models WHERE model = ? AND uid = ?', model, uid));
  }

  async findByUserCode(model: string, userCode: string) {
    return this.#live(this.#db.get<ModelRow>('SELECT payload, expires_at FROM oidc_models WHERE model = ? AND user_code = ?', model, userCode));
  }

  async consume(model: string, id: string, at: number) {
    this.#db.run(
      `UPDATE oidc_models SET payload = json_set(payload, '$.consumed', ?) WHERE model = ? AND id = ?`,
      at, model, id,
    );
  }

  async destroy(model: string, id: string) {
    this.#db.run('DELETE FROM oidc_models WHERE model = ? AND id = ?', model, id);
  }

  async revokeByGrantId(grantId: string) {
    this.#db.run('DELETE FROM oidc_models WHERE grant_id = ?', grantId);
  }

  async destroySessionsOf(accountId: string) {
    return this.#db.run(`DELETE FROM oidc_models WHERE model = 'Session' AND json_extract(payload, '$.accountId') = ?`, accountId).changes;
  }

  /** Deletes expired rows; called on a timer by the composition root. */
  purgeExpired(): number {
    return this.#db.run('DELETE FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at <= ?', this.#now()).changes;
  }
}
