import type { ReplayStore } from '../ports/replay.ts';
import type { Migration, SqliteDatabase } from './database.ts';

export const replayMigrations: Migration[] = [
  {
    aggregate: 'replay',
    version: 1,
    sql: `
      CREATE TABLE replay_claims (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
      CREATE INDEX replay_claims_by_expiry ON replay_claims (expires_at);
    `,
  },
];

/** One row per claim; the primary key makes the claim, and an expired row may be taken over. */
export class SqliteReplayStore implements ReplayStore {
  readonly #db: SqliteDatabase;
  readonly #now: () => number;

  constructor(db: SqliteDatabase, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
  }

  async claimOnce(key: string, expiresAt: Date): Promise<boolean> {
    // One statement: an insert, or the takeover of an expired claim; anything else changes no row.
    const { changes } = this.#db.run(
      `INSERT INTO replay_claims (key, expires_at) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE replay_claims.expires_at <= ?`,
      key, expiresAt.getTime(), this.#now(),
    );
    return changes === 1;
  }

  purgeExpired(): number {
    return this.#db.run('DELETE FROM replay_claims WHERE expires_at <= ?', this.#now()).changes;
  }
}
