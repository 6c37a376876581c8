import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { send } from '../as/pages.ts';
import { AUDIT_EVENTS } from '../audit/events.ts';
import type { AuditLog } from '../audit/log.ts';
import type { Logger } from '../core/log.ts';
import { isWritError, WritError } from '../errors/index.ts';
import type { GrantService } from '../grants/service.ts';
import { explain, type PolicySet } from '../policy/index.ts';
import type { ConnectedAccountRecord, DirectoryStore, GrantStore, OrgRecord, UserRecord, VaultStore } from '../storage/index.ts';
import { readForm } from '../web/body.ts';
import { html } from '../web/html.ts';
import { SESSION_COOKIE, type SessionCodec, type UserSession } from '../web/session.ts';
import { auditFilters, dryRunForm, parse, type AuditFilters } from './forms.ts';
import { auditPage, nav, notAdminPage, overviewPage, pageQuery, pickOrgPage, policiesPage, type DryRunValues, type Frame, type PoliciesView, type Section } from './views.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import type { SafeHtml } from '../web/html.ts';
import type { Lifecycle } from '../lifecycle/service.ts';
import { peoplePage } from './people.ts';
import type { SingleSignOn } from '../sso/service.ts';
import { ssoForm, ssoPage } from './sso.ts';
import { mcpPage } from './mcp.ts';
import { isMcpClientAgent, mcpSettingsBody, NO_MCP_SETTINGS, setMcpSettings } from '../as/mcp-clients.ts';
import type { McpStore } from '../storage/ports/mcp.ts';

export interface ConsoleDeps {
  directory: DirectoryStore;
  grants: GrantStore;
  /** Connected accounts are listed from here when the store has a vault. */
  vault?: Pick<VaultStore, 'listAccounts'> | undefined;
  grantService: GrantService;
  audit: AuditLog;
  sessions: SessionCodec;
  policies: () => PolicySet;
  executorResource: string;
  /** Where an admin sends an account that needs reconnecting; undefined when there is no such link. */
  reconnectUrl?: ((account: ConnectedAccountRecord) => string | undefined) | undefined;
  clock?: Clock | undefined;
  /** Users' and agents' lifecycle (disable, enable, delete); the page is absent without it. */
  lifecycle?: Lifecycle | undefined;
  /** Orgs' answers to external MCP clients; the page is absent without it. */
  mcpSettings?: McpStore | undefined;
  /** The org's single sign-on; the page is absent without it. */
  sso?: SingleSignOn | undefined;
}

const AUDIT_PAGE_SIZE = 50;
// The CSRF purposes: the console's own forms, and the account page's (sign-in, sign-out) it reuses.
const CSRF = 'console';

interface Admin { session: UserSession; user: UserRecord; org: OrgRecord }

/**
 * `/console`: an org admin's pages, server-rendered and usable without JavaScript. The org is
 * always the session's: nothing in a URL or a form can point the console at another org.
 * Sign-in is the account page's, with `next=/console`.
 */
