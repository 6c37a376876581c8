import Router from '@koa/router';
import type { Context } from 'koa';
import type { Clock } from '../core/clock.ts';
import { WritError } from '../errors/index.ts';
import type { DirectoryStore, UserRecord } from '../storage/ports/directory.ts';
import { readForm } from '../web/body.ts';
import { html, renderPage, table, when, type PageNav, type SafeHtml } from '../web/html.ts';
import { SESSION_COOKIE, type SessionCodec, type UserSession } from '../web/session.ts';
import { argumentsOf, mayApprove, type ApprovalService } from './service.ts';
import type { ApprovalRecord, ApprovalSettings } from './store.ts';

// The approver's pages: `/account/approvals` for the people a request names (the user the agent
// acts for, or a group member), `/console/approvals` for an org's admins. Each pending request
// shows the agent chain, the tool, the resource, every argument, the binding message and the time
// left, with Approve and Deny. Deciding needs a sign-in fresher than the policy's `fresh_sign_in`:
// an older one is asked for the password again in the same form. No script; works at 390 px.

export interface ApprovalPagesDeps {
  approvals: ApprovalService;
  directory: DirectoryStore;
  sessions: SessionCodec;
  clock: Clock;
  /** Checks the signed-in person's password again (throttled and on the record like any sign-in). */
  confirmPassword: (user: UserRecord, password: string, ip: string) => Promise<boolean>;
  /** The header's navigation on `path` for the signed-in person: the account's or the console's, drawn by the composition root. */
  nav?: ((who: { session: UserSession; user: UserRecord }, path: Surface['path']) => Promise<PageNav | undefined>) | undefined;
}

const CSRF = 'approvals';

type Surface = { path: '/account/approvals' | '/console/approvals'; admin: boolean };

export function approvalPages(deps: ApprovalPagesDeps): Router[] {
  return [surface(deps, { path: '/account/approvals', admin: false }), surface(deps, { path: '/console/approvals', admin: true })];
}

function surface(deps: ApprovalPagesDeps, where: Surface): Router {
  const router = new Router({ prefix: where.path });

  /** The signed-in person, or a redirect to sign in (and back here). */
  async function signedIn(ctx: Context): Promise<{ session: UserSession; user: UserRecord } | undefined> {
    const session = deps.sessions.read(ctx.cookies.get(SESSION_COOKIE));
    const org = typeof ctx.query.org === 'string' ? ctx.query.org : undefined;
    if (!session || (org && org !== session.org_id)) {
      if (!org) throw new WritError('invalid_request', `open this page with ?org=<your organisation id>, or sign in at /account first`);
      ctx.status = 303;
      ctx.redirect(`/account?org=${encodeURIComponent(org)}&next=${encodeURIComponent(where.path)}`);
      return undefined;
    }
    const user = await deps.directory.getUser(session.org_id, session.user_id);
    if (!user) throw new WritError('unauthorized', 'your session no longer matches a user');
    if (where.admin && !user.roles.includes('admin')) throw new WritError('forbidden', 'only an org admin can open the console');
    return { session, user };
  }

  /** Epoch ms the session's sign-in happened. */
  const signedInAt = (session: UserSession) => (session.exp - deps.sessions.ttlSeconds) * 1000;

  async function show(ctx: Context, who: { session: UserSession; user: UserRecord }, notice?: { id: string; text: string }, status = 200) {
    const settings = await deps.approvals.settings(who.user.org_id);
    const all = await deps.approvals.list(who.user.org_id, where.admin ? {} : { user_id: who.user.id });
    const pending = (where.admin ? all : await deps.approvals.pendingFor(who.user)).filter((r) => r.status === 'pending');
    const decided = all.filter((r) => r.status !== 'pending').slice(0, 20);
    const agents = new Map((await deps.directory.listAgents(who.user.org_id)).map((a) => [a.client_id, a.name]));
    const users = new Map((await deps.directory.listUsers(who.user.org_id)).map((u) => [u.id, u.username]));
    const now = deps.clock.now();
    const fresh = (r: ApprovalRecord) => now - signedInAt(who.session) <= r.requirement.fresh_sign_in * 1000;
    const csrf = deps.sessions.csrf(CSRF, who.session.sid);
    const name = (id: string, names: Map<string, string>) => names.get(id) ?? id;
    const page = renderPage({
      title: 'Approvals',
      nav: await deps.nav?.(who, where.path),
      body: html`
        <h1>Approvals</h1>
        <p class="muted">${where.admin ? 'Calls agents of your organisation are waiting to make.' : 'Calls agents are waiting to make for you.'}
          Nothing happens until someone approves, and an approval is good for exactly the call shown, once.</p>
        ${pending.length === 0 ? html`<p>No calls are waiting for approval.</p>` : pending.map((r) => html`
        <section class="approval" aria-labelledby="h-${r.id}">
          <h2 id="h-${r.id}"><code>${r.details[0]?.tools[0]}</code> for ${name(r.user_id, users)}</h2>
          ${r.binding_message ? html`<p>Message from the agent: <strong>${r.binding_message}</strong></p>` : ''}
          <dl>
            <dt>Agent</dt><dd>${r.chain.map((a, i) => html`${i ? html` for ` : ''}${name(a, agents)} (<code>${a}</code>)`)}</dd>
            <dt>Resource</dt><dd>${(r.details[0]?.resources ?? []).length ? r.details[0]!.resources!.map((x) => html`<code>${x}</code> `) : 'any'}</dd>
            ${Object.entries(argumentsOf(r)).map(([k, v]) => html`<dt>${k}</dt><dd><code>${JSON.stringify(v)}</code></dd>`)}
            <dt>Time left</dt><dd>${timeLeft(Date.parse(r.expires_at) - now)}</dd>
          </dl>
          ${notice?.id === r.id ? html`<p class="error" role="alert">${notice.text}</p>` : ''}
          ${mayApprove(r, who.user, settings) ? decisionForm(where.path, r, csrf, fresh(r)) : html`<p class="muted">Waiting for ${describeApprovers(r, settings)}.</p>`}
        </section>`)}
        ${decided.length ? html`<h2>Recent decisions</h2>
        ${table(decided, [
          { label: 'Call', rowHeader: true, cell: (r) => html`<code>${r.details[0]?.tools[0]}</code> for ${name(r.user_id, users)}` },
          { label: 'Arguments', cell: (r) => Object.entries(argumentsOf(r)).map(([k, v]) => html`<code>${k}=${JSON.stringify(v)}</code> `) },
          { label: 'Outcome', cell: (r) => outcome(r, users) },
          { label: 'When', cell: (r) => when(r.decided_at ?? r.created_at, now) },
        ])}` : ''}`,
    });
    ctx.status = status;
    ctx.set(page.headers);
    ctx.body = page.body;
  }

  router.get('/', async (ctx) => {
    const who = await signedIn(ctx);
    if (who) await show(ctx, who);
  });

  router.post('/:id', async (ctx) => {
    const session = deps.sessions.read(ctx.cookies.get(SESSION_COOKIE));
    if (!session) throw new WritError('unauthorized', 'sign in first');
    const form = await readForm(ctx.req);
    if (!deps.sessions.checkCsrf(CSRF, session.sid, form.get('csrf'))) throw new WritError('forbidden', 'missing or invalid CSRF token');
    const who = await signedIn(ctx);
    if (!who) return;
    const id = String(ctx.params.id);
    const record = await deps.approvals.get(who.user.org_id, id);
    if (!record) throw new WritError('not_found', 'no such approval request');
    const decision = form.get('decision') === 'approve' ? 'approve' : form.get('decision') === 'deny' ? 'deny' : undefined;
    if (!decision) throw new WritError('invalid_request', 'decision must be approve or deny');
    // A sign-in older than the policy allows is renewed here, with the password, in the same form.
    if (deps.clock.now() - signedInAt(who.session) > record.requirement.fresh_sign_in * 1000) {
      const password = form.get('password') ?? '';
      if (!password || !(await deps.confirmPassword(who.user, password.slice(0, 1024), ctx.ip))) {
        await show(ctx, who, { id, text: password ? 'Wrong password.' : `Your sign-in is older than ${minutes(record.requirement.fresh_sign_in)}: enter your password to decide.` }, 401);
        return;
      }
    }
    await deps.approvals.decide(who.user.org_id, id, who.user, { kind: 'user', user_id: who.user.id }, decision, (form.get('reason') ?? '').trim() || undefined);
    ctx.status = 303;
    ctx.redirect(where.path);
  });

  return router;
}

