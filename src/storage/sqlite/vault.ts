import type {
  AccountFilter, AccountPatch, ConnectedAccountRecord, CredentialWrite, DataKeyRecord, VaultStore,
} from '../ports/vault.ts';
import { json, optional, parse, type Migration, type SqliteDatabase } from './database.ts';

// The org connectors' table was created with the vault and stays in its migrations; its store is
// org-connectors.ts.
export const vaultMigrations: Migration[] = [
  {
    aggregate: 'vault',
    version: 1,
    sql: `
      CREATE TABLE vault_data_keys (
        org_id TEXT PRIMARY KEY, version INTEGER NOT NULL, wrapped TEXT NOT NULL,
        master_version INTEGER NOT NULL, created_at TEXT NOT NULL, rewrapped_at TEXT);
      CREATE INDEX vault_data_keys_by_master ON vault_data_keys (master_version, org_id);
      CREATE TABLE vault_accounts (
        org_id TEXT NOT NULL, id TEXT NOT NULL, owner_kind TEXT NOT NULL, owner_user_id TEXT,
        connector TEXT NOT NULL, status TEXT NOT NULL, scopes TEXT NOT NULL, expires_at TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL, credential_version INTEGER NOT NULL,
        credential_type TEXT, api_key_hint TEXT, sealed_credential TEXT, sealed_connect TEXT,
        cooldown_until TEXT, last_error TEXT,
        PRIMARY KEY (org_id, id));
      CREATE INDEX vault_accounts_by_owner ON vault_accounts (org_id, owner_kind, owner_user_id, connector);
      CREATE TABLE vault_leases (
        org_id TEXT NOT NULL, account_id TEXT NOT NULL, owner TEXT NOT NULL, expires_at INTEGER NOT NULL,
        PRIMARY KEY (org_id, account_id));
      CREATE TABLE vault_connectors (
        org_id TEXT NOT NULL, name TEXT NOT NULL, definition TEXT NOT NULL, sealed_client_secret TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (org_id, name));
    `,
  },
];

interface AccountRow {
  org_id: string; id: string; owner_kind: string; owner_user_id: string | null; connector: string;
  status: string; scopes: string; expires_at: string | null; created_at: string; updated_at: string;
  credential_version: number; credential_type: string | null; api_key_hint: string | null;
  sealed_credential: string | null; sealed_connect: string | null; cooldown_until: string | null; last_error: string | null;
}

const toAccount = (r: AccountRow): ConnectedAccountRecord => ({
  id: r.id,
  org_id: r.org_id,
  owner: r.owner_kind === 'user' ? { kind: 'user', user_id: String(r.owner_user_id) } : { kind: 'org' },
  connector: r.connector,
  status: r.status as ConnectedAccountRecord['status'],
  scopes: parse<string[]>(r.scopes),
  expires_at: r.expires_at ?? undefined,
  created_at: r.created_at,
  updated_at: r.updated_at,
  credential_version: Number(r.credential_version),
  credential_type: (r.credential_type ?? undefined) as ConnectedAccountRecord['credential_type'],
  api_key_hint: r.api_key_hint ?? undefined,
  sealed_credential: r.sealed_credential ?? undefined,
  sealed_connect: r.sealed_connect ?? undefined,
  cooldown_until: r.cooldown_until ?? undefined,
  last_error: r.last_error ?? undefined,
});

interface DataKeyRow { org_id: string; version: number; wrapped: string; master_version: number; created_at: string; rewrapped_at: string | null }

const toDataKey = (r: DataKeyRow): DataKeyRecord => ({
  org_id: r.org_id, version: Number(r.version), wrapped: r.wrapped, master_version: Number(r.master_version),
  created_at: r.created_at, rewrapped_at: r.rewrapped_at ?? undefined,
});

