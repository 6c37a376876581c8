import Router from '@koa/router';
import type { Context } from 'koa';
import type { AuditLog } from '../audit/log.ts';
import type { ConnectorCatalog } from '../connectors/catalog.ts';
import { WritError } from '../errors/index.ts';
import type { DirectoryStore } from '../storage/ports/directory.ts';
import type { Vault } from '../vault/service.ts';
import { parseConnectState } from '../vault/service.ts';
import { disconnectAccount } from '../connectors/disconnect.ts';
import { readForm } from '../web/body.ts';
import { clearCookie, cookieName, setCookie } from '../web/cookies.ts';
import type { SafeAccount } from '../vault/records.ts';
import type { AccountOwner } from '../storage/ports/vault.ts';
import { accountNav, html, renderPage, table, when, type Page, type SafeHtml } from '../web/html.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { SESSION_COOKIE, type SessionCodec, type UserSession } from '../web/session.ts';

export interface ConnectDeps {
  issuer: string;
  directory: DirectoryStore;
  vault: Vault;
  catalog: ConnectorCatalog;
  sessions: SessionCodec;
  audit: AuditLog;
  /** True when the issuer is https. */
  secureCookies?: boolean;
  fetch?: typeof fetch;
  clock?: Clock;
}

// DESIGN flow 5. A connect link is bound to one user (or to the org): opening it needs a Writ
// session as that user (or an org admin), so a forwarded link cannot attach someone else's
// account; the provider's tokens go from the callback straight into the vault.
//
// Opening a link (GET) changes nothing: it shows whose Writ account the provider account will
// join, and the connection starts only when that page is posted back with the session's CSRF
// token. The start leaves a cookie bound to the session and to the authorization's `state`, and
// the callback completes only in the browser holding it (one connection at a time per browser).

export function connectLink(issuer: string, org_id: string, account_id: string): string {
  return `${issuer}/connect/${encodeURIComponent(account_id)}?org=${encodeURIComponent(org_id)}`;
}

export function newConnectionLink(issuer: string, org_id: string, connector: string): string {
  return `${issuer}/connect/new?org=${encodeURIComponent(org_id)}&connector=${encodeURIComponent(connector)}`;
}

function page(ctx: Context, title: string, body: SafeHtml, status = 200, layout: Pick<Page, 'nav' | 'wide'> = {}) {
  const p = renderPage({ title, body, ...layout });
  ctx.status = status;
  ctx.set(p.headers);
  ctx.body = p.body;
}

/** Ends a connection: the token revoked at the provider where it can be, the account removed, the user's act recorded. */
async function endConnection(deps: Pick<ConnectDeps, 'vault' | 'catalog' | 'audit'>, org_id: string, user_id: string, account: SafeAccount): Promise<void> {
  const result = await disconnectAccount(deps.vault, deps.catalog, org_id, account.id, account.connector);
  await deps.audit.record(org_id, { type: 'account.disconnected', actor: { kind: 'user', user_id }, subject: { account_id: account.id, connector: account.connector }, details: { upstream: result?.upstream } });
}

/** A user's own connections, for the account page: listed, and ended the way this flow ends them. */
export function userConnections(deps: Pick<ConnectDeps, 'vault' | 'catalog' | 'audit'>) {
  const own = (user_id: string) => ({ owner: { kind: 'user' as const, user_id } });
  return {
    list: async (org_id: string, user_id: string) => (await deps.vault.listAccounts(org_id, own(user_id)))
      .map((a) => ({ ...a, reconnect_url: a.status === 'active' ? undefined : connectLink('', org_id, a.id) })),
    async disconnect(org_id: string, user_id: string, account_id: string): Promise<boolean> {
      const account = await deps.vault.getAccount(org_id, account_id);
      if (!account || account.owner.kind !== 'user' || account.owner.user_id !== user_id) return false;
      await endConnection(deps, org_id, user_id, account);
      return true;
    },
  };
}

const CSRF = 'connections';
const CALLBACK_BINDING = 'connect-callback';
/** How long the provider's sign-in and consent may take before the start must be repeated. */
const CONNECT_SECONDS = 15 * 60;

