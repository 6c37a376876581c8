import type { Collection, Db, WithId } from 'mongodb';
import type { OrgConnectorRecord, OrgConnectorStore } from '../../connectors/org-connector-store.ts';
import { json, parse, retryOnDuplicate, setAndUnset, type IndexPlan } from './database.ts';

// Org-registered connectors, one document per (org, name) in `vault_connectors`. The upsert on
// that unique key is one single-document operation.

interface ConnectorDoc {
  org_id: string; name: string;
  /** JSON text: tool tables are keyed by dotted tool names. */
  definition: string;
  sealed_client_secret?: string; created_at: string; updated_at: string;
}

export const orgConnectorIndexes: IndexPlan[] = [
  { collection: 'vault_connectors', indexes: [{ key: { org_id: 1, name: 1 }, name: 'vault_connectors_org_name', unique: true }] },
];

const toConnector = (d: WithId<ConnectorDoc>): OrgConnectorRecord => ({
  org_id: d.org_id, name: d.name, definition: parse<Record<string, unknown>>(d.definition),
  sealed_client_secret: d.sealed_client_secret ?? undefined, created_at: d.created_at, updated_at: d.updated_at,
});

export class MongoOrgConnectorStore implements OrgConnectorStore {
  readonly #connectors: Collection<ConnectorDoc>;

  constructor(db: Db) {
    this.#connectors = db.collection<ConnectorDoc>('vault_connectors');
  }

  async putOrgConnector(org_id: string, c: OrgConnectorRecord) {
    if (c.org_id !== org_id) throw new TypeError('connector.org_id does not match org_id');
    const update = setAndUnset(
      { definition: json(c.definition), sealed_client_secret: c.sealed_client_secret, updated_at: c.updated_at },
      { $setOnInsert: { created_at: c.created_at } },
    );
    await retryOnDuplicate(() => this.#connectors.updateOne({ org_id, name: c.name }, update, { upsert: true }));
  }

  async getOrgConnector(org_id: string, name: string) {
    const d = await this.#connectors.findOne({ org_id, name });
    return d ? toConnector(d) : undefined;
  }

  async listOrgConnectors(org_id: string) {
    return (await this.#connectors.find({ org_id }).sort({ name: 1 }).toArray()).map(toConnector);
  }

  async deleteOrgConnector(org_id: string, name: string) {
    return (await this.#connectors.deleteOne({ org_id, name })).deletedCount === 1;
  }

  async deleteOrg(org_id: string) {
    await this.#connectors.deleteMany({ org_id });
  }
}
