import type { CheckpointKeyRecord, CheckpointRecord, CheckpointStore, SiemStore, SiemStreamChanges, SiemStreamRecord } from '../ports/evidence.ts';
import { json, optional, parse, type Migration, type SqliteDatabase } from './database.ts';

export const evidenceMigrations: Migration[] = [
  {
    aggregate: 'audit_checkpoints',
    version: 1,
    sql: `
      CREATE TABLE audit_checkpoint_keys (
        org_id TEXT NOT NULL, kid TEXT NOT NULL, public_jwk TEXT NOT NULL, sealed_private_key TEXT NOT NULL,
        created_at TEXT NOT NULL, PRIMARY KEY (org_id, kid));
      CREATE TABLE audit_checkpoints (
        org_id TEXT NOT NULL, seq INTEGER NOT NULL, head_hash TEXT NOT NULL, at TEXT NOT NULL,
        kid TEXT NOT NULL, signature TEXT NOT NULL, PRIMARY KEY (org_id, seq));
    `,
  },
  {
    aggregate: 'siem',
    version: 1,
    sql: `
      CREATE TABLE siem_streams (
        org_id TEXT PRIMARY KEY, url TEXT NOT NULL, cursor INTEGER NOT NULL, failures INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL, last_error TEXT, last_delivered_at TEXT,
        lease_owner TEXT, lease_until INTEGER, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE INDEX siem_due ON siem_streams (next_attempt_at);
    `,
  },
];

interface KeyRow { org_id: string; kid: string; public_jwk: string; sealed_private_key: string; created_at: string }
const toKey = (r: KeyRow): CheckpointKeyRecord => ({ ...r, public_jwk: parse(r.public_jwk) });

interface StreamRow extends Omit<SiemStreamRecord, 'last_error' | 'last_delivered_at' | 'lease_owner' | 'lease_until'> {
  last_error: string | null; last_delivered_at: string | null; lease_owner: string | null; lease_until: number | null;
}
const toStream = (r: StreamRow): SiemStreamRecord => ({
  org_id: r.org_id, url: r.url, cursor: r.cursor, failures: r.failures, next_attempt_at: r.next_attempt_at,
  last_error: r.last_error ?? undefined, last_delivered_at: r.last_delivered_at ?? undefined,
  lease_owner: r.lease_owner ?? undefined, lease_until: r.lease_until ?? undefined, created_at: r.created_at, updated_at: r.updated_at,
});

export class SqliteCheckpointStore implements CheckpointStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async createKeyIfAbsent(k: CheckpointKeyRecord) {
    return this.#db.transaction(() => {
      const existing = this.#db.get<KeyRow>('SELECT * FROM audit_checkpoint_keys WHERE org_id = ? ORDER BY created_at, kid LIMIT 1', k.org_id);
      if (existing) return toKey(existing);
      this.#db.run('INSERT INTO audit_checkpoint_keys (org_id, kid, public_jwk, sealed_private_key, created_at) VALUES (?, ?, ?, ?, ?)',
        k.org_id, k.kid, json(k.public_jwk), k.sealed_private_key, k.created_at);
      return k;
    });
  }
  async listKeys(org_id: string) {
    return this.#db.all<KeyRow>('SELECT * FROM audit_checkpoint_keys WHERE org_id = ? ORDER BY created_at, kid', org_id).map(toKey);
  }
  async appendCheckpoint(c: CheckpointRecord) {
    return this.#db.run('INSERT OR IGNORE INTO audit_checkpoints (org_id, seq, head_hash, at, kid, signature) VALUES (?, ?, ?, ?, ?, ?)',
      c.org_id, c.seq, c.head_hash, c.at, c.kid, c.signature).changes > 0;
  }
  async listCheckpoints(org_id: string, options: { after_seq?: number; limit?: number } = {}) {
    return this.#db.all<CheckpointRecord>('SELECT * FROM audit_checkpoints WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      org_id, options.after_seq ?? 0, options.limit ?? 1000);
  }
  async latestCheckpoint(org_id: string) {
    return this.#db.get<CheckpointRecord>('SELECT * FROM audit_checkpoints WHERE org_id = ? ORDER BY seq DESC LIMIT 1', org_id);
  }
}

export class SqliteSiemStore implements SiemStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async putStream(s: SiemStreamRecord) {
    this.#db.run(
      `INSERT OR REPLACE INTO siem_streams (org_id, url, cursor, failures, next_attempt_at, last_error, last_delivered_at, lease_owner, lease_until, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      s.org_id, s.url, s.cursor, s.failures, s.next_attempt_at, optional(s.last_error), optional(s.last_delivered_at),
      optional(s.lease_owner), s.lease_until ?? null, s.created_at, s.updated_at,
    );
  }
  async getStream(org_id: string) {
    const r = this.#db.get<StreamRow>('SELECT * FROM siem_streams WHERE org_id = ?', org_id);
    return r && toStream(r);
  }
  async deleteStream(org_id: string) {
    return this.#db.run('DELETE FROM siem_streams WHERE org_id = ?', org_id).changes > 0;
  }
  async listDue(now: number, limit: number) {
    return this.#db.all<StreamRow>('SELECT * FROM siem_streams WHERE next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?', now, limit).map(toStream);
  }
  async claim(org_id: string, owner: string, until: number, now: number) {
    return this.#db.run(
      'UPDATE siem_streams SET lease_owner = ?, lease_until = ? WHERE org_id = ? AND (lease_owner IS NULL OR lease_until <= ? OR lease_owner = ?)',
      owner, until, org_id, now, owner,
    ).changes > 0;
  }
  async update(org_id: string, owner: string, changes: SiemStreamChanges, release: boolean) {
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
    const sets = [...entries.map(([k]) => `${k} = ?`), ...(release ? ['lease_owner = NULL', 'lease_until = NULL'] : [])];
    if (sets.length === 0) return true;
    return this.#db.run(`UPDATE siem_streams SET ${sets.join(', ')} WHERE org_id = ? AND lease_owner = ?`,
      ...entries.map(([, v]) => v as string | number), org_id, owner).changes > 0;
  }
}
