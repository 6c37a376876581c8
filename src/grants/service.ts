import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import type { ToolAccessDetail } from '../core/rights.ts';
import type { GrantRecord, GrantStore } from '../storage/ports/grants.ts';
import type { OidcStore } from '../storage/ports/oidc.ts';

export type RevokedListener = (org_id: string, grants: GrantRecord[], at: string) => Promise<void>;

export interface Actor {
  kind: 'user' | 'admin' | 'agent' | 'system';
  [key: string]: unknown;
}

/**
 * Grants are authorization events. Creating one records it and audits it; revoking one (or all
 * of a user's, an agent's) kills every token derived from it: oidc-provider's tokens by grant
 * id here, capabilities and the revocation feed through the listeners.
 */
export class GrantService {
  readonly #grants: GrantStore;
  readonly #oidc: OidcStore;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #listeners: RevokedListener[] = [];

  constructor(grants: GrantStore, oidc: OidcStore, audit: AuditLog, clock: Clock) {
    this.#grants = grants;
    this.#oidc = oidc;
    this.#audit = audit;
    this.#clock = clock;
  }

  onRevoked(listener: RevokedListener): void {
    this.#listeners.push(listener);
  }

  async create(org_id: string, input: { id: string; user_id?: string | undefined; agent_id: string; authorization_details: ToolAccessDetail[] }, actor: Actor): Promise<GrantRecord> {
    const grant: GrantRecord = { ...input, org_id, created_at: new Date(this.#clock.now()).toISOString() };
    const latest = input.authorization_details.map((d) => d.expires_at).filter((x): x is string => !!x).sort().at(-1);
    if (latest && input.authorization_details.every((d) => d.expires_at)) grant.expires_at = latest;
    await this.#grants.createGrant(org_id, grant);
    await this.#audit.record(org_id, {
      type: 'grant.created',
      actor,
      subject: { grant_id: grant.id, agent_id: grant.agent_id, ...(grant.user_id ? { user_id: grant.user_id } : { principal: 'org' }) },
      details: { authorization_details: grant.authorization_details },
    });
    return grant;
  }

  async revoke(org_id: string, select: { id?: string; user_id?: string; agent_id?: string; all?: true }, actor: Actor, reason: string): Promise<GrantRecord[]> {
    const at = new Date(this.#clock.now()).toISOString();
    const revoked = await this.#grants.revokeGrants(org_id, select, at);
    for (const g of revoked) {
      await this.#oidc.revokeByGrantId(g.id);
    }
    for (const listener of this.#listeners) await listener(org_id, revoked, at);
    for (const g of revoked) {
      await this.#audit.record(org_id, {
        type: 'grant.revoked',
        actor,
        subject: { grant_id: g.id, agent_id: g.agent_id, ...(g.user_id ? { user_id: g.user_id } : { principal: 'org' }) },
        details: { reason },
      });
    }
    return revoked;
  }
}