export function consoleRoutes(deps: ConsoleDeps): Router {
  const { directory, sessions } = deps;
  const clock = deps.clock ?? systemClock;
  const router = new Router({ prefix: '/console' });

  // People get an HTML page for every refusal, not the API's JSON.
  router.use(async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      const error = isWritError(err) ? err : new WritError('server_error', 'an unexpected error occurred', { cause: err });
      const log = ctx.state.logger as Logger | undefined;
      if (error.status >= 500) log?.error('request failed', { error_code: error.code, err: error.cause ?? error });
      else log?.info('request refused', { error_code: error.code, description: error.description });
      send(ctx, 'Error', html`
        <h1>This request could not be completed</h1>
        <p class="error" role="alert"><code>${error.code}</code> — ${error.description}</p>
        <p><a href="/console">Back to the console</a> · <a href="/account">Your own page</a></p>`, error.status);
    }
  });

  /** The signed-in admin of the session's org, or undefined after answering for them. */
  async function admin(ctx: Context): Promise<Admin | undefined> {
    const session = sessions.read(ctx.cookies.get(SESSION_COOKIE));
    if (!session) {
      if (ctx.method !== 'GET') throw new WritError('unauthorized', 'sign in first');
      ctx.status = 303;
      ctx.redirect('/console');
      return undefined;
    }
    // Re-read every time: a user whose admin role is withdrawn loses the console at once.
    const [user, org] = await Promise.all([directory.getUser(session.org_id, session.user_id), directory.getOrg(session.org_id)]);
    if (!user || !org) throw new WritError('unauthorized', 'your session no longer matches a user');
    if (!user.roles.includes('admin')) {
      if (ctx.method !== 'GET') throw new WritError('forbidden', 'only an administrator of this organisation can do that');
      send(ctx, 'Not an administrator', notAdminPage(org, user, sessions.csrf('account', session.sid)), 403);
      return undefined;
    }
    return { session, user, org };
  }

  const frame = (a: Admin): Frame => ({ org: a.org, admin: a.user, csrf: sessions.csrf(CSRF, a.session.sid), accountCsrf: sessions.csrf('account', a.session.sid), now: clock.now() });

  /** A console page: the whole width, with the console's navigation in the header. */
  const sendSection = (ctx: Context, a: Admin, section: Section, title: string, body: SafeHtml, status = 200) =>
    send(ctx, title, body, status, { wide: true, nav: nav(frame(a), section) });

  async function checkedForm(ctx: Context, a: Admin): Promise<Record<string, string>> {
    const form = await readForm(ctx.req);
    if (!sessions.checkCsrf(CSRF, a.session.sid, form.get('csrf'))) throw new WritError('forbidden', 'missing or invalid CSRF token');
    return Object.fromEntries(form);
  }

  router.get('/', async (ctx) => {
    if (!sessions.read(ctx.cookies.get(SESSION_COOKIE))) {
      const org_id = typeof ctx.query.org === 'string' ? ctx.query.org.slice(0, 64) : '';
      const org = org_id ? await directory.getOrg(org_id) : undefined;
      if (!org) {
        send(ctx, 'Admin console', pickOrgPage(), org_id ? 404 : 200);
        return;
      }
      // The account page's sign-in, which sends the admin back here afterwards.
      ctx.status = 303;
      ctx.redirect(`/account?org=${encodeURIComponent(org.id)}&next=${encodeURIComponent('/console')}`);
      return;
    }
    const a = await admin(ctx);
    if (!a) return;
    const org_id = a.org.id;
    const [agents, users, grants, accounts] = await Promise.all([
      directory.listAgents(org_id),
      directory.listUsers(org_id),
      deps.grants.listGrants(org_id),
      typeof deps.vault?.listAccounts === 'function' ? deps.vault.listAccounts(org_id) : Promise.resolve(undefined),
    ]);
    const revoked = typeof ctx.query.revoked === 'string' ? ctx.query.revoked.slice(0, 64) : undefined;
    sendSection(ctx, a, 'overview', 'Console', overviewPage({
      frame: frame(a), agents, users, grants, accounts,
      reconnectUrl: deps.reconnectUrl ?? (() => undefined),
      notice: revoked ? `Grant ${revoked} was revoked; every token derived from it has stopped working.` : undefined,
    }));
  });

  router.post('/grants/:id/revoke', async (ctx) => {
    const a = await admin(ctx);
    if (!a) return;
    await checkedForm(ctx, a);
    const id = String(ctx.params.id).slice(0, 64);
    // Looked up in the session's org only: another org's grant id answers like a missing one.
    const grant = await deps.grants.getGrant(a.org.id, id);
    if (!grant) throw new WritError('not_found', 'no such grant in this organisation');
    await deps.grantService.revoke(a.org.id, { id: grant.id }, { kind: 'user', user_id: a.user.id, role: 'admin' }, 'revoked by an administrator from the console');
    ctx.status = 303;
    ctx.redirect(`/console?revoked=${encodeURIComponent(grant.id)}`);
  });

  // Users and agents: the lifecycle, for this org only (ids are looked up in the session's org).
  router.get('/people', async (ctx) => {
    const a = await admin(ctx);
    if (!a) return;
    if (!deps.lifecycle) throw new WritError('not_found', 'there is no such page');
    const [users, agents] = await Promise.all([directory.listUsers(a.org.id), directory.listAgents(a.org.id)]);
    const done = typeof ctx.query.done === 'string' ? ctx.query.done.slice(0, 200) : undefined;
    sendSection(ctx, a, 'people', 'Users and agents', peoplePage({ frame: frame(a), users, agents, notice: done }));
  });
  const lifecycleStep = (kind: 'users' | 'agents', step: 'disable' | 'enable' | 'delete') => async (ctx: Context) => {
    const a = await admin(ctx);
    if (!a) return;
    await checkedForm(ctx, a);
    const lifecycle = deps.lifecycle;
    if (!lifecycle) throw new WritError('not_found', 'there is no such page');
    const id = String(ctx.params.id).slice(0, 64);
    const actor = { kind: 'user' as const, user_id: a.user.id, role: 'admin' };
    let done: string;
    if (kind === 'users') {
      // An admin cannot lock themselves out from their own console.
      if (id === a.user.id) throw new WritError('forbidden', 'you cannot disable or delete yourself');
      const user = await directory.getUser(a.org.id, id, { includeDisabled: true });
      if (!user) throw new WritError('not_found', 'no such user in this organisation');
      if (step === 'disable') await lifecycle.disableUser(a.org.id, id, actor, 'console');
      else if (step === 'enable') await lifecycle.enableUser(a.org.id, id, actor, 'console');
      else await lifecycle.deleteUser(a.org.id, id, actor, 'console');
      done = `User ${user.username} was ${step}d.`;
    } else {
      const agent = await directory.getAgent(a.org.id, id, { includeDisabled: true });
      if (!agent) throw new WritError('not_found', 'no such agent in this organisation');
      if (step === 'disable') await lifecycle.disableAgent(a.org.id, id, actor, 'console');
      else if (step === 'enable') await lifecycle.enableAgent(a.org.id, id, actor, 'console');
      else await lifecycle.deleteAgent(a.org.id, id, actor, 'console');
      done = `Agent ${agent.name} was ${step}d.`;
    }
    ctx.status = 303;
    ctx.redirect(`/console/people?done=${encodeURIComponent(done)}`);
  };
  for (const kind of ['users', 'agents'] as const) {
    for (const step of ['disable', 'enable', 'delete'] as const) router.post(`/${kind}/:id/${step}`, lifecycleStep(kind, step));
  }

  // Single sign-on: the org's identity provider, set here as through the admin API.
  const ssoOf = () => {
    if (!deps.sso) throw new WritError('not_found', 'there is no such page');
    return deps.sso;
  };
  router.get('/sso', async (ctx) => {
    const a = await admin(ctx);
    if (!a) return;
    const sso = ssoOf();
    const provider = await sso.provider(a.org.id);
    const notice = ctx.query.saved === '1' ? 'Saved.' : ctx.query.removed === '1' ? 'The identity provider was removed; Writ passwords work again.' : undefined;
    sendSection(ctx, a, 'sso', 'Single sign-on', ssoPage({ frame: frame(a), provider: provider && sso.view(provider), notice, redirectUri: sso.redirectUri }));
  });
  router.post('/sso', async (ctx) => {
    const a = await admin(ctx);
    if (!a) return;
    const sso = ssoOf();
    const { csrf: _csrf, client_secret: _secret, ...input } = await checkedForm(ctx, a);
    const parsed = ssoForm({ ...input, client_secret: _secret ?? '' });
    if (!parsed.ok) {
      const provider = await sso.provider(a.org.id);
      sendSection(ctx, a, 'sso', 'Single sign-on', ssoPage({ frame: frame(a), provider: provider && sso.view(provider), input, error: parsed.error, redirectUri: sso.redirectUri }), 400);
      return;
    }
    await sso.configure(a.org.id, parsed.body, { kind: 'user', user_id: a.user.id, role: 'admin' });
    ctx.status = 303;
    ctx.redirect('/console/sso?saved=1');
  });
  router.post('/sso/remove', async (ctx) => {
    const a = await admin(ctx);
    if (!a) return;
    await checkedForm(ctx, a);
    await ssoOf().remove(a.org.id, { kind: 'user', user_id: a.user.id, role: 'admin' });
    ctx.status = 303;
    ctx.redirect('/console/sso?removed=1');
  });

  async function showPolicies(ctx: Context, a: Admin, extra: Pick<PoliciesView, 'dryRun' | 'error' | 'input'>, status = 200) {
    const [agents, users] = await Promise.all([directory.listAgents(a.org.id), directory.listUsers(a.org.id)]);
    sendSection(ctx, a, 'policies', 'Policies', policiesPage({
      frame: frame(a), policies: deps.policies(), agents, users, executorResource: deps.executorResource, ...extra,
    }), status);
  }

  if (deps.mcpSettings) {
    const settings = deps.mcpSettings;
    const lines = (value: string | undefined) => (value ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
    const showMcp = async (ctx: Context, a: Admin, extra: { notice?: string; error?: string; input?: Record<string, string> } = {}, status = 200) => {
      const stored = (await settings.getSettings(a.org.id)) ?? NO_MCP_SETTINGS;
      const shown = extra.input
        ? { accept: (['none', 'any', 'listed'].includes(extra.input.accept ?? '') ? extra.input.accept : stored.accept) as typeof stored.accept, clients: lines(extra.input.clients), tools: lines(extra.input.tools) }
        : stored;
      const clients = (await directory.listAgents(a.org.id)).filter((agent) => isMcpClientAgent(agent.client_id));
      sendSection(ctx, a, 'mcp', 'MCP clients', mcpPage({ frame: frame(a), settings: shown, clients, notice: extra.notice, error: extra.error }), status);
    };
    router.get('/mcp', async (ctx) => {
      const a = await admin(ctx);
      if (a) await showMcp(ctx, a);
    });
    router.post('/mcp', async (ctx) => {
      const a = await admin(ctx);
      if (!a) return;
      const form = await checkedForm(ctx, a);
      const parsed = mcpSettingsBody.safeParse({ accept: form.accept, clients: lines(form.clients), tools: lines(form.tools) });
      if (!parsed.success) {
        await showMcp(ctx, a, { error: parsed.error.issues.map((i) => i.message).join('; '), input: form }, 400);
        return;
      }
      await setMcpSettings({ directory, settings, audit: deps.audit }, a.org.id, parsed.data, { kind: 'user', user_id: a.user.id }, new Date(clock.now()).toISOString());
      await showMcp(ctx, a, { notice: 'Saved. Every MCP client\'s agent in this organisation has the new ceiling now.' });
    });
  }

  router.get('/policies', async (ctx) => {
    const a = await admin(ctx);
    if (!a) return;
    await showPolicies(ctx, a, {});
  });

  // The dry run changes nothing, but it is a POST with the session's CSRF token like every form.
  router.post('/policies/dry-run', async (ctx) => {
    const a = await admin(ctx);
    if (!a) return;
    const raw = await checkedForm(ctx, a);
    let form;
    try {
      form = parse(dryRunForm, raw);
    } catch (err) {
      if (!isWritError(err)) throw err;
      await showPolicies(ctx, a, { error: err.description, input: raw }, 400);
      return;
    }
    const agent = await directory.getAgent(a.org.id, form.agent_id);
    const user = form.user_id ? await directory.getUser(a.org.id, form.user_id) : undefined;
    if (!agent || (form.user_id && !user)) {
      await showPolicies(ctx, a, { error: !agent ? 'No such agent in this organisation.' : 'No such user in this organisation.', input: raw }, 404);
      return;
    }
    const explanation = explain(deps.policies(), {
      org_id: a.org.id, agent_id: agent.client_id,
      principal: user ? { kind: 'user', id: user.id } : { kind: 'org', id: a.org.id },
      audience: form.audience ?? deps.executorResource, tools: form.tools, ...(form.resources?.length ? { resources: form.resources } : {}),
    });
    const input: DryRunValues = { agent_id: agent.client_id, user_id: user?.id, tools: form.tools.join(' '), resources: form.resources?.join(' '), audience: form.audience };
    await showPolicies(ctx, a, { dryRun: { input, explanation, outside: form.tools.filter((t) => !agent.tools.includes(t)) } });
  });

  router.get('/audit', async (ctx) => {
    const a = await admin(ctx);
    if (!a) return;
    const [agents, users] = await Promise.all([directory.listAgents(a.org.id), directory.listUsers(a.org.id)]);
    const view = { frame: frame(a), agents, users, eventTypes: Object.keys(AUDIT_EVENTS) };
    let filters: AuditFilters;
    try {
      filters = parse(auditFilters, ctx.query);
    } catch (err) {
      if (!isWritError(err)) throw err;
      sendSection(ctx, a, 'audit', 'Audit log', auditPage({ ...view, filters: {}, events: [], error: err.description }), 400);
      return;
    }
    const { cursor, ...query } = filters;
    const events = await deps.audit.query(a.org.id, { ...query, before_seq: cursor ? Number(cursor) : undefined, limit: AUDIT_PAGE_SIZE });
    const last = events.at(-1);
    const older = events.length === AUDIT_PAGE_SIZE && last ? pageQuery(filters, String(last.seq)) : undefined;
    sendSection(ctx, a, 'audit', 'Audit log', auditPage({ ...view, filters, events, older }));
  });

  return router;
}
