// The approvals port, declared beside its consumer: requests for a person's approval of one call
// (OpenID CIBA), each org's approval settings, and the webhook deliveries waiting to go out. The
// storage adapters implement it through a type-only door.

import type { ToolAccessDetail } from '../rights/rights.ts';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'issued';

/** Who may approve, as policy rules name them. */
export type ApproverSpec = 'user' | 'org_admin' | { group: string };

export type ApprovalDecider =
  | { kind: 'user'; user_id: string }
  /** Through the admin API on a user's behalf, where the org's settings allow it. */
  | { kind: 'admin_api'; on_behalf_of: string };

export interface ApprovalRecord {
  /** `apr_…`; the capability issued on approval names it as its parent. */
  id: string;
  org_id: string;
  /** SHA-256 of the auth_req_id: the token endpoint finds the request by it. */
  request_ref: string;
  /** The auth_req_id sealed with the master key, for the ping that names it; never stored in clear. */
  request_sealed: string;
  status: ApprovalStatus;
  agent_id: string;
  /** Agents that hold the request, acting agent first. */
  chain: string[];
  user_id: string;
  grant_id: string;
  /** The rights the agent's delegation held when it asked; the capability is narrowed from them again. */
  held: ToolAccessDetail[];
  /** Exactly what a person approves: one tool, its resource and every argument as an `eq` constraint. */
  details: ToolAccessDetail[];
  audience: string;
  /** The DPoP key the agent's delegated token was bound to: the capability needs the same key. */
  dpop_jkt?: string | undefined;
  binding_message?: string | undefined;
  requirement: { rules: string[]; approvers: ApproverSpec[]; fresh_sign_in: number };
  created_at: string;
  expires_at: string;
  decided_at?: string | undefined;
  decided_by?: ApprovalDecider | undefined;
  reason?: string | undefined;
  /** The agent's last poll of the token endpoint, for `slow_down`. */
  last_polled_at?: string | undefined;
}

export interface AgentBackchannel {
  delivery_mode: 'poll' | 'ping';
  /** Where a ping goes (CIBA §10.2), required for `ping`. */
  notification_endpoint?: string | undefined;
}

export interface ApprovalSettings {
  org_id: string;
  /** Each approval request and decision is POSTed here, signed. */
  webhook_url?: string | undefined;
  /** Whether the admin API may approve or deny on a user's behalf. Off unless set. */
  allow_admin_api_approval: boolean;
  /** Named groups of approvers: group → user ids. */
  groups: Record<string, string[]>;
  /** Each agent's CIBA token delivery; absent means `poll`. */
  agents: Record<string, AgentBackchannel>;
  updated_at: string;
}

export interface WebhookDelivery {
  /** `whk_…`, sent as `webhook-id`: the receiver's idempotency key, the same on every retry. */
  id: string;
  org_id: string;
  approval_id: string;
  event: string;
  url: string;
  /** The JSON body, exactly as signed. */
  body: string;
  attempts: number;
  next_attempt_at: string;
  delivered_at?: string | undefined;
  /** No more attempts. */
  abandoned_at?: string | undefined;
  last_error?: string | undefined;
}

export interface ApprovalStore {
  createApproval(org_id: string, approval: ApprovalRecord): Promise<void>;
  getApproval(org_id: string, id: string): Promise<ApprovalRecord | undefined>;
  /** By the digest of an auth_req_id; the caller checks the org against the authenticated client. */
  findApprovalByRequest(request_ref: string): Promise<ApprovalRecord | undefined>;
  listApprovals(org_id: string, filter?: { status?: ApprovalStatus; user_id?: string }): Promise<ApprovalRecord[]>;
  /** Pending requests past their expiry, across orgs, oldest expiry first: the sweep marks them expired. */
  expiredPending(now: string, limit: number): Promise<ApprovalRecord[]>;
  /** Replaces the record only while its status is still `from`; false when someone else moved it first. */
  transitionApproval(org_id: string, id: string, from: ApprovalStatus, next: ApprovalRecord): Promise<boolean>;

  getApprovalSettings(org_id: string): Promise<ApprovalSettings | undefined>;
  putApprovalSettings(org_id: string, settings: ApprovalSettings): Promise<void>;

  enqueueDelivery(org_id: string, delivery: WebhookDelivery): Promise<void>;
  /** Deliveries neither delivered nor abandoned whose next attempt is due, oldest first, across orgs. */
  dueDeliveries(now: string, limit: number): Promise<WebhookDelivery[]>;
  /** Claims a due delivery for one attempt: moves its next attempt to `lease_until` only if it is still `next_attempt_at`. */
  claimDelivery(org_id: string, id: string, next_attempt_at: string, lease_until: string): Promise<boolean>;
  updateDelivery(org_id: string, delivery: WebhookDelivery): Promise<void>;
  listDeliveries(org_id: string, approval_id: string): Promise<WebhookDelivery[]>;
}
