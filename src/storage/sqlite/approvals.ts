import type { ApprovalRecord, ApprovalSettings, ApprovalStatus, ApprovalStore, WebhookDelivery } from '../../approvals/store.ts';
import { json, parse, type Migration, type SqliteDatabase } from './database.ts';

// Approval requests, org approval settings and webhook deliveries: the `approvals` aggregate.
// Each record is one JSON document beside the columns it is found by.

export const approvalMigrations: Migration[] = [
  {
    aggregate: 'approvals',
    version: 1,
    sql: `
      CREATE TABLE approvals (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, request_ref TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL, user_id TEXT NOT NULL, created_at TEXT NOT NULL, doc TEXT NOT NULL);
      CREATE INDEX approvals_by_org ON approvals (org_id, status, created_at);
      CREATE TABLE approval_settings (org_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
      CREATE TABLE approval_deliveries (
        id TEXT PRIMARY KEY, org_id TEXT NOT NULL, approval_id TEXT NOT NULL,
        next_attempt_at TEXT NOT NULL, open INTEGER NOT NULL, doc TEXT NOT NULL);
      CREATE INDEX approval_deliveries_due ON approval_deliveries (open, next_attempt_at);
      CREATE INDEX approval_deliveries_by_approval ON approval_deliveries (org_id, approval_id);`,
  },
  {
    // The expiry sweep finds pending requests past their expiry by an index, not by reading documents.
    aggregate: 'approvals',
    version: 2,
    sql: `
      ALTER TABLE approvals ADD COLUMN expires_at TEXT NOT NULL DEFAULT '';
      UPDATE approvals SET expires_at = json_extract(doc, '$.expires_at');
      CREATE INDEX approvals_expiring ON approvals (status, expires_at);`,
  },
];

export class SqliteApprovalStore implements ApprovalStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async createApproval(org_id: string, a: ApprovalRecord) {
    if (a.org_id !== org_id) throw new TypeError('approval.org_id does not match org_id');
    this.#db.run('INSERT INTO approvals (id, org_id, request_ref, status, user_id, created_at, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      a.id, org_id, a.request_ref, a.status, a.user_id, a.created_at, a.expires_at, json(a));
  }

  async getApproval(org_id: string, id: string) {
    const r = this.#db.get<{ doc: string }>('SELECT doc FROM approvals WHERE org_id = ? AND id = ?', org_id, id);
    return r && parse<ApprovalRecord>(r.doc);
  }

  async findApprovalByRequest(request_ref: string) {
    const r = this.#db.get<{ doc: string }>('SELECT doc FROM approvals WHERE request_ref = ?', request_ref);
    return r && parse<ApprovalRecord>(r.doc);
  }

  async listApprovals(org_id: string, filter: { status?: ApprovalStatus; user_id?: string } = {}) {
    return this.#db.all<{ doc: string }>(
      `SELECT doc FROM approvals WHERE org_id = ? AND (? IS NULL OR status = ?) AND (? IS NULL OR user_id = ?) ORDER BY created_at DESC, id DESC LIMIT 500`,
      org_id, filter.status ?? null, filter.status ?? null, filter.user_id ?? null, filter.user_id ?? null,
    ).map((r) => parse<ApprovalRecord>(r.doc));
  }

  async expiredPending(now: string, limit: number) {
    return this.#db.all<{ doc: string }>(`SELECT doc FROM approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?`, now, limit)
      .map((r) => parse<ApprovalRecord>(r.doc));
  }

  async transitionApproval(org_id: string, id: string, from: ApprovalStatus, next: ApprovalRecord) {
    return this.#db.run('UPDATE approvals SET status = ?, doc = ? WHERE org_id = ? AND id = ? AND status = ?',
      next.status, json(next), org_id, id, from).changes === 1;
  }

  async getApprovalSettings(org_id: string) {
    const r = this.#db.get<{ doc: string }>('SELECT doc FROM approval_settings WHERE org_id = ?', org_id);
    return r && parse<ApprovalSettings>(r.doc);
  }

  async putApprovalSettings(org_id: string, s: ApprovalSettings) {
    if (s.org_id !== org_id) throw new TypeError('settings.org_id does not match org_id');
    this.#db.run('INSERT INTO approval_settings (org_id, doc) VALUES (?, ?) ON CONFLICT (org_id) DO UPDATE SET doc = excluded.doc', org_id, json(s));
  }

  async enqueueDelivery(org_id: string, d: WebhookDelivery) {
    this.#db.run('INSERT INTO approval_deliveries (id, org_id, approval_id, next_attempt_at, open, doc) VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (id) DO NOTHING',
      d.id, org_id, d.approval_id, d.next_attempt_at, json(d));
  }

  async dueDeliveries(now: string, limit: number) {
    return this.#db.all<{ doc: string }>('SELECT doc FROM approval_deliveries WHERE open = 1 AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?', now, limit)
      .map((r) => parse<WebhookDelivery>(r.doc));
  }

  async claimDelivery(org_id: string, id: string, next_attempt_at: string, lease_until: string) {
    return this.#db.transaction(() => {
      const r = this.#db.get<{ doc: string }>('SELECT doc FROM approval_deliveries WHERE org_id = ? AND id = ? AND open = 1 AND next_attempt_at = ?', org_id, id, next_attempt_at);
      if (!r) return false;
      const d = { ...parse<WebhookDelivery>(r.doc), next_attempt_at: lease_until };
      this.#db.run('UPDATE approval_deliveries SET next_attempt_at = ?, doc = ? WHERE org_id = ? AND id = ?', lease_until, json(d), org_id, id);
      return true;
    });
  }

  async updateDelivery(org_id: string, d: WebhookDelivery) {
    const open = d.delivered_at || d.abandoned_at ? 0 : 1;
    this.#db.run('UPDATE approval_deliveries SET next_attempt_at = ?, open = ?, doc = ? WHERE org_id = ? AND id = ?', d.next_attempt_at, open, json(d), org_id, d.id);
  }

  async listDeliveries(org_id: string, approval_id: string) {
    return this.#db.all<{ doc: string }>('SELECT doc FROM approval_deliveries WHERE org_id = ? AND approval_id = ? ORDER BY id', org_id, approval_id)
      .map((r) => parse<WebhookDelivery>(r.doc));
  }
}
