import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import * as stock from 'oidc-provider/lib/actions/grants/client_credentials.js';
import type { GrantStore } from '../../storage/ports/grants.ts';
import { boundGrantHelpers } from './helpers.ts';

/**
 * `client_credentials` bound to the agent's org-level Grant (DESIGN flow 2): the stock handler,
 * preceded by a step that finds the grant an org admin created and, when the request names no
 * rights, asks for all of them. Without an active org-level grant the agent gets nothing.
 */
export function registerClientCredentials(provider: Provider, grants: GrantStore): void {
  const helpers = boundGrantHelpers(provider);
  const parameters = new Set([...stock.parameters, 'resource', 'authorization_details']);

  provider.registerGrantType('client_credentials', async (ctx: KoaContextWithOIDC) => {
    const client = ctx.oidc.client!;
    const org_id = (client as unknown as { org_id: string }).org_id;
    const orgGrant = (await grants.listGrants(org_id, { agent_id: client.clientId }))
      .find((g) => g.user_id === undefined);
    if (!orgGrant) throw new errors.InvalidGrant('no org-level grant is active for this agent');
    (ctx.oidc as unknown as { orgGrant: typeof orgGrant }).orgGrant = orgGrant;
    const params = ctx.oidc.params as Record<string, unknown>;
    if (params.authorization_details === undefined && params.scope === undefined) {
      params.authorization_details = JSON.stringify(orgGrant.authorization_details);
      params.resource ??= provider.issuer;
    }
    await stock.handler(provider, helpers, ctx);
  }, [...parameters], ['resource']);
}
