// oidc-provider settings for the demo provider: authorization code + PKCE (S256) only, opaque
// access tokens for one resource server (the notes API), refresh tokens always issued and,
// by default, rotated on every use.
import { generateKeyPairSync } from 'node:crypto';
import { newSecret } from '../../core/ids.ts';
import { errorPage } from './html.ts';
import type { OidcContext } from './oidc.ts';
import type { DemoStore } from './store.ts';

export interface DemoClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  token_endpoint_auth_method?: 'client_secret_post' | 'client_secret_basic';
}

export interface ConfigurationInput {
  store: DemoStore;
  clients: DemoClient[];
  users: readonly string[];
  scopes: readonly string[];
  /** Resource indicator of the notes API; the default resource of every request. */
  resource: string;
  accessTokenTtlSeconds: number;
  rotateRefreshTokens: boolean;
  invalidTarget: new (description?: string) => Error;
}

const DAY = 24 * 60 * 60;

export function demoConfiguration(input: ConfigurationInput): Record<string, unknown> {
  // A fresh signing key per start: only ID tokens (when a client asks for `openid`) use it.
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

  return {
    adapter: (model: string) => input.store.adapterFor(model),
    clients: input.clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      redirect_uris: c.redirect_uris,
      token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    })),
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    jwks: { keys: [{ ...signingKey, kid: `demo-${newSecret(6)}`, use: 'sig', alg: 'ES256' }] },
    cookies: { keys: [newSecret()] },
    findAccount: async (_ctx: unknown, sub: string) =>
      input.users.includes(sub) ? { accountId: sub, claims: async () => ({ sub }) } : undefined,
    interactions: { url: async (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    // RFC 7636: every authorization request must carry an S256 code challenge.
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access'],
    claims: { openid: ['sub'] },
    features: {
      devInteractions: { enabled: false },
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: a client may revoke only the tokens issued to it.
        allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) =>
          token.clientId === client.clientId,
      },
      resourceIndicators: {
        enabled: true,
        // Clients need not send `resource` (RFC 8707): every request is for the notes API.
        defaultResource: async () => input.resource,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
          if (indicator !== input.resource) throw new input.invalidTarget('unknown resource');
          return {
            scope: input.scopes.join(' '),
            accessTokenFormat: 'opaque',
            accessTokenTTL: input.accessTokenTtlSeconds,
          };
        },
      },
    },
    // Refresh tokens for every client that may use them, not only on `offline_access`, and
    // not tied to the browser session: the vault holds them long after the user left.
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    rotateRefreshToken: () => input.rotateRefreshTokens,
    ttl: {
      AccessToken: input.accessTokenTtlSeconds,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      RefreshToken: 14 * DAY,
      Grant: 14 * DAY,
      Session: DAY,
      Interaction: 30 * 60,
    },
    clientBasedCORS: () => false,
    renderError: async (ctx: OidcContext, out: { error: string; error_description?: string }) => {
      ctx.type = 'html';
      ctx.body = errorPage(out.error, out.error_description);
    },
  };
}
