import Router from '@koa/router';
import type { Context } from 'koa';
import type { AuditLog } from '../audit/log.ts';
import type { ConnectorCatalog } from '../connectors/catalog.ts';
import { WritError } from '../errors/index.ts';
import type { DirectoryStore } from '../storage/ports/directory.ts';
import type { Vault } from '../vault/service.ts';
import { parseConnectState } from '../vault/service.ts';
import { disconnectAccount } from '../connectors/disconnect.ts';
import { readBody } from '../web/body.ts';
import type { SafeAccount } from '../vault/records.ts';
import { html, renderPage, type SafeHtml } from '../web/html.ts';
import { SESSION_COOKIE, type SessionCodec, type UserSession } from '../web/session.ts';

export interface ConnectDeps {
  issuer: string;
  directory: DirectoryStore;
  vault: Vault;
  catalog: ConnectorCatalog;
  sessions: SessionCodec;
  audit: AuditLog;
  fetch?: typeof fetch;
}

// DESIGN flow 5. A connect link is bound to one user (or to the org): opening it needs a Writ
// session as that user (or an org admin), so a forwarded link cannot attach someone else's
// account; the provider's tokens go from the callback straight into the vault.

export function connectLink(issuer: string, org_id: string, account_id: string): string {
  return `${issuer}/connect/${encodeURIComponent(account_id)}?org=${encodeURIComponent(org_id)}`;
}

export function newConnectionLink(issuer: string, org_id: string, connector: string): string {
  return `${issuer}/connect/new?org=${encodeURIComponent(org_id)}&connector=${encodeURIComponent(connector)}`;
}

function page(ctx: Context, title: string, body: SafeHtml, status = 200) {
  const p = renderPage({ title, body });
  ctx.status = status;
  ctx.set(p.headers);
  ctx.body = p.body;
}

