// Append-only, hash-chained per org. The store assigns the sequence number and keeps
// (org_id, seq) unique, so concurrent writers can never fork the chain.

export interface AuditRecord {
  id: string;
  org_id: string;
  seq: number;
  at: string;
  type: string;
  actor: Record<string, unknown>;
  subject: Record<string, unknown>;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface AuditQuery {
  type?: string | undefined;
  user_id?: string | undefined;
  agent_id?: string | undefined;
  tool?: string | undefined;
  grant_id?: string | undefined;
  capability_id?: string | undefined;
  since?: string | undefined;
  until?: string | undefined;
  /** Return events with seq strictly below this (newest first paging). */
  before_seq?: number | undefined;
  limit: number;
}

export interface AuditStore {
  /** Builds the next event from the chain head inside one atomic step. */
  appendAudit(org_id: string, build: (head: { seq: number; hash: string } | undefined) => AuditRecord): Promise<AuditRecord>;
  queryAudit(org_id: string, query: AuditQuery): Promise<AuditRecord[]>;
  /** Oldest first, for verification and export. */
  scanAudit(org_id: string, afterSeq: number, limit: number): Promise<AuditRecord[]>;
}

/**
 * The fields every adapter indexes so the common questions ("what did agent A do for user U?")
 * are index scans. The subject names whom an event is about, so it wins over details and actor.
 */
export function auditFacets(e: AuditRecord): { user_id?: string; agent_id?: string; tool?: string; grant_id?: string; capability_id?: string } {
  const all = { ...e.actor, ...e.details, ...e.subject } as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const facets = {
    user_id: str(all.user_id),
    agent_id: str(all.agent_id) ?? str(all.client_id),
    tool: str(all.tool),
    grant_id: str(all.grant_id) ?? str(all.auth_event_id),
    capability_id: str(all.capability_id) ?? str(all.jti),
  };
  return Object.fromEntries(Object.entries(facets).filter(([, v]) => v !== undefined));
}
