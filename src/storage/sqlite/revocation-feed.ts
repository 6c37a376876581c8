import type { RevocationEntry, RevocationFeedStore } from '../ports/revocation-feed.ts';
import type { SqliteDatabase } from './database.ts';

// The public revocation feed in the `revocations` table (created by the capability migrations);
// AUTOINCREMENT makes positions only ever grow, even when the newest entries are purged.

/** Appends feed entries at the next positions; joins the caller's transaction. */
export function appendRevocationsNow(db: SqliteDatabase, entries: RevocationEntry[]): void {
  db.transaction(() => {
    for (const e of entries) db.run('INSERT INTO revocations (id, type, at, expires) VALUES (?, ?, ?, ?)', e.id, e.type, e.at, e.expires);
  });
}

export class SqliteRevocationFeedStore implements RevocationFeedStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async appendRevocations(entries: RevocationEntry[]) {
    appendRevocationsNow(this.#db, entries);
  }

  async listRevocations(cursor: number, limit: number) {
    if (limit <= 0) return { entries: [], cursor };
    // One statement, so one snapshot: the head it reports and the rows it returns are the same
    // moment of the file. Read in two statements, a writer in another process could commit between
    // them, and an empty page would hand back a head past entries this follower never saw.
    // The head comes from sqlite_sequence too, so purging the newest entries never lowers it.
    const rows = this.#db.all<{ head: number; position: number | null; id: string; type: RevocationEntry['type']; at: string; expires: number }>(
      `WITH head AS (SELECT MAX(COALESCE((SELECT MAX(position) FROM revocations), 0),
                                COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'revocations'), 0)) AS head)
       SELECT head.head, page.position, page.id, page.type, page.at, page.expires
       FROM head LEFT JOIN (SELECT * FROM revocations WHERE position > ? ORDER BY position LIMIT ?) AS page
       ORDER BY page.position`, cursor, limit);
    const entries = rows.filter((r) => r.position !== null).map(({ id, type, at, expires }): RevocationEntry => ({ id, type, at, expires }));
    const last = rows.at(-1);
    if (entries.length === 0) return { entries, cursor: Math.max(cursor, last?.head ?? 0) };
    return { entries, cursor: last!.position! };
  }

  async purgeRevocations(nowSeconds: number) {
    return this.#db.run('DELETE FROM revocations WHERE expires < ?', nowSeconds).changes;
  }
}
