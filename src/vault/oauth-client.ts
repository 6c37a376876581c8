import { createHash, randomBytes } from 'node:crypto';
import { WritError } from '../errors/index.ts';

// The outbound OAuth 2.0 client Writ uses with providers (RFC 6749, PKCE RFC 7636, revocation
// RFC 7009), driven by connector data. Providers bend the RFC in known ways; each bend is handled
// here by name so connectors stay data:
//   - client authentication in the body or in HTTP Basic (RFC 6749 §2.3.1)
//   - token responses as JSON or as form-encoded bodies (GitHub unless asked, and its errors)
//   - errors inside 200 responses (GitHub `{error}`, Slack `{ok:false, error}`)
//   - Slack's user-token responses nested under `authed_user`
//   - tokens without `expires_in`, which never expire
// Errors carry the provider's error code and HTTP status, never a token, code or secret.

export type TokenEndpointAuthMethod = 'client_secret_post' | 'client_secret_basic' | 'none';

export interface OAuthProviderConfig {
  authorization_url: string;
  token_url: string;
  revocation_url?: string | undefined;
  client_id: string;
  client_secret?: string | undefined;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  /** How the provider joins scopes in a request: a space (RFC 6749 §3.3) unless told otherwise. */
  scope_separator?: string | undefined;
  extra_authorize_params?: Record<string, string> | undefined;
}

export interface TokenSet {
  access_token: string;
  token_type: string;
  refresh_token?: string | undefined;
  /** Epoch ms; absent when the provider gave no `expires_in` (a token that never expires). */
  expires_at?: number | undefined;
  /** Granted scopes when the provider said (RFC 6749 §5.1), else undefined. */
  scopes?: string[] | undefined;
}

export type OAuthFailureKind = 'invalid_grant' | 'oauth_error' | 'server_error' | 'network' | 'invalid_response';

/** The provider failed us; `upstream_error` should it ever reach a client (the refresher and the connect flow answer first). */
export class OAuthClientError extends WritError {
  declare readonly reason: OAuthFailureKind;
  /** The provider's error code (`invalid_grant`, `bad_refresh_token`, ...), when it gave one. */
  readonly oauth_error: string | undefined;
  /** The provider's HTTP status (`status` is the one Writ would answer with). */
  readonly provider_status: number | undefined;
  /** Worth trying again later: network failures, 5xx and 429. */
  readonly retryable: boolean;

  constructor(kind: OAuthFailureKind, message: string, options: { oauth_error?: string | undefined; status?: number | undefined; cause?: unknown } = {}) {
    super('upstream_error', message, { reason: kind, cause: options.cause });
    this.name = 'OAuthClientError';
    this.oauth_error = options.oauth_error;
    this.provider_status = options.status;
    this.retryable = kind === 'network' || kind === 'server_error';
  }

  get kind(): OAuthFailureKind {
    return this.reason;
  }
}

export interface OAuthRequestOptions {
  fetch?: typeof fetch;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  now?: () => number;
}

// Provider error codes that mean "this grant is gone, the user has to connect again".
// RFC 6749 §5.2 invalid_grant; GitHub bad_refresh_token / bad_verification_code; Slack
// invalid_refresh_token, token_revoked, invalid_grant_type is not one of them.
const GRANT_GONE = new Set(['invalid_grant', 'bad_refresh_token', 'bad_verification_code', 'invalid_refresh_token', 'token_revoked', 'token_expired']);

/** RFC 7636 §4.1-4.2: a 43-character verifier and its S256 challenge. */
export function createPkce(): { code_verifier: string; code_challenge: string; code_challenge_method: 'S256' } {
  const code_verifier = randomBytes(32).toString('base64url');
  const code_challenge = createHash('sha256').update(code_verifier).digest('base64url');
  return { code_verifier, code_challenge, code_challenge_method: 'S256' };
}

export interface AuthorizationRequest {
  url: string;
  state: string;
  code_verifier: string;
}

/** RFC 6749 §4.1.1 with PKCE S256 and an unguessable `state` (RFC 6749 §10.12). */
export function createAuthorizationRequest(
  config: OAuthProviderConfig,
  params: { redirect_uri: string; scopes: string[]; state?: string },
): AuthorizationRequest {
  const pkce = createPkce();
  const state = params.state ?? randomBytes(24).toString('base64url');
  const url = new URL(config.authorization_url);
  for (const [k, v] of Object.entries(config.extra_authorize_params ?? {})) url.searchParams.set(k, v);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', config.client_id);
  url.searchParams.set('redirect_uri', params.redirect_uri);
  if (params.scopes.length > 0) url.searchParams.set('scope', params.scopes.join(config.scope_separator ?? ' '));
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', pkce.code_challenge);
  url.searchParams.set('code_challenge_method', pkce.code_challenge_method);
  return { url: url.toString(), state, code_verifier: pkce.code_verifier };
}

/** RFC 6749 §4.1.3: trade the authorization code (and PKCE verifier) for tokens. */
export function exchangeCode(
  config: OAuthProviderConfig,
  params: { code: string; redirect_uri: string; code_verifier: string },
  options: OAuthRequestOptions = {},
): Promise<TokenSet> {
  return tokenRequest(config, {
    grant_type: 'authorization_code', code: params.code, redirect_uri: params.redirect_uri, code_verifier: params.code_verifier,
  }, options);
}

