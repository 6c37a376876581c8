import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Clock } from '../../core/clock.ts';
import { newId } from '../../core/ids.ts';
import { isWritError } from '../../errors/index.ts';
import { assertedRights, JWT_BEARER_GRANT, type CurrentPolicies } from '../../exchange/id-jag.ts';
import type { GrantService } from '../../grants/service.ts';
import { scopeFor } from '../../capability/index.ts';
import { boundGrantHelpers } from './stock.ts';
import { providerError } from './provider-errors.ts';

// RFC 7523 §2.1 `jwt-bearer` with an Identity Assertion JWT Authorization Grant
// (draft-ietf-oauth-identity-assertion-authz-grant §4.4): the org's identity provider decided,
// so there is no consent page; the token is still the agent's ceiling ∩ the org's policy ∩ what
// the provider asserted, and rests on a Grant recorded with the provider as its actor, so it is
// revoked, introspected and exchanged like any other delegated token. No refresh token (§5.1):
// the agent asks the provider for a new assertion.

/** Checks an assertion for an org and the client presenting it (sso/id-jag.ts). */
export interface AssertionCheck {
  accept(org_id: string, client_id: string, assertion: string): Promise<{
    user: { id: string };
    issuer: string;
    jti: string;
    exp: number;
    scope: string | undefined;
  }>;
}

export interface JwtBearerDeps {
  issuer: string;
  clock: Clock;
  accessTokenTtl: number;
  grantService: GrantService;
  policies: CurrentPolicies;
  assertions: AssertionCheck;
}

type AgentClient = { clientId: string; org_id: string; tools: string[] };

export function registerJwtBearer(provider: Provider, deps: JwtBearerDeps): void {
  const helpers = boundGrantHelpers(provider);

  provider.registerGrantType(JWT_BEARER_GRANT, async (ctx: KoaContextWithOIDC) => {
    const client = ctx.oidc.client! as unknown as AgentClient;
    const params = ctx.oidc.params as Record<string, unknown>;
    const assertion = params.assertion;
    if (typeof assertion !== 'string' || !assertion || assertion.length > 16 * 1024) throw new errors.InvalidRequest('assertion is required');
    const dPoP = (await helpers.validateDpop!(ctx)) as { thumbprint: string } | undefined;

    let accepted: Awaited<ReturnType<AssertionCheck['accept']>>;
    let rights;
    try {
      accepted = await deps.assertions.accept(client.org_id, client.clientId, assertion);
      rights = assertedRights({ policies: deps.policies, clock: deps.clock, issuer: deps.issuer }, {
        org_id: client.org_id, agent: { client_id: client.clientId, tools: client.tools }, user_id: accepted.user.id,
        assertedScope: accepted.scope, requestedScope: typeof params.scope === 'string' && params.scope ? params.scope : undefined, issuer: accepted.issuer,
      });
    } catch (err) {
      throw isWritError(err) ? providerError(err) : err;
    }

    const grantId = newId('grt', deps.clock.now());
    await deps.grantService.create(client.org_id, { id: grantId, user_id: accepted.user.id, agent_id: client.clientId, authorization_details: rights },
      { kind: 'idp', issuer: accepted.issuer, assertion_jti: accepted.jti });
    const scope = scopeFor(rights);
    const grant = new provider.Grant({ accountId: accepted.user.id, clientId: client.clientId });
    (grant as unknown as { jti: string }).jti = grantId;
    grant.addResourceScope(deps.issuer, scope);
    for (const d of rights) (grant as unknown as { addRar(d: unknown): void }).addRar(d);
    await grant.save();

    const at = new provider.AccessToken({ accountId: accepted.user.id, client: ctx.oidc.client!, grantId, gty: 'jwt_bearer', scope } as never);
    (at as unknown as { rar: unknown }).rar = rights;
    const ResourceServer = (provider as unknown as { ResourceServer: new (id: string, info: unknown) => unknown }).ResourceServer;
    (at as unknown as { resourceServer: unknown }).resourceServer = new ResourceServer(deps.issuer, {
      scope, audience: deps.issuer, accessTokenTTL: deps.accessTokenTtl, accessTokenFormat: 'opaque',
    });
    if (dPoP) {
      await helpers.checkDpopReplay!(ctx, dPoP, client.clientId);
      at.setThumbprint('jkt', dPoP.thumbprint);
    }
    ctx.oidc.entity('AccessToken', at);
    const value = await at.save();
    ctx.body = {
      access_token: value,
      token_type: at.tokenType,
      expires_in: at.expiration,
      scope,
      authorization_details: rights,
    };
  }, ['assertion', 'scope'], []);
}
