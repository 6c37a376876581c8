import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Context, Next } from 'koa';
import { WritError } from '../errors/index.ts';
import { toolsOf, type ToolAccessDetail } from '../rights/rights.ts';
import type { DirectoryStore, OrgRecord } from '../storage/ports/directory.ts';
import type { GrantStore } from '../storage/ports/grants.ts';
import type { McpStore } from '../storage/ports/mcp.ts';
import type { AuditLog } from '../audit/log.ts';
import type { GrantService } from '../grants/service.ts';
import { html, type SafeHtml } from '../web/html.ts';
import { readForm } from '../web/body.ts';
import { SESSION_COOKIE, type SessionCodec } from '../web/session.ts';
import { setCookie } from '../web/cookies.ts';
import { consentFooter, describeDetail, send } from './pages.ts';
import { requestedDetails } from './grants/rights.ts';
import { TOOL_SCOPE_PREFIX } from './constants.ts';
import type { SignIn } from './signin.ts';
import { recordConsent } from './consent.ts';
import { acceptsClient, ensureOrgAgent, externalAccountId, isExternalClient, orgAgentId, parseExternalAccountId, withinOrgCeiling } from './mcp-clients.ts';

// Sign-in and consent for external MCP clients (mcp-clients.ts), in front of the agents' own
// interaction routes: same URLs, same CSRF and cookies, and `next()` for any other client. The
// person names their org at sign-in; the org's settings accept the client or not; consent names
// the client by its metadata document or registration, shows where the answer goes, and what is
// new beside what this person already allowed it.

export interface McpInteractionDeps {
  provider: Provider;
  directory: DirectoryStore;
  grants: GrantStore;
  settings: McpStore;
  grantService: GrantService;
  audit: AuditLog;
  signIn: SignIn;
  sessions: SessionCodec;
  secureCookies: boolean;
  refreshDays: number;
  now: () => number;
}

type ExternalClient = { clientId: string; clientName?: string; redirectUris: string[]; clientIdMetadataDocument?: boolean };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const hostsOf = (uris: string[]) => [...new Set(uris.map((u) => { try { return new URL(u).host; } catch { return u; } }))];
const allLoopback = (uris: string[]) => uris.length > 0 && uris.every((u) => { try { return LOOPBACK.has(new URL(u).hostname); } catch { return false; } });

function describeClient(c: ExternalClient): SafeHtml {
  const name = c.clientName ?? c.clientId;
  return html`<strong>${name}</strong> (${c.clientIdMetadataDocument ? html`its metadata document: <code>${c.clientId}</code>` : html`registered as <code>${c.clientId}</code>`})`;
}

function externalSignInPage(v: { action: string; csrf: string; client: ExternalClient; org?: string; username?: string; error?: string }): SafeHtml {
  return html`
    <h1>Sign in to continue</h1>
    <p>The MCP client ${describeClient(v.client)} is asking for access on your behalf. It belongs to no
      organisation: sign in with yours, and yours decides whether it may.</p>
    ${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
    <form method="post" action="${v.action}">
      <input type="hidden" name="csrf" value="${v.csrf}">
      <label for="org">Organisation</label>
      <input type="text" id="org" name="org" required value="${v.org ?? ''}">
      <label for="username">Username</label>
      <input type="text" id="username" name="username" autocomplete="username" required value="${v.username ?? ''}">
      <label for="password">Password</label>
      <input type="password" id="password" name="password" autocomplete="current-password" required>
      <button type="submit">Sign in</button>
    </form>`;
}

function externalConsentPage(v: {
  action: string; csrf: string; client: ExternalClient; orgName: string; username: string;
  fresh: ToolAccessDetail[]; held: string[]; withheld: string[]; refreshDays: number; now: number;
}): SafeHtml {
  const name = v.client.clientName ?? v.client.clientId;
  return html`
    <h1>Allow ${name} to act for you?</h1>
    <p>The MCP client ${describeClient(v.client)} asks to act as <strong>${v.username}</strong> of
      <strong>${v.orgName}</strong>. Your answer goes to <strong>${hostsOf(v.client.redirectUris).join(', ')}</strong>.</p>
    ${allLoopback(v.client.redirectUris) ? html`<p class="error" role="alert">Every address this client answers to is on this
      computer (localhost). Approve only if you started this client yourself, here.</p>` : ''}
    ${v.fresh.length ? html`<p>${v.held.length ? 'New:' : 'With these tools:'}</p><ul>${v.fresh.map((d) => describeDetail(d, v.now))}</ul>`
      : html`<p>Nothing new: it already holds everything it asks for.</p>`}
    ${v.held.length ? html`<p class="muted">Already allowed: ${v.held.map((t, i) => html`${i ? ', ' : ''}<code>${t}</code>`)}.</p>` : ''}
    ${v.withheld.length ? html`<p class="muted">Not available to MCP clients in ${v.orgName}: ${v.withheld.map((t, i) => html`${i ? ', ' : ''}<code>${t}</code>`)}.</p>` : ''}
    ${consentFooter(v)}`;
}

