import Router from '@koa/router';
import type { Context } from 'koa';
import type { DirectoryStore } from '../storage/ports/directory.ts';
import type { GrantStore } from '../storage/ports/grants.ts';
import type { GrantService } from '../grants/service.ts';
import { WritError } from '../errors/index.ts';
import { readForm } from '../web/body.ts';
import { accountNav, html, table, when } from '../web/html.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import type { ConnectedAccountRecord } from '../storage/ports/vault.ts';
import { SESSION_COOKIE, type SessionCodec, type UserSession } from '../web/session.ts';
import { clearCookie, endPreSession, preSession, readPreSession, setCookie } from '../web/cookies.ts';
import { describeDetail, send, signInPage } from './pages.ts';
import { ssoStartUrl, type SignIn } from './signin.ts';

export interface AccountDeps {
  directory: DirectoryStore;
  grants: GrantStore;
  grantService: GrantService;
  signIn: SignIn;
  sessions: SessionCodec;
  secureCookies: boolean;
  /** The user's own connected accounts; the page leaves them out when this is absent. */
  connections?: UserConnections | undefined;
  clock?: Clock | undefined;
}

export type ConnectionView = Pick<ConnectedAccountRecord, 'id' | 'connector' | 'status' | 'scopes' | 'created_at' | 'expires_at' | 'last_error'> & {
  /** Where the user connects it again, when it is not working (pending, revoked, expired, in error). */
  reconnect_url?: string | undefined;
};

/** A user's own provider accounts, as the connect flow keeps them (wired by the composition root). */
export interface UserConnections {
  list(org_id: string, user_id: string): Promise<ConnectionView[]>;
  /**
   * Ends one of the user's own connections the way the connect flow does (the token revoked at the
   * provider where it can be, the account removed, `account.disconnected` recorded with the user
   * as actor); false when the user has no such connection.
   */
  disconnect(org_id: string, user_id: string, account_id: string): Promise<boolean>;
}

/**
 * A signed-in user's own page: the agents they delegated to, with a Revoke button each, and the
 * provider accounts connected for them, with a Disconnect button each.
 */
