import type { AuditEntry, AuditLog } from '../audit/log.ts';
import type { AuditEventType } from '../audit/events.ts';
import type { Clock } from '../core/clock.ts';
import { newSecret } from '../core/ids.ts';
import { digestSecret } from '../core/secrets.ts';
import { WritError } from '../errors/index.ts';
import type { ConnectorCatalog } from '../connectors/catalog.ts';
import { disconnectAccount } from '../connectors/disconnect.ts';
import type { Actor, GrantService } from '../grants/service.ts';
import type { AgentChanges, AgentRecord, DirectoryStore, UserChanges, UserRecord } from '../storage/ports/directory.ts';
import type { OidcStore } from '../storage/ports/oidc.ts';
import type { Vault } from '../vault/service.ts';

/** Why a user's or an agent's authority ended: the admin API, the console, or a SCIM client. */
export type Cause = 'admin' | 'console' | 'scim';

/**
 * Something else a user holds that must end with them: the seam for rooms that keep per-user
 * state of their own (pending approvals, identity links). It runs before the grants end and reports
 * counts that go into the one audit event, e.g. `{ pending_approvals_cancelled: 2 }`; `deleted` says
 * the user is being deleted rather than disabled (state a disabled user keeps ends only then).
 */
export type UserEndHook = (org_id: string, user_id: string, at: string, ended: { cause: Cause; reason: string; deleted: boolean }) => Promise<Record<string, number>>;

export interface LifecycleDeps {
  directory: DirectoryStore;
  oidc: OidcStore;
  grants: GrantService;
  vault: Vault;
  catalog: ConnectorCatalog;
  audit: AuditLog;
  clock: Clock;
}

/** Default overlap during which a rotated-out secret or key set still authenticates. */
export const DEFAULT_OVERLAP_SECONDS = 3600;
export const MAX_OVERLAP_SECONDS = 7 * 86400;

/**
 * The lifecycle of users and agents: update, disable, re-enable, delete, and agents' credential
 * rotation. Every step that ends authority goes through `GrantService.end`, so the grants, every
 * capability derived from them, their feed entries and the one event naming the cause commit
 * together. A user or agent is marked disabled first, so from that moment no sign-in, client
 * authentication or exchange finds them (the directory's lookups leave disabled records out).
 */
export class Lifecycle {
  readonly #deps: LifecycleDeps;
  readonly #userHooks: UserEndHook[] = [];

  constructor(deps: LifecycleDeps) {
    this.#deps = deps;
  }

  /** For `GrantService.checkHoldersWith`: a grant made for a user or agent that is disabled (or gone) cannot stand. */
  readonly holderCheck = async (org_id: string, grant: { user_id?: string | undefined; agent_id: string }): Promise<string | undefined> => {
    const { directory } = this.#deps;
    if (grant.user_id && !(await directory.getUser(org_id, grant.user_id))) return 'user disabled';
    // Clients the directory does not hold (external MCP clients) have no lifecycle here.
    if ((await directory.getAgent(org_id, grant.agent_id, { includeDisabled: true }))?.disabled_at) return 'agent disabled';
    return undefined;
  };

  /** Registers per-user state that ends with the user (see `UserEndHook`). */
  onUserEnded(hook: UserEndHook): void {
    this.#userHooks.push(hook);
  }

  #now(): string {
    return new Date(this.#deps.clock.now()).toISOString();
  }

