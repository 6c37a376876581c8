import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { GrantStore } from '../../storage/ports/grants.ts';
import { boundGrantHelpers, stockClientCredentials as stock } from './stock.ts';
import { tokenEndpointRights } from './rights.ts';

/**
 * `client_credentials` bound to the agent's org-level Grant (DESIGN flow 2): the stock handler,
 * preceded by a step that finds the grant an org admin created and computes the token's rights.
 * Without an active org-level grant the agent gets nothing.
 */
export function registerClientCredentials(provider: Provider, grants: GrantStore, now: () => number): void {
  const helpers = boundGrantHelpers(provider);
  const parameters = new Set([...stock.parameters, 'resource', 'authorization_details']);

  provider.registerGrantType('client_credentials', async (ctx: KoaContextWithOIDC) => {
    const client = ctx.oidc.client!;
    const org_id = (client as unknown as { org_id: string }).org_id;
    const orgGrant = (await grants.listGrants(org_id, { agent_id: client.clientId }))
      .find((g) => g.user_id === undefined);
    if (!orgGrant) throw new errors.InvalidGrant('no org-level grant is active for this agent');
    (ctx.oidc as unknown as { orgGrant: typeof orgGrant }).orgGrant = orgGrant;
    // The one rights function decides here, before the stock handler: what the request names (or
    // the whole org grant) ∩ the grant ∩ the agent's ceiling as it is now. The token then carries
    // exactly those rights, and oidc-provider's own RAR step checks them again against the grant.
    const params = ctx.oidc.params as Record<string, unknown>;
    const rights = tokenEndpointRights(params, orgGrant.authorization_details, client, now());
    params.authorization_details = JSON.stringify(rights);
    params.resource ??= provider.issuer;
    await stock.handler(provider, helpers, ctx);
  }, [...parameters], ['resource']);
}
