import Provider, { errors, type Configuration } from 'oidc-provider';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { detailsFromScope, grantableRights, type ToolAccessDetail } from '../rights/rights.ts';
import { parseToolAccess } from '../rights/schema.ts';
import type { DirectoryStore } from '../storage/ports/directory.ts';
import type { GrantRecord, GrantStore } from '../storage/ports/grants.ts';
import type { OidcStore } from '../storage/ports/oidc.ts';
import { renderErrorPage, renderLogoutPage, renderSignedOutPage } from './pages.ts';
import { createAdapterClass } from './adapter.ts';
import { loginPolicy, type SensitiveMaxAge } from './login-policy.ts';
import { TOKEN_EXCHANGE_GRANT, TOOL_SCOPE_PREFIX } from './constants.ts';
import { compareClientSecretsByDigest } from './client-secret.ts';
import type { Ciba } from './ciba.ts';
import { providerKeystore, type CurrentKeyPair } from './current-key.ts';
import { registerClientCredentials } from './grants/client-credentials.ts';
import { ceilingsOf, rightsError, tokenEndpointRights } from './grants/rights.ts';
import { acceptedSettings, egressCheckedFetch, endSupersededGrants, isExternalClient, metadataDocumentRefusal, newRegisteredClientId, parseExternalAccountId, refuseOrgFields, type ExternalClientDeps } from './mcp-clients.ts';

const AUTHORIZATION_PATH = '/authorize';

export interface ProviderDeps {
  issuer: string;
  /** The default audience of capabilities from token exchange. */
  executorResource: string;
  directory: DirectoryStore;
  grants: GrantStore;
  oidc: OidcStore;
  jwks: { keys: Array<Record<string, unknown>> };
  /** The key that signs capabilities now (the key manager's), for registered resource servers' JWTs. */
  capabilityKey: () => CurrentKeyPair;
  cookieKeys: string[];
  accessTokenTtl: number;
  refreshTokenTtl: number;
  clock: Clock;
  logger: Logger;
  /** OpenID CIBA: a person approves one call (approvals/). */
  ciba?: Ciba;
  /** External MCP clients: metadata documents, dynamic registration, the MCP resource. */
  mcp?: ExternalClientDeps;
  /** Single sign-on: the org's max_age for delegating to an agent. */
  sensitiveMaxAge?: SensitiveMaxAge;
}

type ClientWithOrg = { clientId: string; org_id: string; tools: string[] };

/** The account a request is for: the browser session's at /authorize, the code's or refresh token's at /token. */
function accountOf(ctx: { oidc: unknown }): string | undefined {
  const oidc = ctx.oidc as { session?: { accountId?: string }; entities?: { AuthorizationCode?: { accountId?: string }; RefreshToken?: { accountId?: string } } };
  return oidc.session?.accountId ?? oidc.entities?.AuthorizationCode?.accountId ?? oidc.entities?.RefreshToken?.accountId;
}
const orgOf = (client: unknown) => (client as ClientWithOrg).org_id;

function toolScopes(client: unknown): string {
  return (client as ClientWithOrg).tools.map((t) => TOOL_SCOPE_PREFIX + t).join(' ');
}

/** The agent's grant behind a token or code, by the grant id oidc-provider carries. */
async function grantFor(grants: GrantStore, client: unknown, grantId: string | undefined): Promise<GrantRecord | undefined> {
  if (!grantId) return undefined;
  return grants.getGrant(orgOf(client), grantId);
}

/**
 * oidc-provider configured as Writ's authorization server: authorization code + PKCE with
 * RFC 9396 `tool_access` details, rotating refresh tokens, client credentials for org-level
 * grants, introspection, revocation, DPoP and resource indicators.
 */
