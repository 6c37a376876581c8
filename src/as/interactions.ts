import Router from '@koa/router';
import type Provider from 'oidc-provider';
import type { Context } from 'koa';
import { recordConsent } from './consent.ts';
import { WritError } from '../errors/index.ts';
import type { ToolAccessDetail } from '../rights/rights.ts';
import type { DirectoryStore } from '../storage/ports/directory.ts';
import type { AuditLog } from '../audit/log.ts';
import type { GrantService } from '../grants/service.ts';
import { readForm } from '../web/body.ts';
import { SESSION_COOKIE, type SessionCodec } from '../web/session.ts';
import { setCookie } from '../web/cookies.ts';
import { consentPage, send, signInPage } from './pages.ts';
import { consentedRights, requestedDetails } from './grants/rights.ts';
import { TOOL_SCOPE_PREFIX } from './constants.ts';
import { ssoStartUrl, type SignIn } from './signin.ts';

export interface InteractionDeps {
  provider: Provider;
  directory: DirectoryStore;
  grantService: GrantService;
  audit: AuditLog;
  signIn: SignIn;
  sessions: SessionCodec;
  issuer: string;
  secureCookies: boolean;
  refreshDays: number;
}

type ClientView = { clientId: string; clientName?: string; org_id: string };

/**
 * Sign-in and consent for the authorization endpoint: plain HTML forms, CSRF tokens bound to
 * the interaction, users only from the agent's own org.
 */
