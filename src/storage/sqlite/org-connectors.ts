import type { OrgConnectorRecord, OrgConnectorStore } from '../../connectors/org-connector-store.ts';
import { json, optional, parse, type SqliteDatabase } from './database.ts';

// Org-registered connectors in the `vault_connectors` table (created by the vault migrations).

interface ConnectorRow { org_id: string; name: string; definition: string; sealed_client_secret: string | null; created_at: string; updated_at: string }

const toConnector = (r: ConnectorRow): OrgConnectorRecord => ({
  org_id: r.org_id, name: r.name, definition: parse(r.definition),
  sealed_client_secret: r.sealed_client_secret ?? undefined, created_at: r.created_at, updated_at: r.updated_at,
});

export class SqliteOrgConnectorStore implements OrgConnectorStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async putOrgConnector(org_id: string, c: OrgConnectorRecord) {
    if (c.org_id !== org_id) throw new TypeError('connector.org_id does not match org_id');
    this.#db.run(
      `INSERT INTO vault_connectors (org_id, name, definition, sealed_client_secret, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (org_id, name) DO UPDATE SET definition = excluded.definition,
         sealed_client_secret = excluded.sealed_client_secret, updated_at = excluded.updated_at`,
      org_id, c.name, json(c.definition), optional(c.sealed_client_secret), c.created_at, c.updated_at,
    );
  }

  async getOrgConnector(org_id: string, name: string) {
    const r = this.#db.get<ConnectorRow>('SELECT * FROM vault_connectors WHERE org_id = ? AND name = ?', org_id, name);
    return r && toConnector(r);
  }

  async listOrgConnectors(org_id: string) {
    return this.#db.all<ConnectorRow>('SELECT * FROM vault_connectors WHERE org_id = ? ORDER BY name', org_id).map(toConnector);
  }

  async deleteOrgConnector(org_id: string, name: string) {
    return this.#db.run('DELETE FROM vault_connectors WHERE org_id = ? AND name = ?', org_id, name).changes === 1;
  }

  async deleteOrg(org_id: string) {
    this.#db.run('DELETE FROM vault_connectors WHERE org_id = ?', org_id);
  }
}
