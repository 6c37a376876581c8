import type { ToolAccessDetail } from '../../rights/rights.ts';
import type { AuditRecord } from './audit.ts';
import type { CapabilityRecord } from './capabilities.ts';
import type { RevocationEntry } from './revocation-feed.ts';

// A Grant is one authorization event: "user U of org O allowed agent A to use tools T on
// resources R". Its id is the `auth_event_id` every derived token carries.
export interface GrantRecord {
  id: string;
  org_id: string;
  /** Absent for org-level grants (the service-identity pattern). */
  user_id?: string | undefined;
  agent_id: string;
  authorization_details: ToolAccessDetail[];
  created_at: string;
  expires_at?: string | undefined;
  revoked_at?: string | undefined;
}

export interface GrantFilter {
  user_id?: string;
  agent_id?: string;
  include_revoked?: boolean;
}

export type GrantSelector = { id?: string; user_id?: string; agent_id?: string; all?: true };

/**
 * Authority to end: the grants a selector names (and every capability derived from them), and,
 * with `agent`, every capability that agent holds or that was delegated through it (its
 * descendants by `parent_jti`), whatever grant they derive from.
 */
export interface AuthorityTarget {
  grants?: GrantSelector;
  agent?: string;
}

export interface EndedAuthority {
  grants: GrantRecord[];
  capabilities: CapabilityRecord[];
  /**
   * True when nothing was newly revoked but a grant named by id already was: a retry. The grant and
   * every capability of it are returned again so their feed entries can be published again.
   */
  retry: boolean;
}

/** What to publish for authority that ended: feed entries and audit events, built from the chain head. */
export interface Publication {
  feed: RevocationEntry[];
  audit: Array<(head: { seq: number; hash: string } | undefined) => AuditRecord>;
}

export interface GrantStore {
  createGrant(org_id: string, grant: GrantRecord): Promise<void>;
  getGrant(org_id: string, grant_id: string): Promise<GrantRecord | undefined>;
  listGrants(org_id: string, filter?: GrantFilter): Promise<GrantRecord[]>;
  /**
   * Revokes the grants the selector names (`all: true` for every grant of the org) and returns
   * those this call revoked (already-revoked ones are not repeated). An empty selector is an error.
   */
  revokeGrants(org_id: string, select: GrantSelector, at: string): Promise<GrantRecord[]>;
  /**
   * Ends authority in one atomic step: marks the grants and capabilities revoked, appends the feed
   * entries and the audit events `publish` builds from what was revoked. Either all of it is
   * committed or none of it. `publish` may be called more than once (a transaction retried).
   */
  endAuthority(org_id: string, target: AuthorityTarget, at: string, publish: (ended: EndedAuthority) => Publication): Promise<EndedAuthority>;
}