/** SET clause for an AccountPatch; `null` clears, `undefined` leaves alone. */
function patchClause(patch: AccountPatch): { set: string; params: Array<string | null> } {
  const parts = ['updated_at = ?'];
  const params: Array<string | null> = [patch.updated_at];
  if (patch.status !== undefined) { parts.push('status = ?'); params.push(patch.status); }
  if (patch.scopes !== undefined) { parts.push('scopes = ?'); params.push(json(patch.scopes)); }
  for (const field of ['sealed_connect', 'cooldown_until', 'last_error'] as const) {
    const value = patch[field];
    if (value !== undefined) { parts.push(`${field} = ?`); params.push(value); }
  }
  return { set: parts.join(', '), params };
}

export class SqliteVaultStore implements VaultStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async getDataKey(org_id: string) {
    const r = this.#db.get<DataKeyRow>('SELECT * FROM vault_data_keys WHERE org_id = ?', org_id);
    return r && toDataKey(r);
  }

  async putDataKeyIfAbsent(k: DataKeyRecord) {
    return this.#db.transaction(() => {
      this.#db.run(
        `INSERT INTO vault_data_keys (org_id, version, wrapped, master_version, created_at, rewrapped_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (org_id) DO NOTHING`,
        k.org_id, k.version, k.wrapped, k.master_version, k.created_at, optional(k.rewrapped_at),
      );
      return toDataKey(this.#db.get<DataKeyRow>('SELECT * FROM vault_data_keys WHERE org_id = ?', k.org_id)!);
    });
  }

  async rewrapDataKey(org_id: string, expected_wrapped: string, next: { wrapped: string; master_version: number; rewrapped_at: string }) {
    const { changes } = this.#db.run(
      'UPDATE vault_data_keys SET wrapped = ?, master_version = ?, rewrapped_at = ? WHERE org_id = ? AND wrapped = ?',
      next.wrapped, next.master_version, next.rewrapped_at, org_id, expected_wrapped,
    );
    return changes === 1;
  }

  async listDataKeysToRewrap(master_version: number, options: { after?: string; limit: number }) {
    return this.#db.all<DataKeyRow>(
      'SELECT * FROM vault_data_keys WHERE master_version <> ? AND org_id > ? ORDER BY org_id LIMIT ?',
      master_version, options.after ?? '', options.limit,
    ).map(toDataKey);
  }

  async countDataKeysToRewrap(master_version: number) {
    const r = this.#db.get<{ n: number }>('SELECT COUNT(*) AS n FROM vault_data_keys WHERE master_version <> ?', master_version);
    return Number(r?.n ?? 0);
  }

  async deleteDataKey(org_id: string) {
    return this.#db.run('DELETE FROM vault_data_keys WHERE org_id = ?', org_id).changes === 1;
  }

  async createAccount(org_id: string, a: ConnectedAccountRecord) {
    if (a.org_id !== org_id) throw new TypeError('account.org_id does not match org_id');
    this.#db.run(
      `INSERT INTO vault_accounts (org_id, id, owner_kind, owner_user_id, connector, status, scopes, expires_at,
         created_at, updated_at, credential_version, credential_type, api_key_hint, sealed_credential, sealed_connect,
         cooldown_until, last_error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      org_id, a.id, a.owner.kind, a.owner.kind === 'user' ? a.owner.user_id : null, a.connector, a.status,
      json(a.scopes), optional(a.expires_at), a.created_at, a.updated_at, a.credential_version,
      optional(a.credential_type), optional(a.api_key_hint), optional(a.sealed_credential), optional(a.sealed_connect),
      optional(a.cooldown_until), optional(a.last_error),
    );
  }

  async getAccount(org_id: string, account_id: string) {
    const r = this.#db.get<AccountRow>('SELECT * FROM vault_accounts WHERE org_id = ? AND id = ?', org_id, account_id);
    return r && toAccount(r);
  }

  async listAccounts(org_id: string, filter: AccountFilter = {}) {
    let sql = 'SELECT * FROM vault_accounts WHERE org_id = ?';
    const params: string[] = [org_id];
    if (filter.owner) {
      sql += ' AND owner_kind = ?';
      params.push(filter.owner.kind);
      if (filter.owner.kind === 'user') { sql += ' AND owner_user_id = ?'; params.push(filter.owner.user_id); }
    }
    if (filter.connector !== undefined) { sql += ' AND connector = ?'; params.push(filter.connector); }
    if (filter.status !== undefined) { sql += ' AND status = ?'; params.push(filter.status); }
    return this.#db.all<AccountRow>(sql + ' ORDER BY id', ...params).map(toAccount);
  }

  async updateAccount(org_id: string, account_id: string, patch: AccountPatch) {
    const { set, params } = patchClause(patch);
    return this.#db.transaction(() => {
      const { changes } = this.#db.run(`UPDATE vault_accounts SET ${set} WHERE org_id = ? AND id = ?`, ...params, org_id, account_id);
      if (changes !== 1) return undefined;
      return toAccount(this.#db.get<AccountRow>('SELECT * FROM vault_accounts WHERE org_id = ? AND id = ?', org_id, account_id)!);
    });
  }

  async swapCredential(org_id: string, account_id: string, expected_version: number, w: CredentialWrite) {
    return this.#db.transaction(() => {
      const { changes } = this.#db.run(
        `UPDATE vault_accounts SET sealed_credential = ?, credential_type = ?, api_key_hint = ?, status = ?, scopes = ?,
           expires_at = ?, updated_at = ?, credential_version = credential_version + 1, cooldown_until = NULL,
           last_error = NULL, sealed_connect = NULL
         WHERE org_id = ? AND id = ? AND credential_version = ?`,
        w.sealed_credential, w.credential_type, optional(w.api_key_hint), w.status, json(w.scopes),
        optional(w.expires_at), w.updated_at, org_id, account_id, expected_version,
      );
      if (changes !== 1) return undefined;
      return toAccount(this.#db.get<AccountRow>('SELECT * FROM vault_accounts WHERE org_id = ? AND id = ?', org_id, account_id)!);
    });
  }

  async setStatusIfVersion(org_id: string, account_id: string, expected_version: number, patch: AccountPatch) {
    const { set, params } = patchClause(patch);
    const { changes } = this.#db.run(
      `UPDATE vault_accounts SET ${set} WHERE org_id = ? AND id = ? AND credential_version = ?`,
      ...params, org_id, account_id, expected_version,
    );
    return changes === 1;
  }

  async deleteAccount(org_id: string, account_id: string) {
    return this.#db.transaction(() => {
      this.#db.run('DELETE FROM vault_leases WHERE org_id = ? AND account_id = ?', org_id, account_id);
      return this.#db.run('DELETE FROM vault_accounts WHERE org_id = ? AND id = ?', org_id, account_id).changes === 1;
    });
  }

  async acquireLease(org_id: string, account_id: string, owner: string, ttl_ms: number, now: number) {
    // One statement: insert, or take over when expired or already ours. The WHERE on the upsert
    // makes a live lease held by someone else a no-op (changes = 0).
    const { changes } = this.#db.run(
      `INSERT INTO vault_leases (org_id, account_id, owner, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (org_id, account_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
       WHERE vault_leases.expires_at <= ? OR vault_leases.owner = excluded.owner`,
      org_id, account_id, owner, now + ttl_ms, now,
    );
    return changes === 1;
  }

  async releaseLease(org_id: string, account_id: string, owner: string) {
    this.#db.run('DELETE FROM vault_leases WHERE org_id = ? AND account_id = ? AND owner = ?', org_id, account_id, owner);
  }

  async deleteOrg(org_id: string) {
    this.#db.transaction(() => {
      this.#db.run('DELETE FROM vault_data_keys WHERE org_id = ?', org_id);
      this.#db.run('DELETE FROM vault_leases WHERE org_id = ?', org_id);
      this.#db.run('DELETE FROM vault_accounts WHERE org_id = ?', org_id);
    });
  }
}
