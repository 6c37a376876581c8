// The console's single sign-on page: the org's OpenID provider as a form, validated by the same
// schema as the admin API. The client secret is never shown; saving asks for it again.

import type { IdentityProviderView } from '../sso/service.ts';
import { identityProviderBody, type IdentityProviderBody } from '../sso/schema.ts';
import { html, type SafeHtml } from '../web/html.ts';
import type { Frame } from './views.ts';

export interface SsoView {
  frame: Frame;
  provider: IdentityProviderView | undefined;
  /** Values to show again after a refused save. */
  input?: Record<string, string> | undefined;
  error?: string | undefined;
  notice?: string | undefined;
  redirectUri: string;
}

const words = (v: string | undefined) => (v ?? '').split(/[\s,]+/).filter(Boolean);

/** The form's fields as the admin API's body; the first problem as a sentence. */
export function ssoForm(form: Record<string, string>): { ok: true; body: IdentityProviderBody } | { ok: false; error: string } {
  const raw = {
    issuer: form.issuer?.trim(), client_id: form.client_id?.trim(),
    token_endpoint_auth_method: form.token_endpoint_auth_method || 'client_secret_basic',
    client_secret: form.client_secret || undefined,
    scopes: words(form.scopes).length ? words(form.scopes) : undefined,
    claims: {
      username: form.claim_username?.trim() || 'preferred_username', email: form.claim_email?.trim() || 'email',
      display_name: form.claim_display_name?.trim() || 'name', roles: form.claim_roles?.trim() || 'groups',
    },
    admin_values: words(form.admin_values), domains: words(form.domains),
    local_passwords: form.local_passwords === 'on',
    sensitive_max_age: form.sensitive_max_age?.trim() ? Number(form.sensitive_max_age) : undefined,
    accept_id_jag: form.accept_id_jag === 'on',
  };
  const parsed = identityProviderBody.safeParse(raw);
  if (parsed.success) return { ok: true, body: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { ok: false, error: `${issue.path.join('.') || 'form'}: ${issue.message}` };
}

export function ssoPage(v: SsoView): SafeHtml {
  const p = v.provider;
  const val = (name: string, current: string | undefined) => v.input?.[name] ?? current ?? '';
  const checked = (name: string, current: boolean) => ((v.input ? v.input[name] === 'on' : current) ? html` checked` : '');
  const method = val('token_endpoint_auth_method', p?.token_endpoint_auth_method);
  return html`
    <h1>Single sign-on</h1>
    ${v.notice ? html`<p role="status">${v.notice}</p>` : ''}
    ${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
    <p>${p ? html`People of ${v.frame.org.name} sign in through <code>${p.issuer}</code>${p.local_passwords ? ' or with a Writ password' : ' only'}.` : html`${v.frame.org.name} signs in with Writ passwords: no identity provider is set.`}
      Register <code>${v.redirectUri}</code> as a redirect URI at the provider.</p>
    <form method="post" action="/console/sso">
      <input type="hidden" name="csrf" value="${v.frame.csrf}">
      <label for="issuer">Issuer URL</label>
      <input type="url" id="issuer" name="issuer" required value="${val('issuer', p?.issuer)}">
      <label for="client_id">Client id at the provider</label>
      <input type="text" id="client_id" name="client_id" required value="${val('client_id', p?.client_id)}">
      <label for="token_endpoint_auth_method">Client authentication</label>
      <select id="token_endpoint_auth_method" name="token_endpoint_auth_method">
        <option value="client_secret_basic"${method !== 'client_secret_post' ? html` selected` : ''}>client_secret_basic</option>
        <option value="client_secret_post"${method === 'client_secret_post' ? html` selected` : ''}>client_secret_post</option>
      </select>
      <label for="client_secret">Client secret (${p?.client_secret_set ? 'set; enter it again to save' : 'required'})</label>
      <input type="password" id="client_secret" name="client_secret" autocomplete="off" required>
      <label for="scopes">Scopes</label>
      <input type="text" id="scopes" name="scopes" value="${val('scopes', (p?.scopes ?? ['openid', 'email', 'profile']).join(' '))}">
      <label for="domains">Email domains (home-realm discovery; other domains are refused)</label>
      <input type="text" id="domains" name="domains" value="${val('domains', p?.domains.join(' '))}">
      <label for="admin_values">Values of the roles claim that make an admin</label>
      <input type="text" id="admin_values" name="admin_values" value="${val('admin_values', p?.admin_values.join(' '))}">
      <label for="claim_username">Username claim</label>
      <input type="text" id="claim_username" name="claim_username" value="${val('claim_username', p?.claims.username ?? 'preferred_username')}">
      <label for="claim_email">Email claim</label>
      <input type="text" id="claim_email" name="claim_email" value="${val('claim_email', p?.claims.email ?? 'email')}">
      <label for="claim_display_name">Display name claim</label>
      <input type="text" id="claim_display_name" name="claim_display_name" value="${val('claim_display_name', p?.claims.display_name ?? 'name')}">
      <label for="claim_roles">Roles claim</label>
      <input type="text" id="claim_roles" name="claim_roles" value="${val('claim_roles', p?.claims.roles ?? 'groups')}">
      <label for="sensitive_max_age">Seconds since the provider's sign-in, at most, for consent to an agent</label>
      <input type="number" id="sensitive_max_age" name="sensitive_max_age" min="0" max="86400" value="${val('sensitive_max_age', String(p?.sensitive_max_age ?? 300))}">
      <p><input type="checkbox" id="local_passwords" name="local_passwords"${checked('local_passwords', p?.local_passwords ?? true)}>
        <label for="local_passwords">Writ passwords still work</label></p>
      <p><input type="checkbox" id="accept_id_jag" name="accept_id_jag"${checked('accept_id_jag', p?.accept_id_jag ?? false)}>
        <label for="accept_id_jag">Accept ID-JAGs this provider signs (cross-app access)</label></p>
      <button type="submit">Save</button>
    </form>
    ${p ? html`<form method="post" action="/console/sso/remove">
      <input type="hidden" name="csrf" value="${v.frame.csrf}">
      <button type="submit" class="danger">Remove the identity provider</button>
    </form>` : ''}`;
}
