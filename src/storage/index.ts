import type { ApprovalStore } from '../approvals/store.ts';
import type { OrgConnectorStore } from '../connectors/org-connector-store.ts';
import type { AuditStore } from './ports/audit.ts';
import type { CapabilityStore } from './ports/capabilities.ts';
import type { DirectoryStore } from './ports/directory.ts';
import type { CheckpointStore, SiemStore } from './ports/evidence.ts';
import type { GrantStore } from './ports/grants.ts';
import type { KeyStore } from './ports/keys.ts';
import type { McpStore } from './ports/mcp.ts';
import type { OidcStore } from './ports/oidc.ts';
import type { ReplayStore } from './ports/replay.ts';
import type { ScimStore } from './ports/scim.ts';
import type { RevocationFeedStore } from './ports/revocation-feed.ts';
import type { SsoStore } from './ports/sso.ts';
import type { VaultStore } from './ports/vault.ts';

// The store as the rest of Writ sees it: one port per aggregate. Only the composition root
// (app/) chooses and opens an adapter. A port with one consuming room is declared in that room
// (org connectors in connectors/); a port several rooms consume stays in ports/.
export interface WritStore {
  readonly kind: 'sqlite' | 'mongodb';
  directory: DirectoryStore;
  grants: GrantStore;
  oidc: OidcStore;
  audit: AuditStore;
  keys: KeyStore;
  vault: VaultStore;
  orgConnectors: OrgConnectorStore;
  capabilities: CapabilityStore;
  revocationFeed: RevocationFeedStore;
  /** Once-only claims that expire (DPoP proof ids), shared by every process. */
  replay: ReplayStore;
  /** Orgs' answers to external MCP clients. */
  mcp: McpStore;
  /** Single sign-on per org: upstream providers, identity links, cross-app (ID-JAG) targets. */
  sso: SsoStore;
  /** Each org's SCIM bearer token (digest). */
  scim: ScimStore;
  /** Signed checkpoints of the audit chain and their keys. */
  checkpoints: CheckpointStore;
  /** Per-org SIEM streams and their delivery cursors. */
  siem: SiemStore;
  /** Requests for a person's approval (CIBA), org approval settings, webhook deliveries. */
  approvals: ApprovalStore;
  /** Cheap liveness probe for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type * from './ports/audit.ts';
export type * from './ports/capabilities.ts';
export type * from './ports/directory.ts';
export type * from './ports/evidence.ts';
export type * from './ports/grants.ts';
export type * from './ports/keys.ts';
export type * from './ports/mcp.ts';
export type * from './ports/oidc.ts';
export type * from '../connectors/org-connector-store.ts';
export type * from '../approvals/store.ts';
export type * from './ports/replay.ts';
export type * from './ports/scim.ts';
export type * from './ports/revocation-feed.ts';
export type * from './ports/sso.ts';
export type * from './ports/vault.ts';