/** RFC 6749 §6. The caller keeps the old refresh token when the response carries none. */
export function refreshAccessToken(config: OAuthProviderConfig, refresh_token: string, options: OAuthRequestOptions = {}): Promise<TokenSet> {
  return tokenRequest(config, { grant_type: 'refresh_token', refresh_token }, options);
}

/**
 * RFC 7009 §2.1. Returns false when the provider has no revocation endpoint. §2.2: a 200 means
 * done, including for tokens the provider no longer knows.
 */
export async function revokeToken(
  config: OAuthProviderConfig,
  token: string,
  token_type_hint: 'access_token' | 'refresh_token',
  options: OAuthRequestOptions = {},
): Promise<boolean> {
  if (!config.revocation_url) return false;
  const response = await post(config, config.revocation_url, { token, token_type_hint }, options);
  if (response.status >= 200 && response.status < 300) return true;
  const body = await readBody(response);
  throw failure(response.status, body);
}

async function tokenRequest(config: OAuthProviderConfig, params: Record<string, string>, options: OAuthRequestOptions): Promise<TokenSet> {
  const now = options.now ?? Date.now;
  const response = await post(config, config.token_url, params, options);
  const body = await readBody(response);
  const error = errorCode(body);
  if (response.status >= 400 || error !== undefined) throw failure(response.status, body);
  return toTokenSet(body, now());
}

function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

async function post(config: OAuthProviderConfig, url: string, params: Record<string, string>, options: OAuthRequestOptions): Promise<Response> {
  const body = new URLSearchParams(params);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    // GitHub answers form-encoded bodies unless asked for JSON.
    accept: 'application/json',
  };
  if (config.token_endpoint_auth_method === 'client_secret_basic') {
    // RFC 6749 §2.3.1: both parts form-encoded before base64.
    const basic = Buffer.from(`${formEncode(config.client_id)}:${formEncode(config.client_secret ?? '')}`).toString('base64');
    headers.authorization = `Basic ${basic}`;
  } else {
    body.set('client_id', config.client_id);
    if (config.token_endpoint_auth_method === 'client_secret_post' && config.client_secret !== undefined) {
      body.set('client_secret', config.client_secret);
    }
  }
  try {
    return await (options.fetch ?? fetch)(url, {
      method: 'POST', headers, body, redirect: 'error', signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (cause) {
    // The cause may name the URL; it never holds the body we sent.
    throw new OAuthClientError('network', `could not reach the provider's endpoint at ${new URL(url).host}`, { cause });
  }
}

type Body = Record<string, unknown>;

async function readBody(response: Response): Promise<Body> {
  const text = await response.text().catch(() => '');
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json') || /^\s*[{[]/.test(text)) {
    try {
      const value: unknown = JSON.parse(text);
      return value && typeof value === 'object' && !Array.isArray(value) ? (value as Body) : {};
    } catch {
      return {};
    }
  }
  if (type.includes('x-www-form-urlencoded') || /^[\w.%+-]+=/.test(text)) return Object.fromEntries(new URLSearchParams(text));
  return {};
}

/** The provider's error code, from `error` or Slack's `ok: false`; sanitised for logs. */
function errorCode(body: Body): string | undefined {
  const raw = body.error ?? (body.ok === false ? 'unknown_error' : undefined);
  if (raw === undefined || raw === null || raw === '') return undefined;
  const code = typeof raw === 'string' ? raw : 'unknown_error';
  return /^[\w.-]{1,64}$/.test(code) ? code : 'unknown_error';
}

function failure(status: number, body: Body): OAuthClientError {
  const code = errorCode(body);
  if (status >= 500 || status === 429) {
    return new OAuthClientError('server_error', `provider answered HTTP ${status}${code ? ` (${code})` : ''}`, { status, oauth_error: code });
  }
  if (code && GRANT_GONE.has(code)) {
    return new OAuthClientError('invalid_grant', `provider rejected the grant (${code})`, { status, oauth_error: code });
  }
  return new OAuthClientError('oauth_error', `provider answered HTTP ${status} (${code ?? 'no error code'})`, { status, oauth_error: code });
}

function toTokenSet(body: Body, now: number): TokenSet {
  // Slack v2 installs that ask only for user scopes put the user token under `authed_user`.
  const source: Body = typeof body.access_token !== 'string' && body.authed_user && typeof body.authed_user === 'object'
    ? (body.authed_user as Body)
    : body;
  const access_token = source.access_token;
  if (typeof access_token !== 'string' || access_token.length === 0) {
    throw new OAuthClientError('invalid_response', 'token response has no access_token');
  }
  const set: TokenSet = {
    access_token,
    // RFC 6749 §5.1 makes token_type required; Slack omits it on bot tokens. Bearer is the only type we send.
    token_type: typeof source.token_type === 'string' && source.token_type ? source.token_type : 'Bearer',
  };
  if (typeof source.refresh_token === 'string' && source.refresh_token) set.refresh_token = source.refresh_token;
  const expiresIn = Number(source.expires_in);
  if (source.expires_in !== undefined && source.expires_in !== null && source.expires_in !== '' && Number.isFinite(expiresIn) && expiresIn > 0) {
    set.expires_at = now + expiresIn * 1000;
  }
  if (typeof source.scope === 'string') set.scopes = source.scope.split(/[\s,]+/).filter(Boolean);
  // Some providers (Linear) answer the granted scopes as a JSON array.
  else if (Array.isArray(source.scope)) set.scopes = source.scope.filter((x): x is string => typeof x === 'string' && x.length > 0);
  return set;
}
