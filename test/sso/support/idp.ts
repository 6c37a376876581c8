// An organisation's identity provider for the tests: a second, real oidc-provider on loopback
// (port 0), with a one-field sign-in page a browser fills in, consent given by the sign-in, and
// switches that make it misbehave the ways a hostile or broken provider would.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';

export interface IdpAccount {
  sub: string;
  preferred_username: string;
  email: string;
  name: string;
  groups: string[];
}

export interface IdpClient {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  post_logout_redirect_uris?: string[];
  backchannel_logout_uri?: string;
  token_endpoint_auth_method?: string;
  jwks?: { keys: Record<string, unknown>[] };
}

export interface TestIdp {
  issuer: string;
  provider: Provider;
  /** Misbehaviours, switched on by a test: the answer carries another `nonce` or `iss`. */
  tamper: { nonce?: string | undefined; iss?: string | undefined };
  /**
   * While set, the redirect back to the client is held (answered with a page) and handed to this
   * function instead, so a test can carry it elsewhere or alter it.
   */
  hold?: ((callback: string) => void) | undefined;
  /** Sign-ins that completed, by account id. */
  signIns: string[];
  close(): Promise<void>;
}

export async function startIdp(options: { accounts: IdpAccount[]; clients: IdpClient[] }): Promise<TestIdp> {
  const accounts = new Map(options.accounts.map((a) => [a.sub, a]));
  const byUsername = new Map(options.accounts.map((a) => [a.preferred_username, a]));
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({ token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'ES256', ...c })) as never,
    jwks: { keys: [{ ...signing, kid: 'idp-1', alg: 'ES256', use: 'sig' }] } as never,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['preferred_username', 'name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true }, backchannelLogout: { enabled: true } },
    cookies: { keys: ['idp-test-cookie-key'] },
    async findAccount(_ctx, sub) {
      const a = accounts.get(sub);
      if (!a) return undefined;
      return { accountId: sub, claims: async () => ({ ...a, email_verified: true }) };
    },
    interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
    clientBasedCORS: () => true,
    // Its back-channel logout calls Writ on loopback, which oidc-provider's fetch refuses by default.
    fetch: (url: string | URL | Request, options?: RequestInit) => globalThis.fetch(url, { ...options, dispatcher: undefined } as RequestInit),
  });
  const idp: TestIdp = { issuer, provider, tamper: {}, signIns: [], close: async () => undefined };

  // A misbehaving provider: the nonce it was asked for is swapped before it is bound to the code,
  // and the redirect back names another issuer.
  provider.use(async (ctx, next) => {
    if (ctx.path === '/auth' && idp.tamper.nonce && ctx.query.nonce) {
      const url = new URL(ctx.href);
      url.searchParams.set('nonce', idp.tamper.nonce);
      ctx.url = url.pathname + url.search;
    }
    await next();
    const location = ctx.response.get('location');
    if (location && location.includes('code=')) {
      const url = new URL(location);
      if (idp.tamper.iss) url.searchParams.set('iss', idp.tamper.iss);
      if (idp.hold) {
        idp.hold(url.href);
        ctx.remove('location');
        ctx.status = 200;
        ctx.type = 'html';
        ctx.body = '<!doctype html><html lang="en"><title>IdP</title><main><h1>Held</h1></main></html>';
      } else if (idp.tamper.iss) {
        ctx.redirect(url.href);
      }
    }
  });

  provider.use(async (ctx: KoaContextWithOIDC, next) => {
    const m = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(ctx.path);
    if (!m) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html lang="en"><title>IdP</title><main><h1>Sign in to the identity provider</h1>
        <form method="post"><label for="u">Username</label><input id="u" name="username"><button type="submit">Continue</button></form></main></html>`;
      return;
    }
    const form = new URLSearchParams(await new Promise<string>((resolve) => { let b = ''; ctx.req.on('data', (c) => { b += c; }); ctx.req.on('end', () => resolve(b)); }));
    const account = byUsername.get(form.get('username') ?? '');
    if (!account) { ctx.status = 401; ctx.body = 'unknown user'; return; }
    const grant = new provider.Grant({ accountId: account.sub, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    idp.signIns.push(account.sub);
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: account.sub }, consent: { grantId } }, { mergeWithLastSubmission: false });
    ctx.respond = false;
  });

  server.on('request', provider.callback());
  idp.close = () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
  return idp;
}