export function connectRoutes(deps: ConnectDeps): Router {
  const { vault, sessions, directory } = deps;
  const clock = deps.clock ?? systemClock;
  const secure = deps.secureCookies ?? false;
  const router = new Router({ prefix: '/connect' });
  const redirect_uri = `${deps.issuer}/connect/callback`;
  const bindingCookie = cookieName('writ_connect', secure);

  const currentSession = (ctx: Context) => sessions.read(ctx.cookies.get(SESSION_COOKIE));

  /** The account's header on a connect page, for the person `user` of `org` signed in as `session`. */
  const header = (session: UserSession, user: { username: string; roles: string[] }, org: { name: string }) =>
    accountNav('/connect', { username: user.username, orgName: org.name, admin: user.roles.includes('admin') }, sessions.csrf('account', session.sid));

  /** The same, looked up for a page that has only the session. */
  async function headerOf(session: UserSession) {
    const [user, org] = await Promise.all([directory.getUser(session.org_id, session.user_id), directory.getOrg(session.org_id)]);
    return user && org ? header(session, user, org) : undefined;
  }

  /** The session, or a redirect to sign in to the right org and come back. */
  function requireSession(ctx: Context, org_id: string): UserSession | undefined {
    const session = currentSession(ctx);
    if (session && session.org_id === org_id) return session;
    ctx.status = 303;
    ctx.redirect(`/account?org=${encodeURIComponent(org_id)}&next=${encodeURIComponent(ctx.originalUrl)}`);
    return undefined;
  }

  /** A posted form from the session's own page: the session of `org`, and its CSRF token. */
  async function postedBySession(ctx: Context): Promise<{ session: UserSession; form: URLSearchParams }> {
    const form = await readForm(ctx.req);
    const session = currentSession(ctx);
    if (!session || (form.has('org') && form.get('org') !== session.org_id)) throw new WritError('unauthorized', 'sign in first');
    if (!sessions.checkCsrf(CSRF, session.sid, form.get('csrf'))) throw new WritError('forbidden', 'missing or invalid CSRF token');
    return { session, form };
  }

  async function mayConnect(session: UserSession, account: SafeAccount): Promise<boolean> {
    if (account.owner.kind === 'user') return account.owner.user_id === session.user_id;
    const user = await directory.getUser(session.org_id, session.user_id);
    return user?.roles.includes('admin') === true;
  }

  /** The connector's OAuth client and definition, or a refusal before anything is written. */
  async function oauthConnector(org_id: string, name: string) {
    const provider = await deps.catalog.oauthProvider(org_id, name);
    const connector = await deps.catalog.getConnector(org_id, name);
    if (!provider || !connector || connector.definition.auth.type !== 'oauth2') {
      throw new WritError('invalid_request', `${name} is not connected through OAuth here`);
    }
    return { provider, connector: connector.definition, scopes: connector.definition.auth.scopes };
  }

  /** "Connect your Notion account to Writ user alice at XCorp?" with the one button that starts it. */
  async function confirmation(ctx: Context, session: UserSession, view: { connector: string; owner: AccountOwner['kind']; action: string; hidden: Record<string, string> }) {
    const [user, org, definition] = await Promise.all([
      directory.getUser(session.org_id, session.user_id), directory.getOrg(session.org_id), deps.catalog.getConnector(session.org_id, view.connector),
    ]);
    if (!user || !org) throw new WritError('unauthorized', 'your session no longer matches a user');
    const name = definition?.definition.display_name ?? view.connector;
    page(ctx, `Connect ${name}`, html`
      <h1>${view.owner === 'org'
        ? html`Connect a ${name} account for all of ${org.name}, as Writ administrator ${user.username}?`
        : html`Connect your ${name} account to Writ user ${user.username} at ${org.name}?`}</h1>
      <p>You will sign in at ${name} next. The ${name} account you choose there will be used by the agents
        ${view.owner === 'org' ? html`${org.name} allows` : html`<strong>${user.username}</strong> allows`}, through Writ; they never see its credentials.</p>
      <p class="muted">If you are not ${user.username}, or did not ask for this, do not continue.</p>
      <form method="post" action="${view.action}">
        ${Object.entries({ ...view.hidden, org: org.id, csrf: sessions.csrf(CSRF, session.sid) }).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}
        <button type="submit">Continue to ${name}</button>
      </form>
      <p><a href="/connect">Cancel</a></p>`,
    200, { nav: header(session, user, org) });
  }

  /** Starts the provider's authorization for `account` in this browser, and sends it there. */
  async function start(ctx: Context, session: UserSession, account: SafeAccount, oauth: Awaited<ReturnType<typeof oauthConnector>>) {
    const { url, state } = await vault.beginConnect(session.org_id, account.id, oauth.provider, { redirect_uri, scopes: oauth.scopes });
    setCookie(ctx, bindingCookie, sessions.csrf(CALLBACK_BINDING, `${session.sid}.${state}`), { secure, maxAgeSeconds: CONNECT_SECONDS });
    ctx.status = 303;
    ctx.redirect(url);
  }

  // The user's own connections: what is connected for them, connect more, disconnect.
  router.get('/', async (ctx) => {
    const session = currentSession(ctx);
    const org_id = session?.org_id ?? (typeof ctx.query.org === 'string' ? ctx.query.org : '');
    if (!org_id) throw new WritError('invalid_request', 'open this page with ?org=<your organisation id>');
    const signedIn = requireSession(ctx, org_id);
    if (!signedIn) return;
    const [mine, user, org] = await Promise.all([
      vault.listAccounts(org_id, { owner: { kind: 'user', user_id: signedIn.user_id } }),
      directory.getUser(org_id, signedIn.user_id), directory.getOrg(org_id),
    ]);
    if (!user || !org) throw new WritError('unauthorized', 'your session no longer matches a user');
    const csrf = sessions.csrf(CSRF, signedIn.sid);
    const now = clock.now();
    const connectable = (await deps.catalog.listTools(org_id)).map((t) => t.connector).filter((c, i, all) => all.indexOf(c) === i);
    const available: string[] = [];
    for (const name of connectable) if (await deps.catalog.oauthProvider(org_id, name)) available.push(name);
    page(ctx, 'Your connections', html`
      <h1>Your connections</h1>
      <p class="muted">Agents you allow act through these accounts inside Writ; they never receive the credentials.</p>
      ${mine.length === 0 ? html`<p>Nothing is connected yet.</p>` : table(mine, [
        { label: 'Service', rowHeader: true, cell: (a) => a.connector },
        { label: 'Status', cell: (a) => a.status },
        { label: 'Since', cell: (a) => when(a.created_at, now) },
        { label: 'Action', actions: true, cell: (a) => html`
          ${a.status === 'revoked' || a.status === 'pending' || a.status === 'error' ? html`<a href="${connectLink('', org_id, a.id)}">Reconnect ${a.connector}</a> ` : ''}
          <form method="post" action="/connect/${encodeURIComponent(a.id)}/disconnect"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="danger" aria-label="Disconnect ${a.connector} (${a.id})">Disconnect</button></form>` },
      ])}
      ${available.length ? html`<h2>Connect a service</h2><ul>${available.map((c) => html`<li><a href="${newConnectionLink('', org_id, c)}">Connect ${c}</a></li>`)}</ul>` : ''}`,
    200, { wide: true, nav: header(signedIn, user, org) });
  });

  router.post('/:account_id/disconnect', async (ctx) => {
    const { session } = await postedBySession(ctx);
    const account = await vault.getAccount(session.org_id, String(ctx.params.account_id));
    if (!account || !(await mayConnect(session, account))) throw new WritError('not_found', 'no such connection');
    await endConnection(deps, session.org_id, session.user_id, account);
    ctx.status = 303;
    ctx.redirect('/connect');
  });

  // The provider's redirect back: a GET by nature, so it completes only what this browser's
  // session started by POST (the binding cookie), and only for an account the session may connect.
  router.get('/callback', async (ctx) => {
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    const target = parseConnectState(state);
    if (!target) throw new WritError('invalid_request', 'this link is not a connection in progress');
    const session = requireSession(ctx, target.org_id);
    if (!session) return;
    if (!sessions.checkCsrf(CALLBACK_BINDING, `${session.sid}.${state}`, ctx.cookies.get(bindingCookie))) {
      throw new WritError('forbidden', 'this connection was not started from this browser; start again from the link');
    }
    clearCookie(ctx, bindingCookie, secure);
    const account = await vault.getAccount(target.org_id, target.account_id);
    if (!account || !(await mayConnect(session, account))) throw new WritError('forbidden', 'this connection was started for another user');
    if (typeof ctx.query.error === 'string') {
      await deps.audit.record(target.org_id, { type: 'account.revoked', actor: { kind: 'user', user_id: session.user_id }, subject: { account_id: account.id, connector: account.connector }, details: { reason: 'the provider did not authorise the connection' } });
      page(ctx, 'Not connected', html`<h1>${account.connector} was not connected</h1><p>The provider answered <code>${ctx.query.error}</code>. You can close this page.</p>`, 400, { nav: await headerOf(session) });
      return;
    }
    const code = typeof ctx.query.code === 'string' ? ctx.query.code : '';
    if (!code) throw new WritError('invalid_request', 'the provider sent no authorization code');
    const provider = await deps.catalog.oauthProvider(target.org_id, account.connector);
    if (!provider) throw new WritError('invalid_request', `${account.connector} has no OAuth client configured for this org`);
    let connected: SafeAccount;
    try {
      connected = await vault.completeConnect(target.org_id, account.id, provider, { state, code }, deps.fetch ? { fetch: deps.fetch } : {});
    } catch (err) {
      throw new WritError('invalid_request', 'the connection could not be completed; start again from the link', { cause: err });
    }
    await deps.audit.record(target.org_id, {
      type: 'account.connected', actor: { kind: 'user', user_id: session.user_id },
      subject: { account_id: connected.id, connector: connected.connector, ...(connected.owner.kind === 'user' ? { user_id: connected.owner.user_id } : { principal: 'org' }) },
      details: { scopes: connected.scopes },
    });
    page(ctx, 'Connected', html`<h1>${connected.connector} is connected</h1>
      <p>Agents you have allowed can now use it through Writ. They never see your ${connected.connector} credentials.</p>
      <p><a href="/account">Back to your account</a></p>`, 200, { nav: await headerOf(session) });
  });

  /** The org and connector a new connection names, checked before any page or write. */
  async function newTarget(org_id: string, connector: string) {
    if (!org_id || !(await directory.getOrg(org_id))) throw new WritError('not_found', 'no such organisation');
    if (!(await deps.catalog.getConnector(org_id, connector))) throw new WritError('not_found', 'no such connector');
    return oauthConnector(org_id, connector);
  }

  router.get('/new', async (ctx) => {
    const org_id = typeof ctx.query.org === 'string' ? ctx.query.org : '';
    const connector = typeof ctx.query.connector === 'string' ? ctx.query.connector : '';
    await newTarget(org_id, connector);
    const session = requireSession(ctx, org_id);
    if (!session) return;
    await confirmation(ctx, session, { connector, owner: 'user', action: '/connect/new/confirm', hidden: { connector } });
  });

  router.post('/new/confirm', async (ctx) => {
    const { session, form } = await postedBySession(ctx);
    const connector = form.get('connector') ?? '';
    const oauth = await newTarget(session.org_id, connector);
    const account = await vault.createPendingAccount(session.org_id, { owner: { kind: 'user', user_id: session.user_id }, connector });
    await deps.audit.record(session.org_id, { type: 'account.pending', actor: { kind: 'user', user_id: session.user_id }, subject: { account_id: account.id, connector, user_id: session.user_id } });
    await start(ctx, session, account, oauth);
  });

  /** An existing account the session may connect, with its connector's OAuth client. */
  async function existingTarget(session: UserSession, account_id: string) {
    const account = await vault.getAccount(session.org_id, account_id);
    if (!account) throw new WritError('not_found', 'no such connection');
    if (!(await mayConnect(session, account))) throw new WritError('forbidden', 'this link was made for another user; sign in as that user');
    return { account, oauth: await oauthConnector(session.org_id, account.connector) };
  }

  router.get('/:account_id', async (ctx) => {
    const org_id = typeof ctx.query.org === 'string' ? ctx.query.org : '';
    if (!org_id || !(await directory.getOrg(org_id))) throw new WritError('not_found', 'no such organisation');
    const session = requireSession(ctx, org_id);
    if (!session) return;
    const { account } = await existingTarget(session, String(ctx.params.account_id));
    await confirmation(ctx, session, { connector: account.connector, owner: account.owner.kind, action: `/connect/${encodeURIComponent(account.id)}/confirm`, hidden: {} });
  });

  router.post('/:account_id/confirm', async (ctx) => {
    const { session } = await postedBySession(ctx);
    const { account, oauth } = await existingTarget(session, String(ctx.params.account_id));
    await start(ctx, session, account, oauth);
  });

  return router;
}
