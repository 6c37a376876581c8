import Router from '@koa/router';
import { WritError } from '../errors/index.ts';
import type { Clock } from '../core/clock.ts';
import { clearCookie, cookieName, setCookie } from '../web/cookies.ts';
import { SESSION_COOKIE, type SessionCodec } from '../web/session.ts';
import { FLOW_COOKIE, FLOW_SECONDS, type FlowSealer } from './flow.ts';
import type { SingleSignOn } from './service.ts';
import type { BackchannelLogout } from './logout.ts';
import { readForm } from '../web/body.ts';
import { html, renderPage } from '../web/html.ts';
import { isWritError } from '../errors/index.ts';

export interface SsoRouteDeps {
  sso: SingleSignOn;
  flows: FlowSealer;
  sessions: SessionCodec;
  clock: Clock;
  issuer: string;
  secureCookies: boolean;
  /** The provider's back-channel logout. */
  logout: BackchannelLogout;
}

/**
 * The proof that this browser's session came from a single sign-on for the authorization
 * request's interaction `uid`: bound to the session's random id, so it is worthless elsewhere.
 */
export function interactionProof(sessions: SessionCodec, uid: string, sid: string): string {
  return sessions.csrf('sso-interaction', `${uid}.${sid}`);
}

/** A local path to return to; anything else (other hosts, `//x`, backslashes) is dropped. */
export function localPath(value: unknown): string | undefined {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') && !value.includes('\\') && value.length <= 2048 ? value : undefined;
}

/**
 * `/sso`: the start of a sign-in at the org's provider (by org id, or by email for home-realm
 * discovery) and the provider's callback. The callback reads its flow from the cookie the start
 * set in this browser, and nothing else.
 */
export function ssoRoutes(deps: SsoRouteDeps): Router {
  const { sso, flows } = deps;
  const router = new Router({ prefix: '/sso' });
  const flowCookie = cookieName(FLOW_COOKIE, deps.secureCookies);

  router.get('/start', async (ctx) => {
    // A sign-in another site sent this browser to would end signed in as whoever the provider
    // vouches for, the other site's own account included (login CSRF): from there it takes the
    // person's own click on a page of this site.
    const site = ctx.get('sec-fetch-site').toLowerCase();
    if (site && site !== 'same-origin' && site !== 'none') {
      const keep = (['org', 'email', 'next', 'interaction'] as const)
        .flatMap((k) => (typeof ctx.query[k] === 'string' ? [[k, (ctx.query[k] as string).slice(0, 2048)] as const] : []));
      const page = renderPage({
        title: 'Continue with single sign-on',
        body: html`<h1>Continue with single sign-on</h1>
          <p>Another site sent you here to sign in to Writ. Continue only if you meant to sign in.</p>
          <form method="get" action="/sso/start">
            ${keep.map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
            <button type="submit">Continue with single sign-on</button>
          </form>`,
      });
      ctx.set(page.headers);
      ctx.set('cache-control', 'no-store');
      ctx.body = page.body;
      return;
    }
    const org = typeof ctx.query.org === 'string' ? ctx.query.org.slice(0, 64) : undefined;
    const email = typeof ctx.query.email === 'string' ? ctx.query.email.trim().slice(0, 254) : undefined;
    const org_id = org || (email ? await sso.orgForEmail(email) : undefined);
    if (!org_id) throw new WritError('not_found', 'no organisation signs in this address with single sign-on; sign in with a password or ask your administrator');
    const interaction = typeof ctx.query.interaction === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(ctx.query.interaction) ? ctx.query.interaction : undefined;
    const next = localPath(ctx.query.next) ?? '/account';
    const { url, flow } = await sso.begin(org_id, { next, interaction, sensitive: interaction !== undefined, login_hint: email });
    setCookie(ctx, flowCookie, flows.seal(flow), { secure: deps.secureCookies, maxAgeSeconds: FLOW_SECONDS });
    ctx.set('cache-control', 'no-store');
    ctx.status = 303;
    ctx.redirect(url.href);
  });

  router.get('/callback', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const flow = flows.open(ctx.cookies.get(flowCookie), deps.clock.now());
    // One use: whatever happens next, this browser's flow is spent.
    clearCookie(ctx, flowCookie, deps.secureCookies);
    if (!flow) throw new WritError('access_denied', 'this sign-in was not started in this browser, or took too long; start again');
    const callback = new URL(`${deps.issuer}/sso/callback`);
    callback.search = ctx.querystring;
    const user = await sso.complete(flow, callback, { ip: ctx.ip });
    // The flow's org found this user; a user of any other org is never signed in by it.
    if (user.org_id !== flow.org_id) throw new WritError('access_denied', 'single sign-on refused: the user belongs to another organisation');
    const { value, session } = deps.sessions.issue(user.org_id, user.id);
    setCookie(ctx, SESSION_COOKIE, value, { secure: deps.secureCookies, maxAgeSeconds: deps.sessions.ttlSeconds });
    ctx.status = 303;
    // The authorization request's interaction is finished on its own path, where oidc-provider's
    // interaction cookie is sent; the proof ties that step to the session just issued.
    if (flow.interaction) {
      ctx.redirect(`/interaction/${encodeURIComponent(flow.interaction)}/sso?proof=${interactionProof(deps.sessions, flow.interaction, session.sid)}`);
      return;
    }
    ctx.redirect(flow.next);
  });

  // OpenID Connect Back-Channel Logout 1.0 §2.5: the provider, server to server; 200 when done,
  // 400 with an OAuth-style error when the token does not check out.
  router.post('/backchannel-logout/:org', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const form = await readForm(ctx.req);
    try {
      await deps.logout.accept(String(ctx.params.org).slice(0, 64), (form.get('logout_token') ?? '').slice(0, 16 * 1024));
      ctx.status = 200;
      ctx.body = '';
    } catch (err) {
      if (!isWritError(err)) throw err;
      ctx.status = 400;
      ctx.body = err.toOAuthBody();
    }
  });

  return router;
}
