import type { ToolAccessDetail } from '../../core/rights.ts';

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

export interface GrantStore {
  createGrant(org_id: string, grant: GrantRecord): Promise<void>;
  getGrant(org_id: string, grant_id: string): Promise<GrantRecord | undefined>;
  listGrants(org_id: string, filter?: GrantFilter): Promise<GrantRecord[]>;
  /**
   * Revokes the grants the selector names (`all: true` for every grant of the org) and returns
   * those this call revoked (already-revoked ones are not repeated). An empty selector is an error.
   */
  revokeGrants(org_id: string, select: { id?: string; user_id?: string; agent_id?: string; all?: true }, at: string): Promise<GrantRecord[]>;
}
