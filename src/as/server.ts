import type { Middleware } from 'koa';
import compose from 'koa-compose';
import type Provider from 'oidc-provider';
import { createHash } from 'node:crypto';
import type { ExchangeDeps } from '../exchange/rfc8693.ts';
import type { ReplayStore } from '../storage/ports/replay.ts';
import type { CapabilityStore } from '../storage/ports/capabilities.ts';
import type { GrantService } from '../grants/service.ts';
import { createProvider, type ProviderDeps } from './provider.ts';
import { accessTokenResolver, registerTokenExchange, resourceTokenResolver } from './grants/token-exchange.ts';
import { exchangeToken, type ExchangeRequest, type ExchangeResponse } from '../exchange/rfc8693.ts';
import type { Subject } from '../exchange/subject.ts';
import { endGrantsWithRefreshTokens } from './refresh-revocation.ts';
import { capabilityIntrospection } from './introspection.ts';
import { registrationLimiter } from './mcp-clients.ts';
import { refreshGrace } from './refresh-grace.ts';
import { registerJwtBearer, type AssertionCheck } from './grants/jwt-bearer.ts';
import type { IdJagIssueDeps } from '../exchange/id-jag.ts';

// The authorization server as one unit: oidc-provider with Writ's grants (token exchange,
// refresh-token revocation ending the grant), DPoP replay claimed in the shared store, RFC 8414
// metadata with Writ's fields, the JWKS read from the key manager, and RFC 7662 introspection of
// capabilities. The composition root mounts what this returns after its own routes.

/** How long a rotated refresh token may be retried once, for a client that lost the answer. */
const REFRESH_GRACE_SECONDS = 30;

export interface AuthorizationServerDeps extends Omit<ProviderDeps, 'capabilityKey'> {
  replay: ReplayStore;
  capabilities: CapabilityStore;
  grantService: GrantService;
  /** The token exchange's collaborators (RFC 8693), less what the provider itself resolves. */
  exchange: Omit<ExchangeDeps, 'resolveAccessToken' | 'issuer' | 'clock' | 'directory' | 'grants' | 'capabilities' | 'defaultAudience'>;
  /** The current public JWKS (rotations are published at once) and the Biscuit root public keys. */
  publicKeys: () => { jwks: Array<Record<string, unknown>>; biscuit: unknown };
  revocationFeedEndpoint: string;
  /**
   * Cross-app access (ID-JAG): assertions from an org's identity provider accepted at /token
   * (jwt-bearer), and the org's policy for assertions Writ issues by token exchange.
   */
  identityAssertions: { accept: AssertionCheck; crossApp: IdJagIssueDeps['crossApp'] };
}

export interface AuthorizationServer {
  provider: Provider;
  /** Discovery, JWKS, introspection and every oidc-provider endpoint. */
  middleware: Middleware;
  /** RFC 8693 exchange for a caller inside the server (the MCP server's tools/call), without HTTP. */
  exchange: (req: ExchangeRequest) => Promise<ExchangeResponse>;
  /** An access token presented to one resource (RFC 8707): its subject, when its audience is exactly that resource. */
  resolveResourceToken: (token: string, resource: string) => Promise<(Subject & { client_id: string }) | undefined>;
}

