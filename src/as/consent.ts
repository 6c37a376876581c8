import type Provider from 'oidc-provider';
import { newId } from '../core/ids.ts';
import type { GrantService } from '../grants/service.ts';
import type { ToolAccessDetail } from '../rights/rights.ts';

// A consent on the record, for agents and external MCP clients alike: Writ's grant (with its
// `grant.created` event) and oidc-provider's grant of the same id, which holds the OpenID scopes
// asked for, the tool scopes on the resource the tokens are for, and the tool_access details every
// token derived from it carries.

export interface Consent {
  org_id: string;
  user_id: string;
  /** oidc-provider's account id for the session (an external client's names the org too). */
  accountId: string;
  /** oidc-provider's client id; `agent_id` is the org's agent it acts as. */
  clientId: string;
  agent_id: string;
  params: Record<string, unknown>;
  /** The RFC 8707 resource the tool scopes are granted on. */
  resource: string | undefined;
  toolScopes: string[];
  details: ToolAccessDetail[];
}

/** Records the consent and returns the grant id for oidc-provider's interaction result. */
export async function recordConsent(provider: Provider, grantService: GrantService, c: Consent): Promise<string> {
  const grantId = newId('grt');
  const grant = new provider.Grant({ accountId: c.accountId, clientId: c.clientId });
  (grant as unknown as { jti: string }).jti = grantId;
  const oidcScopes = String(c.params.scope ?? '').split(' ').filter((s) => s === 'openid' || s === 'offline_access');
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  if (c.resource && c.toolScopes.length) grant.addResourceScope(c.resource, c.toolScopes.join(' '));
  // Scope-only requests still get tool_access details so every token carries its rights one way.
  for (const d of c.details) (grant as unknown as { addRar(d: unknown): void }).addRar(d);
  await grantService.create(c.org_id, { id: grantId, user_id: c.user_id, agent_id: c.agent_id, authorization_details: c.details }, { kind: 'user', user_id: c.user_id });
  await grant.save();
  return grantId;
}