  async #user(org_id: string, user_id: string): Promise<UserRecord> {
    const user = await this.#deps.directory.getUser(org_id, user_id, { includeDisabled: true });
    if (!user) throw new WritError('not_found', 'no such user in this org');
    return user;
  }

  async #agent(org_id: string, client_id: string): Promise<AgentRecord> {
    const agent = await this.#deps.directory.getAgent(org_id, client_id, { includeDisabled: true });
    if (!agent) throw new WritError('not_found', 'no such agent in this org');
    return agent;
  }

  /** Changes a user's attributes; `disabled_at` is not one of them (disable and enable are their own steps). */
  async updateUser(org_id: string, user_id: string, changes: Omit<UserChanges, 'disabled_at'>, actor: Actor): Promise<UserRecord> {
    await this.#user(org_id, user_id);
    const updated = (await this.#deps.directory.updateUser(org_id, user_id, changes, this.#now()))!;
    const { password_hash, ...shown } = changes;
    await this.#deps.audit.record(org_id, {
      type: 'user.updated', actor, subject: { user_id },
      details: { changed: Object.keys(shown).concat(password_hash !== undefined ? ['password'] : []), ...(changes.roles ? { roles: changes.roles } : {}) },
    });
    return updated;
  }

  /**
   * Disables a user: from now on no sign-in, session or consent finds them; their oidc-provider
   * sessions, per-user state (hooks), connected accounts (revoked at the provider where it can)
   * and grants with every capability derived from them end. One `user.disabled` event names the
   * cause. Disabling a disabled user ends whatever is left and records nothing new.
   */
  async disableUser(org_id: string, user_id: string, actor: Actor, cause: Cause): Promise<UserRecord> {
    const user = await this.#user(org_id, user_id);
    const at = this.#now();
    if (!user.disabled_at) await this.#deps.directory.updateUser(org_id, user_id, { disabled_at: at }, at);
    await this.#endUser(org_id, user_id, actor, cause, user.disabled_at ? undefined : 'user.disabled');
    return { ...user, disabled_at: user.disabled_at ?? at, updated_at: at };
  }

  /** Re-enables a user: they may sign in again; nothing that ended comes back. */
  async enableUser(org_id: string, user_id: string, actor: Actor, cause: Cause): Promise<UserRecord> {
    const user = await this.#user(org_id, user_id);
    if (!user.disabled_at) return user;
    const updated = (await this.#deps.directory.updateUser(org_id, user_id, { disabled_at: null }, this.#now()))!;
    await this.#deps.audit.record(org_id, { type: 'user.enabled', actor, subject: { user_id }, details: { cause } });
    return updated;
  }

  /** Ends everything the user holds as `disableUser` does, then removes them; `user.deleted` names the cause. */
  async deleteUser(org_id: string, user_id: string, actor: Actor, cause: Cause): Promise<void> {
    const user = await this.#user(org_id, user_id);
    const at = this.#now();
    if (!user.disabled_at) await this.#deps.directory.updateUser(org_id, user_id, { disabled_at: at }, at);
    await this.#endUser(org_id, user_id, actor, cause, 'user.deleted');
    await this.#deps.directory.deleteUser(org_id, user_id);
  }

  async #endUser(org_id: string, user_id: string, actor: Actor, cause: Cause, event: AuditEventType | undefined): Promise<void> {
    const { oidc, vault, catalog, grants } = this.#deps;
    const at = this.#now();
    const sessions_ended = await oidc.destroySessionsOf(user_id);
    const deleted = event === 'user.deleted';
    const reason = `user ${deleted ? 'deleted' : 'disabled'} (${cause})`;
    const hooked: Record<string, number> = {};
    for (const hook of this.#userHooks) Object.assign(hooked, await hook(org_id, user_id, at, { cause, reason, deleted }));
    const accounts = await vault.listAccounts(org_id, { owner: { kind: 'user', user_id } });
    // Grants first: from this commit on, the executor, introspection, the exchange and the feed refuse.
    await grants.end(org_id, { grants: { user_id } }, actor, reason, event && ((ended): AuditEntry => ({
      type: event, actor, subject: { user_id },
      details: {
        cause, grants_revoked: ended.grants.length, capabilities_revoked: ended.capabilities.length, sessions_ended,
        accounts_disconnected: accounts.map((a) => a.id), ...hooked,
      },
    })));
    for (const account of accounts) {
      const result = await disconnectAccount(vault, catalog, org_id, account.id, account.connector);
      await this.#deps.audit.record(org_id, {
        type: 'account.disconnected', actor, subject: { account_id: account.id, connector: account.connector, user_id },
        details: { upstream: result?.upstream, cause },
      });
    }
  }

  /** Changes an agent's name, redirect URIs or ceiling. Narrowing the ceiling ends nothing already issued. */
  async updateAgent(org_id: string, client_id: string, changes: Pick<AgentChanges, 'name' | 'redirect_uris' | 'tools'>, actor: Actor): Promise<AgentRecord> {
    await this.#agent(org_id, client_id);
    const updated = (await this.#deps.directory.updateAgent(org_id, client_id, changes, this.#now()))!;
    await this.#deps.audit.record(org_id, { type: 'agent.updated', actor, subject: { agent_id: client_id }, details: { changed: Object.keys(changes), ...(changes.tools ? { tools: changes.tools } : {}) } });
    return updated;
  }

  /** Disables an agent: no client authentication from now on, and every grant and capability it holds or that was delegated through it ends. */
  async disableAgent(org_id: string, client_id: string, actor: Actor, cause: Cause): Promise<AgentRecord> {
    const agent = await this.#agent(org_id, client_id);
    const at = this.#now();
    if (!agent.disabled_at) await this.#deps.directory.updateAgent(org_id, client_id, { disabled_at: at }, at);
    await this.#endAgent(org_id, client_id, actor, cause, agent.disabled_at ? undefined : 'agent.disabled');
    return { ...agent, disabled_at: agent.disabled_at ?? at, updated_at: at };
  }

  async enableAgent(org_id: string, client_id: string, actor: Actor, cause: Cause): Promise<AgentRecord> {
    const agent = await this.#agent(org_id, client_id);
    if (!agent.disabled_at) return agent;
    const updated = (await this.#deps.directory.updateAgent(org_id, client_id, { disabled_at: null }, this.#now()))!;
    await this.#deps.audit.record(org_id, { type: 'agent.enabled', actor, subject: { agent_id: client_id }, details: { cause } });
    return updated;
  }

  /** Ends the agent's authority as `disableAgent` does, then removes it; `agent.deleted` commits with the revocation. */
  async deleteAgent(org_id: string, client_id: string, actor: Actor, cause: Cause): Promise<void> {
    const agent = await this.#agent(org_id, client_id);
    const at = this.#now();
    if (!agent.disabled_at) await this.#deps.directory.updateAgent(org_id, client_id, { disabled_at: at }, at);
    await this.#endAgent(org_id, client_id, actor, cause, 'agent.deleted');
    await this.#deps.directory.deleteAgent(org_id, client_id);
  }

  async #endAgent(org_id: string, client_id: string, actor: Actor, cause: Cause, event: AuditEventType | undefined): Promise<void> {
    // Its grants, and every capability it holds or that was delegated through it, whatever the grant.
    await this.#deps.grants.end(org_id, { grants: { agent_id: client_id }, agent: client_id }, actor, `agent ${event === 'agent.deleted' ? 'deleted' : 'disabled'}`, event && ((ended): AuditEntry => ({
      type: event, actor, subject: { agent_id: client_id },
      details: { cause, grants_revoked: ended.grants.length, capabilities_revoked: ended.capabilities.length },
    })));
  }

  /**
   * A new client secret, shown once; the old one keeps authenticating for `overlap_seconds`
   * (0 ends it at once), so a fleet of agent processes can roll over without an outage.
   */
  async rotateSecret(org_id: string, client_id: string, overlap_seconds: number, actor: Actor): Promise<{ agent: AgentRecord; client_secret: string }> {
    const agent = await this.#agent(org_id, client_id);
    if (agent.token_endpoint_auth_method === 'private_key_jwt') throw new WritError('invalid_request', 'this agent authenticates with private_key_jwt: rotate its keys');
    const secret = newSecret(32);
    const nowMs = this.#deps.clock.now();
    const previous = overlap_seconds > 0 && agent.client_secret_digest
      ? { digest: agent.client_secret_digest, expires_at: new Date(nowMs + overlap_seconds * 1000).toISOString() } : null;
    const updated = (await this.#deps.directory.updateAgent(org_id, client_id, { client_secret_digest: digestSecret(secret), previous_secret: previous }, new Date(nowMs).toISOString()))!;
    await this.#deps.audit.record(org_id, { type: 'agent.credentials_rotated', actor, subject: { agent_id: client_id }, details: { credential: 'client_secret', overlap_until: previous?.expires_at ?? null } });
    return { agent: updated, client_secret: secret };
  }

  /**
   * New public keys (`jwks`) or a new `jwks_uri` for `private_key_jwt`; inline keys replaced keep
   * verifying assertions for `overlap_seconds`. A `jwks_uri` is the agent's own rotation point:
   * keys it stops publishing stop working.
   */
  async rotateKeys(org_id: string, client_id: string, keys: { jwks: { keys: Record<string, unknown>[] } } | { jwks_uri: string }, overlap_seconds: number, actor: Actor): Promise<AgentRecord> {
    const agent = await this.#agent(org_id, client_id);
    if (agent.token_endpoint_auth_method !== 'private_key_jwt') throw new WritError('invalid_request', 'this agent authenticates with a client secret: rotate its secret');
    const nowMs = this.#deps.clock.now();
    const previous = overlap_seconds > 0 && agent.jwks
      ? { keys: agent.jwks.keys, expires_at: new Date(nowMs + overlap_seconds * 1000).toISOString() } : null;
    const changes: AgentChanges = 'jwks' in keys
      ? { jwks: keys.jwks, jwks_uri: null, previous_jwks: previous }
      : { jwks: null, jwks_uri: keys.jwks_uri, previous_jwks: null };
    const updated = (await this.#deps.directory.updateAgent(org_id, client_id, changes, new Date(nowMs).toISOString()))!;
    await this.#deps.audit.record(org_id, {
      type: 'agent.credentials_rotated', actor, subject: { agent_id: client_id },
      details: { credential: 'jwks' in keys ? 'jwks' : 'jwks_uri', kids: 'jwks' in keys ? keys.jwks.keys.map((k) => k.kid ?? null) : [], overlap_until: changes.previous_jwks?.expires_at ?? null },
    });
    return updated;
  }
}