export function authorizationServer(deps: AuthorizationServerDeps): AuthorizationServer {
  const provider = createProvider({ ...deps, capabilityKey: () => deps.exchange.keys.capabilitySigningKey });
  // RFC 9449 §11.1 at /token: oidc-provider asks its ReplayDetection model whether a DPoP proof (or
  // client assertion) id is new with a find, then a save, which two workers can both pass. Make it
  // one atomic claim in the store every process shares.
  provider.ReplayDetection.unique = (iss, jti, exp) =>
    deps.replay.claimOnce(`oidc:${createHash('sha256').update(`${iss}\0${jti}`).digest('base64url')}`, new Date(exp * 1000));

  endGrantsWithRefreshTokens(provider, deps.grantService);
  refreshGrace(provider, { oidc: deps.oidc, replay: deps.replay, graceSeconds: REFRESH_GRACE_SECONDS, now: () => deps.clock.now() });
  const exchangeDeps = registerTokenExchange(provider, {
    ...deps.exchange,
    issuer: deps.issuer, clock: deps.clock, directory: deps.directory, grants: deps.grants, capabilities: deps.capabilities,
    defaultAudience: deps.executorResource,
  }, deps.identityAssertions.crossApp);
  registerJwtBearer(provider, {
    issuer: deps.issuer, clock: deps.clock, accessTokenTtl: deps.accessTokenTtl, grantService: deps.grantService,
    policies: deps.exchange.policies, assertions: deps.identityAssertions.accept,
  });

  // RFC 7591 registration is open to any client, so it is rate-limited per address.
  const registrations = deps.mcp ? registrationLimiter(deps.mcp.registrationsPerMinute ?? 10, () => deps.clock.now()) : undefined;
  const registrationLimit: Middleware = async (ctx, next) => {
    if (!registrations || ctx.path !== '/reg' || ctx.method !== 'POST') return next();
    const answer = registrations(ctx.ip);
    if (!answer.ok) {
      ctx.status = 429;
      ctx.set('retry-after', String(answer.retryAfter));
      ctx.set('cache-control', 'no-store');
      ctx.body = { error: 'invalid_request', error_description: 'too many registrations from this address; try again later' };
      return;
    }
    return next();
  };

  // OpenID CIBA: the approval of one call, ending in a single-use capability for it.
  if (deps.ciba) {
    deps.ciba.bind({
      ...deps.exchange, issuer: deps.issuer, clock: deps.clock, directory: deps.directory, grants: deps.grants, capabilities: deps.capabilities,
      defaultAudience: deps.executorResource, resolveAccessToken: accessTokenResolver(provider),
    });
    deps.ciba.register(provider);
  }

  // RFC 8414 metadata: oidc-provider's discovery document plus Writ's own fields.
  // An issuer with a path is discovered at the path-aware locations too (RFC 8414 §3.1, OpenID
  // Connect Discovery 1.0 §4 as MCP clients try it), where a proxy routes them to Writ.
  const issuerPath = new URL(deps.issuer).pathname.replace(/\/$/, '');
  const metadataPaths = new Set(['/.well-known/oauth-authorization-server', ...(issuerPath ? [`/.well-known/oauth-authorization-server${issuerPath}`, `/.well-known/openid-configuration${issuerPath}`] : [])]);
  const discovery: Middleware = async (ctx, next) => {
    const rfc8414 = metadataPaths.has(ctx.path);
    if (rfc8414) ctx.path = '/.well-known/openid-configuration';
    await next();
    if ((rfc8414 || ctx.path === '/.well-known/openid-configuration') && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      Object.assign(ctx.body as Record<string, unknown>, {
        biscuit_public_keys: deps.publicKeys().biscuit,
        revocation_feed_endpoint: deps.revocationFeedEndpoint,
        // CIBA without user codes: the person approves on their own signed-in page.
        ...(deps.ciba ? { backchannel_user_code_parameter_supported: false } : {}),
      });
    }
  };

  // The JWKS is read from the key manager on every request, so a rotated key is published at
  // once and a retired one disappears at its retire time. oidc-provider's own keystore is fixed at
  // start-up and keeps signing ID tokens with the RS256 key it started with: that key stays listed.
  const providerRs256 = deps.jwks.keys.find((k) => k.alg === 'RS256');
  const jwks: Middleware = async (ctx, next) => {
    if (ctx.path !== '/jwks' || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const published = deps.publicKeys().jwks;
    if (providerRs256 && !published.some((k) => k.kid === providerRs256.kid)) published.push(providerRs256);
    ctx.type = 'application/jwk-set+json; charset=utf-8';
    ctx.body = { keys: published };
  };

  const introspection = capabilityIntrospection({
    issuer: deps.issuer, clock: deps.clock, keys: deps.exchange.keys, capabilities: deps.capabilities, grants: deps.grants, isAudience: deps.exchange.isAudience,
  });

  // oidc-provider is itself a Koa app: its middleware runs inside ours, last.
  const oidc = (provider as unknown as { middleware: Middleware[] }).middleware;
  return {
    provider, middleware: compose([registrationLimit, discovery, jwks, introspection, ...oidc]),
    exchange: (req) => exchangeToken(exchangeDeps, req),
    resolveResourceToken: resourceTokenResolver(provider),
  };
}
