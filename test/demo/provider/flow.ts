// Drives the demo provider the way a browser and a confidential client would: authorization
// request with PKCE, sign-in form, consent form, code exchange, refresh, revocation.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startDemoProvider, type DemoProvider, type DemoProviderOptions } from '../../../src/demo/provider/index.ts';
import { httpClient, parseForm, type HttpClient, type HttpResponse } from '../../support/http.ts';

export const CLIENT_ID = 'writ-test';
export const CLIENT_SECRET = 'test-secret-of-enough-length';
export const REDIRECT_URI = 'http://127.0.0.1:1/callback';

export async function startTestProvider(overrides: Partial<DemoProviderOptions> = {}): Promise<DemoProvider> {
  return startDemoProvider({
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [REDIRECT_URI] }],
    ...overrides,
  });
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizeUrl(provider: DemoProvider, params: Record<string, string>): string {
  const url = new URL('/auth', provider.url);
  url.search = new URLSearchParams({ response_type: 'code', client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, ...params }).toString();
  return url.toString();
}

export interface AuthorizeOutcome {
  /** The redirect back to the client, with `code` or `error` and `state`. */
  callback: URL;
  /** Pages the browser saw on the way, by kind. */
  pages: Array<'sign-in' | 'consent'>;
}

/** Walks the sign-in and consent pages until the provider redirects to the client. */
export async function authorize(
  browser: HttpClient,
  url: string,
  { username = 'john', password = 'demo', decision = 'approve' }: { username?: string; password?: string; decision?: 'approve' | 'deny' } = {},
): Promise<AuthorizeOutcome> {
  const atClient = (location: string) => location.startsWith(REDIRECT_URI);
  const pages: AuthorizeOutcome['pages'] = [];
  let response = await browser.follow(url, { stop: atClient });
  for (let step = 0; step < 4 && !(response.location && atClient(response.location)); step++) {
    assert.equal(response.status, 200, `expected a page, got ${response.status}: ${response.text.slice(0, 200)}`);
    const page = response.url;
    if (response.text.includes('/login"')) {
      pages.push('sign-in');
      const form = parseForm(response.text, '/login');
      assert.equal(form.method, 'post');
      response = await browser.request(new URL(form.action, page), { method: 'POST', form: { ...form.hidden, username, password } });
    } else {
      pages.push('consent');
      const form = parseForm(response.text, decision === 'approve' ? '/confirm' : '/abort');
      response = await browser.request(new URL(form.action, page), { method: 'POST', form: form.hidden });
    }
    if (response.location && !atClient(response.location)) response = await browser.follow(response.location, { stop: atClient });
  }
  assert.ok(response.location && atClient(response.location), 'the provider never redirected back to the client');
  return { callback: new URL(response.location), pages };
}

export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

/** POSTs to the token endpoint with client_secret_basic (RFC 6749 §2.3.1). */
export async function tokenRequest(provider: DemoProvider, params: Record<string, string>, auth = basic()): Promise<HttpResponse> {
  return httpClient().request(new URL('/token', provider.url), {
    method: 'POST',
    headers: { authorization: auth },
    form: params,
    // A client's back channel, not a page: no Origin (oidc-provider would check it against CORS).
    origin: null,
  });
}

export function basic(clientId = CLIENT_ID, secret = CLIENT_SECRET): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** The whole dance: returns fresh tokens for `username` with `scope`. */
export async function obtainTokens(provider: DemoProvider, { username = 'john', scope = 'notes:read notes:write' } = {}): Promise<TokenSet> {
  const { verifier, challenge } = pkce();
  const state = randomBytes(8).toString('hex');
  const { callback } = await authorize(httpClient(), authorizeUrl(provider, { scope, state, code_challenge: challenge, code_challenge_method: 'S256' }), { username });
  assert.equal(callback.searchParams.get('state'), state);
  const code = callback.searchParams.get('code');
  assert.ok(code, `no code in the callback: ${callback.search}`);
  const response = await tokenRequest(provider, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
  assert.equal(response.status, 200, response.text);
  return response.json as TokenSet;
}

export function api(provider: DemoProvider, path: string, token: string, init: { method?: string; json?: unknown; signal?: AbortSignal } = {}): Promise<HttpResponse> {
  return httpClient().request(new URL(path, provider.url), { ...init, headers: { authorization: `Bearer ${token}` } });
}
