// The storage port the catalog needs, declared here beside its one consumer; the adapters in
// storage/ implement it.
//
// Connectors an org registers for itself: the validated definition, and the OAuth client secret
// sealed with the org's data key (the vault seals and opens it; this port only keeps it).
// Every method takes `org_id` first; a name alone finds nothing.

export interface OrgConnectorRecord {
  org_id: string;
  name: string;
  /** The validated definition, without the client secret. */
  definition: Record<string, unknown>;
  /** The OAuth client secret, sealed with the org's data key. */
  sealed_client_secret?: string | undefined;
  created_at: string;
  updated_at: string;
}

export interface OrgConnectorStore {
  /** Inserts, or replaces the definition and secret of an existing name (keeping `created_at`). */
  putOrgConnector(org_id: string, connector: OrgConnectorRecord): Promise<void>;
  getOrgConnector(org_id: string, name: string): Promise<OrgConnectorRecord | undefined>;
  listOrgConnectors(org_id: string): Promise<OrgConnectorRecord[]>;
  deleteOrgConnector(org_id: string, name: string): Promise<boolean>;
  /** Removes every connector of the org. */
  deleteOrg(org_id: string): Promise<void>;
}
