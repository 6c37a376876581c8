import Router from '@koa/router';
import type { Context } from 'koa';
import type { DirectoryStore } from '../storage/ports/directory.ts';
import type { GrantStore } from '../storage/ports/grants.ts';
import type { GrantService } from '../grants/service.ts';
import { WritError } from '../errors/index.ts';
import { readForm } from '../web/body.ts';
import { html } from '../web/html.ts';
import { SESSION_COOKIE, type SessionCodec, type UserSession } from '../web/session.ts';
import { clearCookie, endPreSession, preSession, readPreSession, setCookie } from '../web/cookies.ts';
import { describeDetail, send, signInPage } from './pages.ts';
import type { SignIn } from './signin.ts';

export interface AccountDeps {
  directory: DirectoryStore;
  grants: GrantStore;
  grantService: GrantService;
  signIn: SignIn;
  sessions: SessionCodec;
  secureCookies: boolean;
}

/** A signed-in user's own page: the agents they delegated to, with a Revoke button each. */
export function accountRoutes(deps: AccountDeps): Router {
  const { directory, sessions } = deps;
  const router = new Router({ prefix: '/account' });

  const current = (ctx: Context): UserSession | undefined => sessions.read(ctx.cookies.get(SESSION_COOKIE));

  /** A local path to return to after sign-in; anything else (other hosts, `//x`) is dropped. */
  const nextOf = (ctx: Context): string | undefined => {
    const next = ctx.query.next;
    return typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.includes('\\') ? next : undefined;
  };

  // The sign-in form's token is bound to this browser's pre-session cookie and to the org: a
  // token served to one browser (an attacker's) is worthless with another browser's cookie.
  const signInBinding = (pre: string, org_id: string) => `${pre}.${org_id}`;

  async function showSignIn(ctx: Context, org_id: string, error?: string, status = 200) {
    const org = await directory.getOrg(org_id);
    if (!org) throw new WritError('not_found', 'no such organisation');
    const next = nextOf(ctx);
    const action = next ? `/account/signin?next=${encodeURIComponent(next)}` : '/account/signin';
    const csrf = sessions.csrf('account-signin', signInBinding(preSession(ctx, deps.secureCookies), org.id));
    send(ctx, 'Sign in', signInPage({ action, csrf, orgName: org.name, orgField: org.id, error }), status);
  }

  router.get('/', async (ctx) => {
    const session = current(ctx);
    const wanted = typeof ctx.query.org === 'string' ? ctx.query.org : '';
    if (!session || (wanted && wanted !== session.org_id)) {
      const org = wanted;
      if (!org) throw new WritError('invalid_request', 'open this page with ?org=<your organisation id>, or sign in through an application');
      await showSignIn(ctx, org);
      return;
    }
    const user = await directory.getUser(session.org_id, session.user_id);
    const org = await directory.getOrg(session.org_id);
    if (!user || !org) throw new WritError('unauthorized', 'your session no longer matches a user');
    const grants = await deps.grants.listGrants(session.org_id, { user_id: session.user_id });
    const agents = new Map((await directory.listAgents(session.org_id)).map((a) => [a.client_id, a.name]));
    const csrf = sessions.csrf('account', session.sid);
    send(ctx, 'Your agents', html`
      <h1>${user.username} at ${org.name}</h1>
      ${user.roles.includes('admin') ? html`<p><a href="/console">Admin console of ${org.name}</a></p>` : ''}
      <h2>Agents you have allowed to act for you</h2>
      ${grants.length === 0 ? html`<p class="muted">None. Nothing can act for you.</p>` : html`
      <table><thead><tr><th>Agent</th><th>Tools</th><th>Since</th><th></th></tr></thead><tbody>
      ${grants.map((g) => html`<tr>
        <td>${agents.get(g.agent_id) ?? g.agent_id}<br><code>${g.agent_id}</code></td>
        <td><ul>${g.authorization_details.map(describeDetail)}</ul></td>
        <td>${new Date(g.created_at).toUTCString()}</td>
        <td><form method="post" action="/account/grants/${encodeURIComponent(g.id)}/revoke">
          <input type="hidden" name="csrf" value="${csrf}"><button type="submit">Revoke</button></form></td>
      </tr>`)}
      </tbody></table>`}
      <form method="post" action="/account/signout"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Sign out</button></form>`);
  });

  router.post('/signin', async (ctx) => {
    const form = await readForm(ctx.req);
    const org_id = form.get('org') ?? '';
    const pre = readPreSession(ctx, deps.secureCookies);
    if (!pre || !sessions.checkCsrf('account-signin', signInBinding(pre, org_id), form.get('csrf'))) {
      throw new WritError('forbidden', 'missing or invalid CSRF token; open the sign-in page again');
    }
    const username = (form.get('username') ?? '').slice(0, 128);
    const result = await deps.signIn.attempt(org_id, username, (form.get('password') ?? '').slice(0, 1024), { ip: ctx.ip });
    if (!result.ok) {
      await showSignIn(ctx, org_id, result.reason === 'locked' ? 'Too many failed attempts. Try again later.' : 'Wrong username or password.', result.reason === 'locked' ? 429 : 401);
      return;
    }
    const { value } = sessions.issue(result.user.org_id, result.user.id);
    setCookie(ctx, SESSION_COOKIE, value, { secure: deps.secureCookies, maxAgeSeconds: sessions.ttlSeconds });
    endPreSession(ctx, deps.secureCookies);
    ctx.status = 303;
    ctx.redirect(nextOf(ctx) ?? '/account');
  });

  router.post('/grants/:id/revoke', async (ctx) => {
    const session = current(ctx);
    if (!session) throw new WritError('unauthorized', 'sign in first');
    const form = await readForm(ctx.req);
    if (!sessions.checkCsrf('account', session.sid, form.get('csrf'))) throw new WritError('forbidden', 'missing or invalid CSRF token');
    const grant = await deps.grants.getGrant(session.org_id, String(ctx.params.id));
    // Only the user's own grants: another user's id answers the same as a missing one.
    if (!grant || grant.user_id !== session.user_id) throw new WritError('not_found', 'no such grant');
    await deps.grantService.revoke(session.org_id, { id: grant.id }, { kind: 'user', user_id: session.user_id }, 'revoked by the user');
    ctx.status = 303;
    ctx.redirect('/account');
  });

  router.post('/signout', async (ctx) => {
    const session = current(ctx);
    const form = await readForm(ctx.req);
    if (session && !sessions.checkCsrf('account', session.sid, form.get('csrf'))) throw new WritError('forbidden', 'missing or invalid CSRF token');
    clearCookie(ctx, SESSION_COOKIE, deps.secureCookies);
    ctx.status = 303;
    ctx.redirect(session ? `/account?org=${encodeURIComponent(session.org_id)}` : '/');
  });

  return router;
}
