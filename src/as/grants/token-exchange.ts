import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { exchangeToken, type ExchangeDeps } from '../../exchange/rfc8693.ts';
import { parseExchangeParams } from '../../exchange/params.ts';
import { ID_JAG_TOKEN_TYPE, issueIdJag, type IdJagIssueDeps } from '../../exchange/id-jag.ts';
import { tokenReference, type Subject } from '../../exchange/subject.ts';
import type { ToolAccessDetail } from '../../rights/rights.ts';
import { isWritError } from '../../errors/index.ts';
import { TOKEN_EXCHANGE_GRANT } from '../constants.ts';
import { boundGrantHelpers } from './stock.ts';
import { providerError } from './provider-errors.ts';

const PARAMETERS = [
  'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type',
  'audience', 'resource', 'scope', 'authorization_details',
];

interface StoredToken {
  kind: string; accountId?: string; clientId: string; exp: number; rar?: ToolAccessDetail[]; jkt?: string;
  extra?: { org_id?: string; auth_event_id?: string; principal?: 'user' | 'org'; user_id?: string; agent_id?: string };
  isExpired?: boolean;
}

/** Writ's own delegated (authorization code) and org-level (client credentials) access tokens. */
export function accessTokenResolver(provider: Provider) {
  return async (token: string): Promise<Subject | undefined> => {
    const found = ((await provider.AccessToken.find(token)) ?? (await provider.ClientCredentials.find(token))) as unknown as StoredToken | undefined;
    if (!found || found.isExpired || !found.extra?.org_id || !found.extra.auth_event_id) return undefined;
    const principal = found.extra.principal ?? 'user';
    // An external MCP client's token names the person and the org's agent for the client (as/mcp-clients.ts).
    const sub = principal === 'org' ? found.extra.org_id : found.extra.user_id ?? found.accountId;
    if (!sub) return undefined;
    return {
      kind: 'delegated', format: 'access_token', org_id: found.extra.org_id, principal, sub, chain: [found.extra.agent_id ?? found.clientId],
      auth_event_id: found.extra.auth_event_id, rights: found.rar ?? [], exp: found.exp,
      ref: tokenReference('at', token), ...(found.jkt ? { cnf: { jkt: found.jkt } } : {}),
    };
  };
}

/**
 * An access token issued for one resource (RFC 8707), resolved only where it is presented to that
 * resource: the audience is exactly the resource, or the token is not a token here.
 */
export function resourceTokenResolver(provider: Provider) {
  const resolve = accessTokenResolver(provider);
  return async (token: string, resource: string): Promise<(Subject & { client_id: string }) | undefined> => {
    const found = (await provider.AccessToken.find(token)) as unknown as (StoredToken & { aud?: string | string[] }) | undefined;
    const aud = Array.isArray(found?.aud) ? found.aud : found?.aud !== undefined ? [found.aud] : [];
    if (!found || aud.length !== 1 || aud[0] !== resource) return undefined;
    const subject = await resolve(token);
    return subject && { ...subject, client_id: found.clientId };
  };
}

/**
 * An ID token this server signed for `client` (signature, `iss`, `aud`; expiry is the caller's to
 * judge), by oidc-provider's own check of ID token hints.
 */
async function idTokenSubject(provider: Provider, token: string, client: unknown): Promise<{ sub: string; exp: number } | undefined> {
  try {
    const IdToken = provider.IdToken as unknown as { validate(jwt: string, client: unknown): Promise<{ payload: { sub?: unknown; exp?: unknown } }> };
    const { payload } = await IdToken.validate(token, client);
    return typeof payload.sub === 'string' && typeof payload.exp === 'number' ? { sub: payload.sub, exp: payload.exp } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * RFC 8693 grant on oidc-provider's token endpoint: client authentication and DPoP here, the
 * decision in exchange/. Its refusals become oidc-provider's error classes of the same RFC code.
 */
export function registerTokenExchange(provider: Provider, deps: Omit<ExchangeDeps, 'resolveAccessToken'>, crossApp: IdJagIssueDeps['crossApp']): ExchangeDeps {
  const helpers = boundGrantHelpers(provider);
  const exchangeDeps: ExchangeDeps = { ...deps, resolveAccessToken: accessTokenResolver(provider) };

  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, async (ctx: KoaContextWithOIDC) => {
    const client = ctx.oidc.client!;
    const dPoP = (await helpers.validateDpop!(ctx)) as { thumbprint: string } | undefined;
    if (dPoP) await helpers.checkDpopReplay!(ctx, dPoP, client.clientId);
    try {
      // Writ as its users' identity provider: an ID-JAG for another authorization server.
      const raw = ctx.oidc.params as Record<string, unknown>;
      if (raw.requested_token_type === ID_JAG_TOKEN_TYPE) {
        const resolveIdToken = (token: string) => idTokenSubject(provider, token, client);
        ctx.body = await issueIdJag({ ...exchangeDeps, crossApp, resolveIdToken }, { client: { client_id: client.clientId, org_id: (client as unknown as { org_id: string }).org_id }, params: raw });
        return;
      }
      const params = parseExchangeParams(raw);
      const response = await exchangeToken(exchangeDeps, {
        // The agent's record was read for client authentication in this request: its ceiling serves the exchange.
        client: { client_id: client.clientId, org_id: (client as unknown as { org_id: string }).org_id, tools: (client as unknown as { tools?: string[] }).tools },
        params,
        dpopJkt: dPoP?.thumbprint,
      });
      ctx.body = response;
    } catch (err) {
      throw isWritError(err) ? providerError(err) : err;
    }
  }, PARAMETERS, ['audience', 'resource']);
  return exchangeDeps;
}
