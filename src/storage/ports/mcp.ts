// An org's answer to external MCP clients: clients that are registered in no org (Client ID
// Metadata Documents, dynamic registration) and that a person of this org signs in to. The
// authorization server reads it at sign-in and consent; the admin API writes it.

export interface McpOrgSettings {
  /** `none`: refused; `any`: every client; `listed`: only the clients (ids or hosts) in `clients`. */
  accept: 'none' | 'any' | 'listed';
  /** Client ids (a CIMD URL or a registered id) or hosts (`app.example`) accepted when `accept` is `listed`. */
  clients: string[];
  /** The ceiling an external client gets in this org: the tools it may ever be granted. */
  tools: string[];
  updated_at: string;
}

export interface McpStore {
  getSettings(org_id: string): Promise<McpOrgSettings | undefined>;
  putSettings(org_id: string, settings: McpOrgSettings): Promise<void>;
}
