import type { AuditEntry, AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import type { ToolAccessDetail } from '../rights/rights.ts';
import type { RevocationEntry } from '../storage/ports/revocation-feed.ts';
import type { AuthorityTarget, EndedAuthority, GrantRecord, GrantSelector, GrantStore } from '../storage/ports/grants.ts';
import type { OidcStore } from '../storage/ports/oidc.ts';
import { crashPoint } from './crash-point.ts';
import { WritError } from '../errors/index.ts';

/** The revocation feed as the grants see it: the entries to publish, and a wake-up once committed. */
export interface RevocationPublisher {
  entriesFor(ended: EndedAuthority, at: string): RevocationEntry[];
  announce(): void;
}

/** Why a new grant's holder can no longer hold it (`user disabled`), or undefined when it can. */
export type HolderCheck = (org_id: string, grant: GrantRecord) => Promise<string | undefined>;

export interface Actor {
  kind: 'user' | 'admin' | 'agent' | 'system' | 'idp';
  [key: string]: unknown;
}

/**
 * Grants are authorization events. Creating one records it and audits it; revoking one (or all
 * of a user's, an agent's) kills every token derived from it: oidc-provider's tokens by grant id,
 * and, in one atomic store step, the grant, its capabilities, their feed entries and the audit
 * events.
 */
export class GrantService {
  readonly #grants: GrantStore;
  readonly #oidc: OidcStore;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  #publisher: RevocationPublisher | undefined;
  #holders: HolderCheck | undefined;

  constructor(grants: GrantStore, oidc: OidcStore, audit: AuditLog, clock: Clock) {
    this.#grants = grants;
    this.#oidc = oidc;
    this.#audit = audit;
    this.#clock = clock;
  }

  publishOn(publisher: RevocationPublisher): void {
    this.#publisher = publisher;
  }

  /** Checks a new grant's user and agent after it is written (see `create`). */
  checkHoldersWith(check: HolderCheck): void {
    this.#holders = check;
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
    // Write, then check: a user or agent disabled while this grant was being made is marked
    // disabled before the lifecycle sweeps their grants, so either that sweep saw this grant or
    // this check sees the mark. Either way the grant does not outlive them.
    const gone = await this.#holders?.(org_id, grant);
    if (gone) {
      await this.end(org_id, { grants: { id: grant.id } }, { kind: 'system' }, gone);
      throw new WritError('access_denied', `the grant could not be made: ${gone}`);
    }
    return grant;
  }

  /** Revokes grants and everything derived from them; returns the grants this call revoked. */
  async revoke(org_id: string, select: GrantSelector, actor: Actor, reason: string): Promise<GrantRecord[]> {
    const ended = await this.end(org_id, { grants: select }, actor, reason);
    return ended.retry ? [] : ended.grants;
  }

  /**
   * Ends authority: the grants selected and, with `agent`, every capability that agent holds or
   * that was delegated through it. A retry of a revocation by id publishes its entries again.
   * `cause` adds the event that names why (a user disabled, an agent deleted) to the same commit.
   */
  async end(org_id: string, target: AuthorityTarget, actor: Actor, reason: string, cause?: (ended: EndedAuthority) => AuditEntry): Promise<EndedAuthority> {
    const at = new Date(this.#clock.now()).toISOString();
    // oidc-provider's tokens go first (deleting them twice is harmless): a crash after the commit
    // must not leave a refresh token of a revoked grant behind.
    const named = await this.#grantsNamed(org_id, target.grants);
    for (const id of named) await this.#endOidcGrant(id);
    const ended = await this.#grants.endAuthority(org_id, target, at, (e) => {
      crashPoint('revocation');
      return {
        feed: this.#publisher?.entriesFor(e, at) ?? [],
        audit: e.retry ? [] : [...this.#auditEvents(org_id, e, actor, reason), ...(cause ? [this.#audit.builder(org_id, cause(e))] : [])],
      };
    });
    for (const g of ended.grants) if (!named.includes(g.id)) await this.#endOidcGrant(g.id);
    this.#publisher?.announce();
    return ended;
  }

  /**
   * oidc-provider's tokens of the grant, and its own grant record: a browser session still pointing
   * at that record would otherwise reuse it, and the next authorization would skip the consent.
   */
  async #endOidcGrant(id: string): Promise<void> {
    await this.#oidc.revokeByGrantId(id);
    await this.#oidc.destroy('Grant', id);
  }

  async #grantsNamed(org_id: string, select: GrantSelector | undefined): Promise<string[]> {
    if (!select) return [];
    if (select.id !== undefined) return [select.id];
    const filter = { ...(select.user_id !== undefined ? { user_id: select.user_id } : {}), ...(select.agent_id !== undefined ? { agent_id: select.agent_id } : {}) };
    return (await this.#grants.listGrants(org_id, filter)).map((g) => g.id);
  }

  #auditEvents(org_id: string, ended: EndedAuthority, actor: Actor, reason: string) {
    const grantIds = new Set(ended.grants.map((g) => g.id));
    return [
      ...ended.grants.map((g) => this.#audit.builder(org_id, {
        type: 'grant.revoked',
        actor,
        subject: { grant_id: g.id, agent_id: g.agent_id, ...(g.user_id ? { user_id: g.user_id } : { principal: 'org' }) },
        details: { reason, capabilities_revoked: ended.capabilities.filter((c) => c.auth_event_id === g.id).length },
      })),
      // Capabilities ended apart from their grant (their holder, or an agent in their chain, is gone).
      ...ended.capabilities.filter((c) => !grantIds.has(c.auth_event_id)).map((c) => this.#audit.builder(org_id, {
        type: 'capability.revoked',
        actor,
        subject: { capability_id: c.jti, grant_id: c.auth_event_id, agent_id: c.client_id },
        details: { reason },
      })),
    ];
  }
}