export function accountRoutes(deps: AccountDeps): Router {
  const { directory, sessions } = deps;
  const clock = deps.clock ?? systemClock;
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
    // An org on single sign-on sends the person to its identity provider (directly, when it has switched passwords off).
    const ways = await deps.signIn.methods.methods(org.id);
    const ssoUrl = ways.sso ? ssoStartUrl(org.id, next ?? '/account') : undefined;
    if (ssoUrl && !ways.passwords && !error) {
      ctx.status = 303;
      ctx.redirect(ssoUrl);
      return;
    }
    const csrf = sessions.csrf('account-signin', signInBinding(preSession(ctx, deps.secureCookies), org.id));
    send(ctx, 'Sign in', signInPage({ action, csrf, orgName: org.name, orgField: org.id, error, ssoUrl, passwords: ways.passwords }), status);
  }

  router.get('/', async (ctx) => {
    const session = current(ctx);
    const wanted = typeof ctx.query.org === 'string' ? ctx.query.org : '';
    if (!session || (wanted && wanted !== session.org_id)) {
      const org = wanted;
      if (!org) {
        // Home-realm discovery: the work email's domain names the org whose identity provider signs it in.
        const next = nextOf(ctx);
        send(ctx, 'Sign in', html`
          <h1>Sign in to Writ</h1>
          <form method="get" action="/sso/start">
            ${next ? html`<input type="hidden" name="next" value="${next}">` : ''}
            <label for="email">Work email</label>
            <input type="email" id="email" name="email" autocomplete="email" required>
            <button type="submit">Continue with single sign-on</button>
          </form>
          <p class="muted">Signing in with a password? Open this page with <code>?org=</code> and your organisation's id, or sign in through an application.</p>`);
        return;
      }
      await showSignIn(ctx, org);
      return;
    }
    const user = await directory.getUser(session.org_id, session.user_id);
    const org = await directory.getOrg(session.org_id);
    if (!user || !org) throw new WritError('unauthorized', 'your session no longer matches a user');
    const [grants, agentList, connections] = await Promise.all([
      deps.grants.listGrants(session.org_id, { user_id: session.user_id }),
      directory.listAgents(session.org_id),
      deps.connections?.list(session.org_id, session.user_id),
    ]);
    const agents = new Map(agentList.map((a) => [a.client_id, a.name]));
    const csrf = sessions.csrf('account', session.sid);
    const now = clock.now();
    // A fixed notice: nothing from the query string is shown back.
    const disconnected = ctx.query.disconnected === '1';
    send(ctx, 'Your agents', html`
      <h1>${user.username} at ${org.name}</h1>
      ${user.roles.includes('admin') ? html`<p><a href="/console">Admin console of ${org.name}</a></p>` : ''}
      ${disconnected ? html`<p role="status">The account is disconnected; no agent can use it any more.</p>` : ''}
      <section aria-labelledby="agents">
      <h2 id="agents">Agents you have allowed to act for you</h2>
      ${grants.length === 0 ? html`<p class="muted">None. Nothing can act for you.</p>` : table(grants, [
        { label: 'Agent', rowHeader: true, cell: (g) => html`${agents.get(g.agent_id) ?? g.agent_id}<br><code>${g.agent_id}</code>` },
        { label: 'Tools', cell: (g) => html`<ul>${g.authorization_details.map((d) => describeDetail(d, now))}</ul>` },
        { label: 'Since', cell: (g) => when(g.created_at, now) },
        { label: 'Action', actions: true, cell: (g) => html`<form method="post" action="/account/grants/${encodeURIComponent(g.id)}/revoke">
          <input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="danger" aria-label="Revoke ${agents.get(g.agent_id) ?? g.agent_id} (grant ${g.id})">Revoke</button></form>` },
      ])}
      </section>
      ${connections === undefined ? '' : html`
      <section aria-labelledby="connections">
      <h2 id="connections">Your connected accounts</h2>
      <p class="muted">Agents you allow act through these accounts inside Writ; they never receive the credentials.</p>
      ${connections.length === 0 ? html`<p>No provider account is connected for you.</p>` : table(connections, [
        { label: 'Service', rowHeader: true, cell: (a) => html`${a.connector}<br><code>${a.id}</code>` },
        { label: 'Status', cell: (a) => html`<strong>${a.status}</strong>${a.last_error ? html`<br><span class="muted">${a.last_error}</span>` : ''}` },
        { label: 'Scopes', cell: (a) => (a.scopes.length ? a.scopes.map((x, i) => html`${i ? ', ' : ''}<code>${x}</code>`) : html`<span class="muted">none</span>`) },
        { label: 'Connected', cell: (a) => when(a.created_at, now) },
        { label: 'Action', actions: true, cell: (a) => html`${a.reconnect_url ? html`<a href="${a.reconnect_url}">Reconnect ${a.connector}</a> ` : ''}<form method="post" action="/account/connections/${encodeURIComponent(a.id)}/disconnect">
          <input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="danger" aria-label="Disconnect ${a.connector} (${a.id})">Disconnect</button></form>` },
      ])}
      <p><a href="/connect">Connect a service</a></p>
      </section>`}`, 200, { wide: true, nav: accountNav('/account', { username: user.username, orgName: org.name, admin: user.roles.includes('admin') }, csrf) });
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
      const error = result.reason === 'locked' ? 'Too many failed attempts. Try again later.'
        : result.reason === 'sso_only' ? 'This organisation signs in through its identity provider only.' : 'Wrong username or password.';
      await showSignIn(ctx, org_id, error, result.reason === 'locked' ? 429 : 401);
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

  router.post('/connections/:id/disconnect', async (ctx) => {
    const session = current(ctx);
    if (!session) throw new WritError('unauthorized', 'sign in first');
    const form = await readForm(ctx.req);
    if (!sessions.checkCsrf('account', session.sid, form.get('csrf'))) throw new WritError('forbidden', 'missing or invalid CSRF token');
    const id = String(ctx.params.id).slice(0, 64);
    const listed = await deps.connections?.list(session.org_id, session.user_id);
    const account = listed?.find((a) => a.id === id);
    // Only the user's own connections: another user's or the org's answers the same as a missing one.
    if (!deps.connections || !account || !(await deps.connections.disconnect(session.org_id, session.user_id, account.id))) {
      throw new WritError('not_found', 'no such connection');
    }
    ctx.status = 303;
    ctx.redirect('/account?disconnected=1');
  });

  router.post('/signout', async (ctx) => {
    const session = current(ctx);
    const form = await readForm(ctx.req);
    if (session && !sessions.checkCsrf('account', session.sid, form.get('csrf'))) throw new WritError('forbidden', 'missing or invalid CSRF token');
    clearCookie(ctx, SESSION_COOKIE, deps.secureCookies);
    ctx.status = 303;
    const after = session ? `/account?org=${encodeURIComponent(session.org_id)}` : '/';
    // An org on single sign-on: the provider's own logout too, which returns here.
    ctx.redirect((session && await deps.signIn.methods.endSessionUrl(session.org_id, after)) ?? after);
  });

  return router;
}
