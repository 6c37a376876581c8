import { auditFacets, type AuditQuery, type AuditRecord, type AuditStore } from '../ports/audit.ts';
import { json, parse, type Migration, type SqliteDatabase } from './database.ts';

export const auditMigrations: Migration[] = [
  {
    aggregate: 'audit',
    version: 1,
    sql: `
      CREATE TABLE audit_events (
        org_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL UNIQUE, at TEXT NOT NULL,
        type TEXT NOT NULL, actor TEXT NOT NULL, subject TEXT NOT NULL, details TEXT NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
        user_id TEXT, agent_id TEXT, tool TEXT, grant_id TEXT, capability_id TEXT,
        PRIMARY KEY (org_id, seq));
      CREATE INDEX audit_by_type ON audit_events (org_id, type, seq);
      CREATE INDEX audit_by_user ON audit_events (org_id, user_id, seq) WHERE user_id IS NOT NULL;
      CREATE INDEX audit_by_agent ON audit_events (org_id, agent_id, seq) WHERE agent_id IS NOT NULL;
      CREATE INDEX audit_by_grant ON audit_events (org_id, grant_id, seq) WHERE grant_id IS NOT NULL;
      CREATE INDEX audit_by_capability ON audit_events (org_id, capability_id) WHERE capability_id IS NOT NULL;
      CREATE INDEX audit_by_time ON audit_events (org_id, at);
    `,
  },
];

interface AuditRow {
  org_id: string; seq: number; id: string; at: string; type: string; actor: string; subject: string;
  details: string; prev_hash: string; hash: string;
}

const toRecord = (r: AuditRow): AuditRecord => ({
  id: r.id, org_id: r.org_id, seq: r.seq, at: r.at, type: r.type, actor: parse(r.actor),
  subject: parse(r.subject), details: parse(r.details), prev_hash: r.prev_hash, hash: r.hash,
});


/**
 * Appends one event built from the org's chain head, synchronously: inside a caller's transaction
 * it commits (or rolls back) with everything else that transaction writes.
 */
export function appendAuditNow(db: SqliteDatabase, org_id: string, build: (head: { seq: number; hash: string } | undefined) => AuditRecord): AuditRecord {
  const head = db.get<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_events WHERE org_id = ? ORDER BY seq DESC LIMIT 1', org_id);
  const e = build(head);
  const f = auditFacets(e);
  db.run(
    `INSERT INTO audit_events (org_id, seq, id, at, type, actor, subject, details, prev_hash, hash,
       user_id, agent_id, tool, grant_id, capability_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    org_id, e.seq, e.id, e.at, e.type, json(e.actor), json(e.subject), json(e.details), e.prev_hash, e.hash,
    f.user_id ?? null, f.agent_id ?? null, f.tool ?? null, f.grant_id ?? null, f.capability_id ?? null,
  );
  return e;
}

export class SqliteAuditStore implements AuditStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async appendAudit(org_id: string, build: (head: { seq: number; hash: string } | undefined) => AuditRecord) {
    return this.#db.write(() => appendAuditNow(this.#db, org_id, build));
  }

  async queryAudit(org_id: string, q: AuditQuery) {
    let sql = 'SELECT * FROM audit_events WHERE org_id = ?';
    const params: Array<string | number> = [org_id];
    const add = (clause: string, value: string | number | undefined) => {
      if (value === undefined) return;
      sql += ` AND ${clause}`;
      params.push(value);
    };
    add('type = ?', q.type);
    add('user_id = ?', q.user_id);
    add('agent_id = ?', q.agent_id);
    add('tool = ?', q.tool);
    add('grant_id = ?', q.grant_id);
    add('capability_id = ?', q.capability_id);
    add('at >= ?', q.since);
    add('at < ?', q.until);
    add('seq < ?', q.before_seq);
    sql += ' ORDER BY seq DESC LIMIT ?';
    params.push(q.limit);
    return this.#db.all<AuditRow>(sql, ...params).map(toRecord);
  }

  async scanAudit(org_id: string, afterSeq: number, limit: number) {
    return this.#db.all<AuditRow>(
      'SELECT * FROM audit_events WHERE org_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?', org_id, afterSeq, limit,
    ).map(toRecord);
  }
}