export function connectRoutes(deps: ConnectDeps): Router {
  const { vault, sessions, directory } = deps;
  const router = new Router({ prefix: '/connect' });
  const redirect_uri = `${deps.issuer}/connect/callback`;

  /** The session, or a redirect to sign in to the right org and come back. */
  function requireSession(ctx: Context, org_id: string): UserSession | undefined {
    const session = sessions.read(ctx.cookies.get(SESSION_COOKIE));
    if (session && session.org_id === org_id) return session;
    ctx.status = 303;
    ctx.redirect(`/account?org=${encodeURIComponent(org_id)}&next=${encodeURIComponent(ctx.originalUrl)}`);
    return undefined;
  }

  async function mayConnect(session: UserSession, account: SafeAccount): Promise<boolean> {
    if (account.owner.kind === 'user') return account.owner.user_id === session.user_id;
    const user = await directory.getUser(session.org_id, session.user_id);
    return user?.roles.includes('admin') === true;
  }

  // The user's own connections: what is connected for them, connect more, disconnect.
  router.get('/', async (ctx) => {
    const session = sessions.read(ctx.cookies.get(SESSION_COOKIE));
    const org_id = session?.org_id ?? (typeof ctx.query.org === 'string' ? ctx.query.org : '');
    if (!org_id) throw new WritError('invalid_request', 'open this page with ?org=<your organisation id>');
    const signedIn = requireSession(ctx, org_id);
    if (!signedIn) return;
    const mine = await vault.listAccounts(org_id, { owner: { kind: 'user', user_id: signedIn.user_id } });
    const csrf = sessions.csrf('connections', signedIn.sid);
    const connectable = (await deps.catalog.listTools(org_id)).map((t) => t.connector).filter((c, i, all) => all.indexOf(c) === i);
    const available: string[] = [];
    for (const name of connectable) if (await deps.catalog.oauthProvider(org_id, name)) available.push(name);
    page(ctx, 'Your connections', html`
      <h1>Your connections</h1>
      <p class="muted">Agents you allow act through these accounts inside Writ; they never receive the credentials.</p>
      ${mine.length === 0 ? html`<p>Nothing is connected yet.</p>` : html`
      <table><thead><tr><th scope="col">Service</th><th scope="col">Status</th><th scope="col">Since</th><th scope="col"></th></tr></thead><tbody>
      ${mine.map((a) => html`<tr><td>${a.connector}</td><td>${a.status}</td><td>${new Date(a.created_at).toUTCString()}</td><td>
        ${a.status === 'revoked' || a.status === 'pending' || a.status === 'error' ? html`<a href="${connectLink('', org_id, a.id)}">Reconnect</a> ` : ''}
        <form method="post" action="/connect/${encodeURIComponent(a.id)}/disconnect"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Disconnect</button></form></td></tr>`)}
      </tbody></table>`}
      ${available.length ? html`<h2>Connect a service</h2><ul>${available.map((c) => html`<li><a href="${newConnectionLink('', org_id, c)}">Connect ${c}</a></li>`)}</ul>` : ''}
      <p><a href="/account">Your agents</a></p>`);
  });

  router.post('/:account_id/disconnect', async (ctx) => {
    const session = sessions.read(ctx.cookies.get(SESSION_COOKIE));
    if (!session) throw new WritError('unauthorized', 'sign in first');
    const form = new URLSearchParams((await readBody(ctx.req, 64 * 1024)).toString('utf8'));
    if (!sessions.checkCsrf('connections', session.sid, form.get('csrf'))) throw new WritError('forbidden', 'missing or invalid CSRF token');
    const account = await vault.getAccount(session.org_id, String(ctx.params.account_id));
    if (!account || !(await mayConnect(session, account))) throw new WritError('not_found', 'no such connection');
    const result = await disconnectAccount(vault, deps.catalog, session.org_id, account.id, account.connector);
    await deps.audit.record(session.org_id, { type: 'account.disconnected', actor: { kind: 'user', user_id: session.user_id }, subject: { account_id: account.id, connector: account.connector }, details: { upstream: result?.upstream } });
    ctx.status = 303;
    ctx.redirect('/connect');
  });

  router.get('/callback', async (ctx) => {
    const state = typeof ctx.query.state === 'string' ? ctx.query.state : '';
    const target = parseConnectState(state);
    if (!target) throw new WritError('invalid_request', 'this link is not a connection in progress');
    const session = requireSession(ctx, target.org_id);
    if (!session) return;
    const account = await vault.getAccount(target.org_id, target.account_id);
    if (!account || !(await mayConnect(session, account))) throw new WritError('forbidden', 'this connection was started for another user');
    if (typeof ctx.query.error === 'string') {
      await deps.audit.record(target.org_id, { type: 'account.revoked', actor: { kind: 'user', user_id: session.user_id }, subject: { account_id: account.id, connector: account.connector }, details: { reason: 'the provider did not authorise the connection' } });
      page(ctx, 'Not connected', html`<h1>${account.connector} was not connected</h1><p>The provider answered <code>${ctx.query.error}</code>. You can close this page.</p>`, 400);
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
      <p><a href="/account">Back to your account</a></p>`);
  });

  router.get('/new', async (ctx) => {
    const org_id = typeof ctx.query.org === 'string' ? ctx.query.org : '';
    const connector = typeof ctx.query.connector === 'string' ? ctx.query.connector : '';
    if (!org_id || !(await directory.getOrg(org_id))) throw new WritError('not_found', 'no such organisation');
    if (!(await deps.catalog.getConnector(org_id, connector))) throw new WritError('not_found', 'no such connector');
    const session = requireSession(ctx, org_id);
    if (!session) return;
    const account = await vault.createPendingAccount(org_id, { owner: { kind: 'user', user_id: session.user_id }, connector });
    await deps.audit.record(org_id, { type: 'account.pending', actor: { kind: 'user', user_id: session.user_id }, subject: { account_id: account.id, connector, user_id: session.user_id } });
    ctx.status = 303;
    ctx.redirect(connectLink('', org_id, account.id));
  });

  router.get('/:account_id', async (ctx) => {
    const org_id = typeof ctx.query.org === 'string' ? ctx.query.org : '';
    if (!org_id || !(await directory.getOrg(org_id))) throw new WritError('not_found', 'no such organisation');
    const session = requireSession(ctx, org_id);
    if (!session) return;
    const account = await vault.getAccount(org_id, String(ctx.params.account_id));
    if (!account) throw new WritError('not_found', 'no such connection');
    if (!(await mayConnect(session, account))) throw new WritError('forbidden', 'this link was made for another user; sign in as that user');
    const provider = await deps.catalog.oauthProvider(org_id, account.connector);
    const connector = await deps.catalog.getConnector(org_id, account.connector);
    if (!provider || !connector || connector.definition.auth.type !== 'oauth2') {
      throw new WritError('invalid_request', `${account.connector} is not connected through OAuth here`);
    }
    const { url } = await vault.beginConnect(org_id, account.id, provider, { redirect_uri, scopes: connector.definition.auth.scopes });
    ctx.status = 303;
    ctx.redirect(url);
  });

  return router;
}