export function interactionRoutes(deps: InteractionDeps): Router {
  const { provider, directory, sessions } = deps;
  const router = new Router({ prefix: '/interaction' });

  async function load(ctx: Context) {
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (details.uid !== ctx.params.uid) throw new WritError('invalid_request', 'interaction mismatch');
    const client = (await provider.Client.find(String(details.params.client_id))) as unknown as ClientView | undefined;
    if (!client) throw new WritError('invalid_request', 'unknown client');
    const org = await directory.getOrg(client.org_id);
    if (!org) throw new WritError('invalid_request', 'unknown org');
    return { details, client, org };
  }

  const action = (uid: string, step: string) => `/interaction/${encodeURIComponent(uid)}/${step}`;

  router.get('/:uid', async (ctx) => {
    const { details, client, org } = await load(ctx);
    const uid = details.uid;
    if (details.prompt.name === 'login') {
      // An org on single sign-on sends the person to its identity provider (directly, when it has switched passwords off).
      const ways = await deps.signIn.methods.methods(client.org_id);
      const ssoUrl = ways.sso ? ssoStartUrl(client.org_id, `/interaction/${uid}`, uid) : undefined;
      if (ssoUrl && !ways.passwords) {
        ctx.status = 303;
        ctx.redirect(ssoUrl);
        return;
      }
      send(ctx, 'Sign in', signInPage({ action: action(uid, 'login'), csrf: sessions.csrf('login', uid), orgName: org.name, agentName: client.clientName ?? client.clientId, ssoUrl, passwords: ways.passwords }));
      return;
    }
    const accountId = details.session?.accountId;
    const user = accountId ? await directory.getUser(client.org_id, accountId) : undefined;
    if (!user) throw new WritError('invalid_request', 'no signed-in user for this interaction');
    send(ctx, 'Allow access', consentPage({
      action: action(uid, 'confirm'), csrf: sessions.csrf('consent', uid), agentName: client.clientName ?? client.clientId,
      clientId: client.clientId, orgName: org.name, username: user.username,
      details: requestedDetails(details.params), refreshDays: deps.refreshDays,
    }));
  });

  router.post('/:uid/login', async (ctx) => {
    const { details, client, org } = await load(ctx);
    const form = await readForm(ctx.req);
    if (!sessions.checkCsrf('login', details.uid, form.get('csrf'))) throw new WritError('forbidden', 'missing or invalid CSRF token');
    if (details.prompt.name !== 'login') throw new WritError('invalid_request', 'this interaction is not asking for sign-in');
    const username = (form.get('username') ?? '').slice(0, 128);
    const password = (form.get('password') ?? '').slice(0, 1024);
    const result = await deps.signIn.attempt(client.org_id, username, password, { ip: ctx.ip });
    if (!result.ok) {
      const error = result.reason === 'locked'
        ? 'Too many failed attempts. Sign-in for this username is locked for a while.'
        : result.reason === 'sso_only' ? `${org.name} signs in through its identity provider only.` : 'Wrong username or password.';
      if (result.retry_after_seconds) ctx.set('retry-after', String(result.retry_after_seconds));
      send(ctx, 'Sign in', signInPage({ action: action(details.uid, 'login'), csrf: sessions.csrf('login', details.uid), orgName: org.name, agentName: client.clientName ?? client.clientId, username, error }),
        result.reason === 'locked' ? 429 : 401);
      return;
    }
    // Signing in here also signs in to Writ's own pages (account, connect links).
    const { value } = sessions.issue(result.user.org_id, result.user.id);
    setCookie(ctx, SESSION_COOKIE, value, { secure: deps.secureCookies, maxAgeSeconds: sessions.ttlSeconds });
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: result.user.id } }, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(redirectTo);
  });

  // The end of a single sign-on for this interaction (sso/routes.ts): the session it issued, with
  // the proof bound to that session's id, signs in the agent's authorization request. A session of
  // another org than the agent's is refused, never carried across.
  router.get('/:uid/sso', async (ctx) => {
    const { details, client } = await load(ctx);
    if (details.prompt.name !== 'login') throw new WritError('invalid_request', 'this interaction is not asking for sign-in');
    const session = sessions.read(ctx.cookies.get(SESSION_COOKIE));
    if (!session || !sessions.checkCsrf('sso-interaction', `${details.uid}.${session.sid}`, ctx.query.proof)) {
      throw new WritError('forbidden', 'this sign-in was not completed in this browser; start again');
    }
    if (session.org_id !== client.org_id) throw new WritError('access_denied', 'the signed-in user does not belong to this agent\'s organisation');
    const user = await directory.getUser(client.org_id, session.user_id);
    if (!user) throw new WritError('access_denied', 'the signed-in user does not belong to this agent\'s organisation');
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: user.id, amr: ['sso'] } }, { mergeWithLastSubmission: false });
    ctx.status = 303;
    ctx.redirect(redirectTo);
  });

  router.post('/:uid/confirm', async (ctx) => {
    const { details, client } = await load(ctx);
    const form = await readForm(ctx.req);
    if (!sessions.checkCsrf('consent', details.uid, form.get('csrf'))) throw new WritError('forbidden', 'missing or invalid CSRF token');
    if (details.prompt.name !== 'consent') throw new WritError('invalid_request', 'this interaction is not asking for consent');
    const accountId = details.session?.accountId;
    if (!accountId) throw new WritError('invalid_request', 'no signed-in user for this interaction');
    const user = await directory.getUser(client.org_id, String(accountId));
    if (!user) throw new WritError('invalid_request', 'the signed-in user does not belong to this agent\'s organisation');

    let result: Record<string, unknown>;
    if (form.get('decision') !== 'approve') {
      await deps.audit.record(client.org_id, { type: 'consent.denied', actor: { kind: 'user', user_id: user.id }, subject: { agent_id: client.clientId, user_id: user.id } });
      result = { error: 'access_denied', error_description: 'the user denied the request' };
    } else {
      // The one rights function: the request within the agent's ceiling, or a refusal.
      const detailsRequested: ToolAccessDetail[] = consentedRights(details.params, client, Date.now());
      const grantId = await recordConsent(provider, deps.grantService, {
        org_id: client.org_id, user_id: user.id, accountId: user.id, clientId: client.clientId, agent_id: client.clientId, params: details.params,
        resource: deps.issuer, toolScopes: String(details.params.scope ?? '').split(' ').filter((s) => s.startsWith(TOOL_SCOPE_PREFIX)), details: detailsRequested,
      });
      result = { consent: { grantId } };
    }
    const redirectTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    ctx.status = 303;
    ctx.redirect(redirectTo);
  });

  return router;
}
