import type { ToolAccessDetail } from '../rights/rights.ts';
import { html, renderPage, SafeHtml, when, type Page } from '../web/html.ts';

type Ctx = { status: number; body: unknown; set(headers: Record<string, string>): void };

/** Answers with a page in the one layout; `layout` adds the header's navigation and the wide width. */
export function send(ctx: Ctx, title: string, body: SafeHtml, status = 200, layout: Pick<Page, 'nav' | 'wide'> = {}): void {
  const page = renderPage({ title, body, ...layout });
  ctx.status = status;
  ctx.set(page.headers);
  ctx.body = page.body;
}

export function renderErrorPage(ctx: unknown, out: { error: string; error_description?: string }): void {
  send(ctx as Ctx, 'Something went wrong', html`
    <h1>This request could not be completed</h1>
    <p class="error"><code>${out.error}</code>${out.error_description ? html` — ${out.error_description}` : ''}</p>
    <p class="muted">Go back to the application that sent you here and try again.</p>`, (ctx as Ctx).status || 400);
}

/**
 * RP-initiated logout's confirmation (`/session/end`), in Writ's page. `form` is oidc-provider's
 * own `<form id="op.logoutForm">` holding its action and the session's xsrf value.
 */
export function renderLogoutPage(ctx: unknown, form: string): void {
  send(ctx as Ctx, 'Sign out', html`
    <h1>Sign out of Writ?</h1>
    ${new SafeHtml(form)}
    <button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
    <button type="submit" form="op.logoutForm">Stay signed in</button>`);
}

export function renderSignedOutPage(ctx: unknown): void {
  send(ctx as Ctx, 'Signed out', html`<h1>You are signed out</h1><p class="muted">You can close this page.</p>`);
}

export interface SignInView {
  action: string;
  csrf: string;
  orgName: string;
  agentName?: string | undefined;
  username?: string | undefined;
  error?: string | undefined;
  /** Shown on the account sign-in page, where the org is chosen by id. */
  orgField?: string | undefined;
  /** Where the org's single sign-on starts, when it has one. */
  ssoUrl?: string | undefined;
  /** False when the org signs in through its identity provider only. */
  passwords?: boolean | undefined;
}

export function signInPage(v: SignInView): SafeHtml {
  return html`
    <h1>Sign in to ${v.orgName}</h1>
    ${v.agentName ? html`<p><strong>${v.agentName}</strong> is asking for access on your behalf. Sign in to continue.</p>` : ''}
    ${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
    ${v.ssoUrl ? html`<p><a id="sso" href="${v.ssoUrl}">Sign in with ${v.orgName}'s identity provider</a></p>` : ''}
    ${v.passwords === false ? '' : html`<form method="post" action="${v.action}">
      <input type="hidden" name="csrf" value="${v.csrf}">
      ${v.orgField !== undefined ? html`<input type="hidden" name="org" value="${v.orgField}">` : ''}
      <label for="username">Username</label>
      <input type="text" id="username" name="username" autocomplete="username" required value="${v.username ?? ''}">
      <label for="password">Password</label>
      <input type="password" id="password" name="password" autocomplete="current-password" required>
      <button type="submit">Sign in</button>
    </form>`}`;
}

/** One `tool_access` detail in words, as a list item; `now` (epoch ms) for how soon it ends. */
export function describeDetail(d: ToolAccessDetail, now: number = Date.now()): SafeHtml {
  // One run of text: a line break between the parts would show as a space before each comma.
  const tools = d.tools.map((t, i) => html`${i ? ', ' : ''}<code>${t}</code>`);
  const where = d.resources ? html` on ${d.resources.map((r, i) => html`${i ? ', ' : ''}<code>${r}</code>`)}` : html` on any resource`;
  const only = d.constraints ? html`, only where ${Object.entries(d.constraints).map(([k, c], i) => html`${i ? '; ' : ''}<code>${k}</code> ${describeConstraint(c)}`)}` : '';
  const until = d.expires_at ? html`, until ${when(d.expires_at, now)}` : '';
  return html`<li>${tools}${where}${only}${until}</li>`;
}

function describeConstraint(c: NonNullable<ToolAccessDetail['constraints']>[string]): string {
  const parts: string[] = [];
  if (c.eq !== undefined) parts.push(`is ${c.eq}`);
  if (c.one_of) parts.push(`is one of ${c.one_of.join(', ')}`);
  if (c.starts_with) parts.push(`starts with ${c.starts_with}`);
  if (c.ends_with) parts.push(`ends with ${c.ends_with}`);
  if (c.max !== undefined) parts.push(`is at most ${c.max}`);
  if (c.min !== undefined) parts.push(`is at least ${c.min}`);
  return parts.join(' and ');
}

export interface ConsentView {
  action: string;
  csrf: string;
  agentName: string;
  clientId: string;
  orgName: string;
  username: string;
  details: ToolAccessDetail[];
  refreshDays: number;
}

export function consentPage(v: ConsentView): SafeHtml {
  return html`
    <h1>Allow ${v.agentName} to act for you?</h1>
    <p>The agent <strong>${v.agentName}</strong> (<code>${v.clientId}</code>) of <strong>${v.orgName}</strong> asks to act
      as <strong>${v.username}</strong> with these tools:</p>
    <ul>${v.details.map((d) => describeDetail(d))}</ul>
    ${consentFooter(v)}`;
}

/** The end of every consent page: for how long, on the record, revocable; Approve or Deny. */
export function consentFooter(v: { action: string; csrf: string; refreshDays: number }): SafeHtml {
  return html`
    <p class="muted">It can use them until you revoke this access, for at most ${v.refreshDays} days without your
      returning. Every use is recorded in your organisation's audit log. You can revoke it at any time from your account page.</p>
    <form method="post" action="${v.action}">
      <input type="hidden" name="csrf" value="${v.csrf}">
      <button type="submit" name="decision" value="approve">Approve</button>
      <button type="submit" name="decision" value="deny">Deny</button>
    </form>`;
}