export function mcpInteractionRoutes(deps: McpInteractionDeps): Router {
  const { provider, directory, sessions } = deps;
  const router = new Router({ prefix: '/interaction' });
  const action = (uid: string, step: string) => `/interaction/${encodeURIComponent(uid)}/${step}`;

  /** The interaction, when its client is external; undefined hands it on to the agents' routes. */
  async function load(ctx: Context) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid) throw new WritError('invalid_request', 'interaction mismatch');
    const client = (await provider.Client.find(String(details.params.client_id))) as unknown as ExternalClient | undefined;
    if (!client || !isExternalClient(client)) return undefined;
    return { details, client };
  }

  async function findOrg(named: string): Promise<OrgRecord | undefined> {
    const wanted = named.trim().toLowerCase();
    if (!wanted) return undefined;
    const byId = await directory.getOrg(named.trim());
    if (byId) return byId;
    return (await directory.listOrgs()).find((o) => o.name.toLowerCase() === wanted);
  }

  /** What this consent would grant: the request within the org's ceiling, and what the person already allowed this client. */
  async function consentView(org_id: string, user_id: string, client: ExternalClient, params: Record<string, unknown>) {
    const settings = await deps.settings.getSettings(org_id);
    const accepted = acceptsClient(settings, client.clientId);
    const { granted, withheld } = withinOrgCeiling(requestedDetails(params), settings?.tools ?? []);
    const agent_id = orgAgentId(org_id, client.clientId);
    const live = (await deps.grants.listGrants(org_id, { user_id, agent_id })).filter((g) => !g.revoked_at && g.user_id === user_id && g.agent_id === agent_id);
    const held = new Set(live.flatMap((g) => toolsOf(g.authorization_details)));
    const fresh = granted.map((d) => ({ ...d, tools: d.tools.filter((t) => !held.has(t)) })).filter((d) => d.tools.length);
    return { settings, accepted, granted, withheld, held: [...held].filter((t) => toolsOf(granted).includes(t)), fresh };
  }

  router.get('/:uid', async (ctx: Context, next: Next) => {
    const loaded = await load(ctx);
    if (!loaded) return next();
    const { details, client } = loaded;
    const uid = details.uid;
    if (details.prompt.name === 'login') {
      send(ctx, 'Sign in', externalSignInPage({ action: action(uid, 'login'), csrf: sessions.csrf('login', uid), client }));
      return;
    }
    const ref = parseExternalAccountId(details.session?.accountId);
    const user = ref && (await directory.getUser(ref.org_id, ref.user_id));
    const org = ref && (await directory.getOrg(ref.org_id));
    if (!ref || !user || !org) throw new WritError('invalid_request', 'no signed-in user for this interaction');
    const view = await consentView(ref.org_id, user.id, client, details.params);
    send(ctx, 'Allow access', externalConsentPage({
      action: action(uid, 'confirm'), csrf: sessions.csrf('consent', uid), client, orgName: org.name, username: user.username,
      fresh: view.fresh, held: view.held, withheld: view.withheld, refreshDays: deps.refreshDays, now: deps.now(),
    }));
  });

  router.post('/:uid/login', async (ctx: Context, next: Next) => {
    const loaded = await load(ctx);
    if (!loaded) return next();
    const { details, client } = loaded;
    const form = await readForm(ctx.req);
    if (!sessions.checkCsrf('login', details.uid, form.get('csrf'))) throw new WritError('forbidden', 'missing or invalid CSRF token');
    if (details.prompt.name !== 'login') throw new WritError('invalid_request', 'this interaction is not asking for sign-in');
    const orgName = (form.get('org') ?? '').slice(0, 200);
    const username = (form.get('username') ?? '').slice(0, 128);
    const password = (form.get('password') ?? '').slice(0, 1024);
    const again = (error: string, status: number) => send(ctx, 'Sign in', externalSignInPage({
      action: action(details.uid, 'login'), csrf: sessions.csrf('login', details.uid), client, org: orgName, username, error,
    }), status);
    const org = await findOrg(orgName);
    // An unknown org reads as a wrong password: the page does not tell which orgs exist.
    const result = org ? await deps.signIn.attempt(org.id, username, password, { ip: ctx.ip }) : { ok: false as const, reason: 'invalid' as const };
    if (!result.ok) {
      if ('retry_after_seconds' in result && result.retry_after_seconds) ctx.set('retry-after', String(result.retry_after_seconds));
      again(result.reason === 'locked' ? 'Too many failed attempts. Sign-in for this username is locked for a while.' : 'Wrong organisation, username or password.', result.reason === 'locked' ? 429 : 401);
      return;
    }
    const accepted = acceptsClient(await deps.settings.getSettings(result.user.org_id), client.clientId);
    if (!accepted.ok) {
      // The person signed in, but their org does not let this client in: the client hears access_denied.
      await deps.audit.record(result.user.org_id, {
        type: 'consent.denied', actor: { kind: 'user', user_id: result.user.id },
        subject: { user_id: result.user.id }, details: { mcp_client: client.clientId, reason: accepted.reason },
      });
      const redirectTo = await provider.interactionResult(ctx.req, ctx.res, { error: 'access_denied', error_description: accepted.reason }, { mergeWithLastSubmission: false });
      ctx.status = 303;
      ctx.redirect(redirectTo);
      return;
    }
    const { value } = sessions.issue(result.user.org_id, result.user.id);
    setCookie(ctx, SESSION_COOKIE, value, { secure: deps.secureCookies, maxAgeSeconds: sessions.ttlSeconds });
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: externalAccountId(result.user.org_id, result.user.id) } }, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(redirectTo);
  });

  router.post('/:uid/confirm', async (ctx: Context, next: Next) => {
    const loaded = await load(ctx);
    if (!loaded) return next();
    const { details, client } = loaded;
    const form = await readForm(ctx.req);
    if (!sessions.checkCsrf('consent', details.uid, form.get('csrf'))) throw new WritError('forbidden', 'missing or invalid CSRF token');
    if (details.prompt.name !== 'consent') throw new WritError('invalid_request', 'this interaction is not asking for consent');
    const ref = parseExternalAccountId(details.session?.accountId);
    const user = ref && (await directory.getUser(ref.org_id, ref.user_id));
    if (!ref || !user) throw new WritError('invalid_request', 'no signed-in user for this interaction');
    const view = await consentView(ref.org_id, user.id, client, details.params);

    let result: Record<string, unknown>;
    if (!view.accepted.ok) {
      result = { error: 'access_denied', error_description: view.accepted.reason };
    } else if (form.get('decision') === 'approve' && !view.granted.length) {
      result = { error: 'access_denied', error_description: 'none of the tools this client asks for is available to MCP clients in this organisation' };
    } else if (form.get('decision') !== 'approve') {
      await deps.audit.record(ref.org_id, { type: 'consent.denied', actor: { kind: 'user', user_id: user.id }, subject: { user_id: user.id }, details: { mcp_client: client.clientId } });
      result = { error: 'access_denied', error_description: 'the user denied the request' };
    } else {
      // On first consent the client becomes an agent of this org, with the org's ceiling for MCP clients.
      const nowIso = new Date(deps.now()).toISOString();
      const agent = await ensureOrgAgent(directory, ref.org_id, client, view.settings!.tools, nowIso);
      const granted = toolsOf(view.granted);
      // What the org's ceiling withholds is not on offer at all (provider.ts getResourceServerInfo).
      const grantId = await recordConsent(provider, deps.grantService, {
        org_id: ref.org_id, user_id: user.id, accountId: externalAccountId(ref.org_id, user.id), clientId: client.clientId, agent_id: agent.client_id,
        params: details.params, resource: typeof details.params.resource === 'string' ? details.params.resource : undefined,
        toolScopes: granted.map((t) => TOOL_SCOPE_PREFIX + t), details: view.granted,
      });
      result = { consent: { grantId } };
    }
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    ctx.status = 303;
    ctx.redirect(redirectTo);
  });

  return router;
}
