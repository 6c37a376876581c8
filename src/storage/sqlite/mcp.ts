import type { McpOrgSettings, McpStore } from '../ports/mcp.ts';
import type { Migration, SqliteDatabase } from './database.ts';

export const mcpMigrations: Migration[] = [
  {
    aggregate: 'mcp',
    version: 1,
    sql: `CREATE TABLE mcp_org_settings (org_id TEXT PRIMARY KEY, settings TEXT NOT NULL);`,
  },
];

export class SqliteMcpStore implements McpStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async getSettings(org_id: string): Promise<McpOrgSettings | undefined> {
    const row = this.#db.get<{ settings: string }>('SELECT settings FROM mcp_org_settings WHERE org_id = ?', org_id);
    return row ? (JSON.parse(row.settings) as McpOrgSettings) : undefined;
  }

  async putSettings(org_id: string, settings: McpOrgSettings): Promise<void> {
    this.#db.run(
      'INSERT INTO mcp_org_settings (org_id, settings) VALUES (?, ?) ON CONFLICT (org_id) DO UPDATE SET settings = excluded.settings',
      org_id, JSON.stringify(settings),
    );
  }
}