function decisionForm(path: string, r: ApprovalRecord, csrf: string, fresh: boolean): SafeHtml {
  return html`<form method="post" action="${path}/${r.id}">
    <input type="hidden" name="csrf" value="${csrf}">
    ${fresh ? '' : html`<label for="pw-${r.id}">Your password (your sign-in is older than ${minutes(r.requirement.fresh_sign_in)})</label>
    <input type="password" id="pw-${r.id}" name="password" autocomplete="current-password">`}
    <label for="reason-${r.id}">Reason (optional, shown to the agent if you deny)</label>
    <input type="text" id="reason-${r.id}" name="reason" maxlength="200">
    <button type="submit" name="decision" value="approve">Approve</button>
    <button type="submit" name="decision" value="deny">Deny</button>
  </form>`;
}

function describeApprovers(r: ApprovalRecord, _settings: ApprovalSettings): string {
  return r.requirement.approvers.map((a) => (a === 'user' ? 'the user' : a === 'org_admin' ? 'an org admin' : `group ${a.group}`)).join(' and ');
}

function outcome(r: ApprovalRecord, users: Map<string, string>): string {
  const by = r.decided_by?.kind === 'user' ? users.get(r.decided_by.user_id) ?? r.decided_by.user_id
    : r.decided_by?.kind === 'admin_api' ? `the admin API for ${users.get(r.decided_by.on_behalf_of) ?? r.decided_by.on_behalf_of}` : undefined;
  switch (r.status) {
    case 'approved': return `approved by ${by}, not used yet`;
    case 'issued': return `approved by ${by}, capability issued`;
    case 'denied': return `denied by ${by}${r.reason ? `: ${r.reason}` : ''}`;
    case 'expired': return 'expired without a decision';
    default: return r.status;
  }
}

function minutes(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} minute${seconds === 60 ? '' : 's'}` : `${seconds} seconds`;
}

function timeLeft(ms: number): string {
  if (ms <= 0) return 'expired';
  const s = Math.ceil(ms / 1000);
  return s < 120 ? `${s} seconds` : `${Math.floor(s / 60)} minutes`;
}