export function createProvider(deps: ProviderDeps): Provider {
  const { grants, directory } = deps;
  const now = () => deps.clock.now();

  const configuration: Configuration = {
    adapter: deps.ciba ? deps.ciba.withBackchannel(createAdapterClass(deps.oidc, directory, now)) : createAdapterClass(deps.oidc, directory, now),
    jwks: providerKeystore(deps.jwks, deps.capabilityKey) as Configuration['jwks'],
    cookies: { keys: deps.cookieKeys, long: { signed: true, httpOnly: true, sameSite: 'lax' }, short: { signed: true, httpOnly: true, sameSite: 'lax' } },
    clientBasedCORS: () => false,
    scopes: ['openid', 'offline_access'],
    claims: { openid: ['sub'], profile: ['preferred_username', 'org_id'], email: ['email'] },
    extraClientMetadata: { properties: ['org_id', 'tools', 'previous_secret_digest'], validator: refuseOrgFields },
    // The ceiling is known at /authorize: `tool:` scopes outside it, or not naming a tool
    // (`tool:*`), are refused here, before any page (RFC 6749 §4.1.2.1 invalid_scope).
    extraParams: {
      async scope(_ctx, value, client) {
        const requested = detailsFromScope(typeof value === 'string' ? value : undefined, TOOL_SCOPE_PREFIX);
        if (!requested.length) return;
        const answer = grantableRights({ requested, held: undefined, ceilings: ceilingsOf(client), nowMs: now() });
        if (!answer.ok) throw rightsError(answer, true);
      },
    },
    routes: {
      authorization: AUTHORIZATION_PATH,
      token: '/token',
      introspection: '/introspect',
      revocation: '/revoke',
      jwks: '/jwks',
      userinfo: '/userinfo',
      end_session: '/session/end',
      pushed_authorization_request: '/par',
      backchannel_authentication: '/backchannel',
    },
    pkce: { required: () => true },
    // Discovery advertises exactly what an agent can use (test/as/discovery.test.ts holds every
    // advertised value to the server): the authorization code flow only (no implicit, no id_token
    // response type); client secrets by Basic or POST, private_key_jwt with asymmetric keys, and
    // `none` for public clients with PKCE. client_secret_jwt and HS256 would sign with a secret
    // Writ keeps only as a digest, so they are not offered.
    responseTypes: ['code'],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    enabledJWA: { clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256', 'Ed25519', 'EdDSA'] },
    ttl: {
      AccessToken: deps.accessTokenTtl,
      ClientCredentials: deps.accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: deps.refreshTokenTtl,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: deps.refreshTokenTtl,
      BackchannelAuthenticationRequest: (ctx) => deps.ciba?.ttl(ctx) ?? 600,
    },
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    interactions: { policy: loginPolicy(deps.sensitiveMaxAge, () => Math.floor(deps.clock.now() / 1000)), url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, sub) {
      const client = ctx.oidc.client;
      if (!client) return undefined;
      if (isExternalClient(client)) {
        // An external MCP client's person names the org they signed in to (mcp-clients.ts).
        const ref = parseExternalAccountId(sub);
        const user = ref && (await directory.getUser(ref.org_id, ref.user_id));
        if (!user) return undefined;
        return { accountId: sub, claims: async () => ({ sub: user.id, org_id: user.org_id, preferred_username: user.username }) };
      }
      const user = await directory.getUser(orgOf(client), sub);
      if (!user) return undefined;
      return {
        accountId: user.id,
        claims: async () => ({ sub: user.id, org_id: user.org_id, preferred_username: user.username, ...(user.email ? { email: user.email } : {}) }),
      };
    },
    // Delegated tokens record the org and the grant (auth_event_id) they derive from.
    async extraTokenClaims(ctx, token) {
      const client = ctx.oidc.client;
      if (!client) return undefined;
      const t = token as unknown as { kind: string; grantId?: string };
      if (t.kind === 'ClientCredentials') {
        const g = (ctx.oidc as unknown as { orgGrant?: GrantRecord }).orgGrant;
        return { org_id: orgOf(client), auth_event_id: g?.id, principal: 'org' };
      }
      if (isExternalClient(client)) {
        // The org, the person and the org's agent for this client, from the grant the consent wrote.
        const ref = parseExternalAccountId((token as unknown as { accountId?: string }).accountId);
        const g = ref && t.grantId ? await grants.getGrant(ref.org_id, t.grantId) : undefined;
        if (!ref || !g) return undefined;
        if (deps.mcp && ctx.oidc.params?.grant_type === 'authorization_code') await endSupersededGrants(grants, deps.mcp.grantService, ref.org_id, g);
        return { org_id: ref.org_id, auth_event_id: g.id, principal: 'user', user_id: ref.user_id, agent_id: g.agent_id };
      }
      return { org_id: orgOf(client), auth_event_id: t.grantId, principal: 'user' };
    },
    features: {
      devInteractions: { enabled: false },
      introspection: {
        enabled: true as never,
        // An agent may introspect only its own tokens.
        allowedPolicy: async (_ctx, client, token) => client.clientId === token.clientId,
      },
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: the token must have been issued to the client asking; an agent revokes
        // only its own tokens. Writ's agents are all confidential, so another's token is refused
        // (invalid_request), never silently ignored. Ending a grant for a person is the account
        // page's and the admin API's job.
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId !== client.clientId) throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          return true;
        },
      },
      clientCredentials: { enabled: true },
      // oidc-provider's stock pages load web fonts from another site; these are Writ's own.
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => renderLogoutPage(ctx, form),
        postLogoutSuccessSource: async (ctx) => renderSignedOutPage(ctx),
      },
      dPoP: { enabled: true },
      // The EdDSA key in the keystore follows the key manager's rotations (current-key.ts).
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      ...(deps.ciba ? { ciba: deps.ciba.feature() } : {}),
      userinfo: { enabled: false },
      // External MCP clients (mcp-clients.ts): RFC 7591 registration of public clients, and
      // Client ID Metadata Documents fetched under the executor's egress rules.
      registration: { enabled: deps.mcp !== undefined, initialAccessToken: false, idFactory: () => newRegisteredClientId() },
      clientIdMetadataDocument: { enabled: deps.mcp !== undefined, ack: 'draft-02' as never },
      resourceIndicators: {
        enabled: true,
        // Delegated tokens are for Writ itself: they are spent at the token endpoint (exchange).
        // A token exchange without a resource names its audience, or else the executor.
        defaultResource: async (ctx) => {
          const params = ctx.oidc.params as Record<string, unknown> | undefined;
          if (params?.grant_type !== TOKEN_EXCHANGE_GRANT) return deps.issuer;
          const audience = params.audience;
          return (Array.isArray(audience) ? audience[0] : audience) ?? deps.executorResource;
        },
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resource, client) => {
          // The executor as an MCP server (RFC 8707): tokens bound to exactly that resource. Once
          // an external client's person has signed in, the scopes on offer are their org's ceiling
          // for MCP clients: consent asks again when the org widens it (step-up), never for the rest.
          if (deps.mcp && resource === deps.mcp.mcpResource) {
            const ref = isExternalClient(client) ? parseExternalAccountId(accountOf(ctx)) : undefined;
            const settings = ref && await acceptedSettings(deps.mcp, ref.org_id, client.clientId, ctx.oidc.route);
            const ceiling = settings?.tools.map((t) => TOOL_SCOPE_PREFIX + t);
            return { scope: (ceiling ?? (await deps.mcp.toolScopes())).join(' '), audience: resource, accessTokenTTL: deps.accessTokenTtl, accessTokenFormat: 'opaque' };
          }
          // A third-party MCP server (or API) an admin registered: its tokens are Writ capabilities
          // (JWT, audience exactly that resource) that @writ/verifier checks, revocation from the feed.
          if (deps.mcp && isExternalClient(client) && resource !== deps.issuer) {
            const rs = await directory.getResourceServer(resource);
            if (!rs) throw new errors.InvalidTarget('the resource is not a resource server registered with this authorization server');
            const ref = parseExternalAccountId(accountOf(ctx));
            if (ref && rs.org_id !== undefined && rs.org_id !== ref.org_id) throw new errors.InvalidTarget('the resource is not registered for this organisation');
            const ceiling = ref && (await acceptedSettings(deps.mcp, ref.org_id, client.clientId, ctx.oidc.route))?.tools.map((t) => TOOL_SCOPE_PREFIX + t);
            const asked = String((ctx.oidc.params as Record<string, unknown> | undefined)?.scope ?? '').split(' ').filter((s) => s.startsWith(TOOL_SCOPE_PREFIX));
            return {
              scope: (ceiling ?? asked).join(' '), audience: resource, accessTokenTTL: deps.accessTokenTtl,
              accessTokenFormat: 'jwt', jwt: { sign: { alg: 'EdDSA' } },
            };
          }
          // External clients are given tokens for MCP resources only, never one for the exchange.
          if (isExternalClient(client)) throw new errors.InvalidTarget('this client may ask for MCP resources only');
          if (resource !== deps.issuer) throw new errors.InvalidTarget('delegated tokens are issued for this authorization server only; use token exchange for other audiences');
          return { scope: toolScopes(client), audience: deps.issuer, accessTokenTTL: deps.accessTokenTtl, accessTokenFormat: 'opaque' };
        },
      },
      richAuthorizationRequests: {
        enabled: true,
        types: {
          tool_access: {
            async validate(ctx, detail, client) {
              const parsed = parseToolAccess(detail);
              if (!parsed.ok) throw new errors.InvalidAuthorizationDetails(parsed.reason);
              // Token exchange judges rights itself (and records the refusal on the tenant's log).
              if ((ctx.oidc.params as Record<string, unknown> | undefined)?.grant_type === TOKEN_EXCHANGE_GRANT) return;
              const answer = grantableRights({ requested: [parsed.detail], held: undefined, ceilings: ceilingsOf(client), nowMs: now() });
              if (!answer.ok) throw rightsError(answer, false);
            },
          },
        },
        authorizationDetailsForGrantSource: async (ctx) => ctx.oidc.grant?.rar ?? [],
        async authorizationDetailsForAccessToken(ctx, _token, source, grantType) {
          const held = grantType === 'client_credentials'
            ? (ctx.oidc as unknown as { orgGrant?: GrantRecord }).orgGrant?.authorization_details ?? []
            : ((source as { rar?: ToolAccessDetail[] } | undefined)?.rar ?? []);
          return tokenEndpointRights(ctx.oidc.params as Record<string, unknown> | undefined, held, ctx.oidc.client, now()) as never;
        },
        authorizationDetailsForIntrospection: async (_ctx, token) => ((token as unknown as { rar?: unknown[] }).rar ?? []) as never,
      },
    },
    // A third-party resource's JWT is a Writ capability (capability/claims.ts): the person as `sub`,
    // the org's agent for the external client as `client_id`.
    formats: {
      customizers: {
        async jwt(_ctx, _token, jwt) {
          const p = jwt.payload as Record<string, unknown>;
          if (typeof p.user_id !== 'string' || typeof p.agent_id !== 'string') return;
          p.sub = p.user_id;
          p.client_id = p.agent_id;
          delete p.user_id;
          delete p.agent_id;
        },
      },
    },
    renderError: async (ctx, out, error) => {
      // A refused metadata document says why, in words; the cause itself stays in the log.
      const why = metadataDocumentRefusal(error);
      renderErrorPage(ctx, { ...(out as { error: string; error_description?: string }), ...(why ? { error_description: why } : {}) });
    },
    ...(deps.mcp ? { fetch: egressCheckedFetch(deps.mcp) } : {}),
  };

  const provider = new Provider(deps.issuer, configuration);
  provider.proxy = true;

  compareClientSecretsByDigest(provider);

  registerClientCredentials(provider, grants, now);

  provider.on('server_error', (_ctx, err) => deps.logger.error('authorization server error', { err }));
  // RFC 9700 §4.11.2: anyone may register an external client, or publish a metadata document,
  // naming any https redirect_uri, so an error at /authorize sent back to that URI before the
  // person has seen Writ's page naming its host would make Writ an open redirector. Such errors
  // are shown on Writ's own error page; after the consent page (the resume path) they go back to
  // the client as OAuth says. oidc-provider emits this before it decides how to answer.
  provider.on('authorization.error', (ctx, err) => {
    if (ctx.path === AUTHORIZATION_PATH && isExternalClient(ctx.oidc?.client)) (err as { allow_redirect?: boolean }).allow_redirect = false;
  });
  // A registration belongs to no org, so it has no audit chain to go on: the log has it.
  provider.on('registration_create.success', (ctx, client) => deps.logger.info('mcp client registered', { client_id: client.clientId, ip: ctx.ip }));
  return provider;
}
