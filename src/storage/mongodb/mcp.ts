import type { Db } from 'mongodb';
import type { McpOrgSettings, McpStore } from '../ports/mcp.ts';

interface SettingsDocument extends McpOrgSettings { _id: string }

/** One document per org, `_id` = org id. */
export class MongoMcpStore implements McpStore {
  readonly #settings;
  constructor(db: Db) { this.#settings = db.collection<SettingsDocument>('mcp_org_settings'); }

  async getSettings(org_id: string): Promise<McpOrgSettings | undefined> {
    const doc = await this.#settings.findOne({ _id: org_id });
    if (!doc) return undefined;
    const { _id, ...settings } = doc;
    return settings;
  }

  async putSettings(org_id: string, settings: McpOrgSettings): Promise<void> {
    await this.#settings.replaceOne({ _id: org_id }, { ...settings }, { upsert: true });
  }
}
