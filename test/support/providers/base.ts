// What every local provider shares: a node:http server on 127.0.0.1, an authorization desk
// (consent form, codes bound to client, redirect_uri and PKCE, tokens bound to a user) and a
// record of every API call with the token it carried and whose token that was.
//
// Consent: the authorization endpoint shows a sign-in-and-approve form (action
// `/consent/login`) that a person — or `openConnectLink` in test/support/connect.ts — fills in
// with a provider username and the password `demo`. Every username is a known user of this
// stand-in: the form signs in whoever is named, as the tests' own fixture directory.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export const PROVIDER_PASSWORD = 'demo';

export interface OAuthClient { client_id: string; client_secret: string; redirect_uris: string[] }

export interface TokenOwner {
  /** The provider-side account the token acts as (a login, a bot, an app actor). */
  user: string;
  client_id: string;
  scopes: string[];
  /** Provider-specific extras (Notion's workspace, Slack's team). */
  extra: Record<string, string>;
}

export interface ProviderCall {
  method: string;
  path: string;
  /** The bearer token the call carried, verbatim. */
  token: string | undefined;
  /** Who that token belongs to, or undefined when the provider does not know it. */
  user: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  status: number;
}

export interface RequestBody { text: string; json: unknown; form: URLSearchParams }

export async function readRequestBody(req: IncomingMessage): Promise<RequestBody> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let json: unknown;
  if ((req.headers['content-type'] ?? '').includes('json') && text) {
    try { json = JSON.parse(text); } catch { json = undefined; }
  }
  return { text, json, form: new URLSearchParams((req.headers['content-type'] ?? '').includes('x-www-form-urlencoded') ? text : '') };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

export function bearer(req: IncomingMessage): string | undefined {
  return /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

/** RFC 6749 §2.3.1 HTTP Basic client credentials, form-decoded. */
export function basicCredentials(req: IncomingMessage): { id: string; secret: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface PendingCode {
  client_id: string;
  redirect_uri: string;
  user: string;
  scopes: string[];
  code_challenge: string | undefined;
  extra: Record<string, string>;
}

export type AuthorizeCheck = (params: URLSearchParams, client: OAuthClient) => string | undefined;

/** Authorization codes and tokens, as an OAuth 2.0 provider keeps them. */
export class AuthorizationDesk {
  readonly #clients = new Map<string, OAuthClient>();
  readonly #codes = new Map<string, PendingCode>();
  readonly tokens = new Map<string, TokenOwner>();
  readonly #tokenPrefix: string;
  readonly #pkce: boolean;
  /** How many authorization codes were redeemed: one per completed connection. */
  redeemed = 0;

  /** `pkce: false` for providers that ignore PKCE parameters (Notion, Slack): a challenge is not kept, a verifier not checked. */
  constructor(clients: OAuthClient[], tokenPrefix: string, options: { pkce?: boolean } = {}) {
    for (const c of clients) this.#clients.set(c.client_id, c);
    this.#tokenPrefix = tokenPrefix;
    this.#pkce = options.pkce ?? true;
  }

  client(client_id: string): OAuthClient | undefined {
    return this.#clients.get(client_id);
  }

  /** The consent page for `GET <authorization endpoint>`, or an error page for a bad request. */
  renderConsent(res: ServerResponse, url: URL, title: string, check?: AuthorizeCheck): void {
    const params = url.searchParams;
    const client = this.#clients.get(params.get('client_id') ?? '');
    // RFC 6749 §4.1.2.1: a bad client or redirect_uri is shown to the person, never redirected.
    if (!client) return page(res, 400, 'Unknown application', '<p>No application has this client_id.</p>');
    if (!client.redirect_uris.includes(params.get('redirect_uri') ?? '')) return page(res, 400, 'Bad redirect', '<p>redirect_uri is not registered for this application.</p>');
    const problem = params.get('response_type') !== 'code' ? 'unsupported_response_type' : !params.get('state') ? 'invalid_request' : check?.(params, client);
    if (problem) {
      const back = new URL(params.get('redirect_uri')!);
      back.searchParams.set('error', problem);
      if (params.get('state')) back.searchParams.set('state', params.get('state')!);
      res.writeHead(302, { location: back.toString() });
      res.end();
      return;
    }
    const hidden = [...params].map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('');
    page(res, 200, title, `<p>Sign in to allow <strong>${escapeHtml(client.client_id)}</strong> to act for you${params.get('scope') ? ` with <code>${escapeHtml(params.get('scope')!)}</code>` : ''}.</p>
      <form method="post" action="/consent/login">${hidden}
        <label>Username <input name="username"></label> <label>Password <input name="password" type="password"></label>
        <button type="submit">Allow</button></form>`);
  }

  /** `POST /consent/login`: signs the person in, approves, and redirects back with code and state. */
  async approve(req: IncomingMessage, res: ServerResponse, scopesOf: (params: URLSearchParams) => string[], extraOf: (user: string) => Record<string, string> = () => ({})): Promise<void> {
    const form = new URLSearchParams((await readRequestBody(req)).text);
    const client = this.#clients.get(form.get('client_id') ?? '');
    const redirect_uri = form.get('redirect_uri') ?? '';
    if (!client || !client.redirect_uris.includes(redirect_uri)) return page(res, 400, 'Bad request', '<p>Unknown application.</p>');
    const user = form.get('username') ?? '';
    if (!user || form.get('password') !== PROVIDER_PASSWORD) return page(res, 401, 'Sign in', '<p>Wrong username or password.</p>');
    const code = randomBytes(16).toString('hex');
    this.#codes.set(code, {
      client_id: client.client_id, redirect_uri, user, scopes: scopesOf(form),
      code_challenge: this.#pkce ? (form.get('code_challenge') ?? undefined) : undefined, extra: extraOf(user),
    });
    const back = new URL(redirect_uri);
    back.searchParams.set('code', code);
    back.searchParams.set('state', form.get('state') ?? '');
    res.writeHead(302, { location: back.toString() });
    res.end();
  }

  /**
   * RFC 6749 §4.1.3 code redemption: once, by the client it was issued to, with the same
   * redirect_uri and (RFC 7636 §4.6) the PKCE verifier when a challenge was sent. Returns an
   * OAuth error code on failure.
   */
  redeem(params: { code: string; client_id: string; client_secret: string; redirect_uri?: string | undefined; code_verifier?: string | undefined }):
    { ok: true; token: string; owner: TokenOwner } | { ok: false; error: string } {
    const client = this.#clients.get(params.client_id);
    if (!client || client.client_secret !== params.client_secret) return { ok: false, error: 'invalid_client' };
    const pending = this.#codes.get(params.code);
    this.#codes.delete(params.code);
    if (!pending || pending.client_id !== client.client_id) return { ok: false, error: 'invalid_grant' };
    if (params.redirect_uri !== undefined && params.redirect_uri !== pending.redirect_uri) return { ok: false, error: 'invalid_grant' };
    if (pending.code_challenge !== undefined) {
      const computed = createHash('sha256').update(params.code_verifier ?? '').digest('base64url');
      if (computed !== pending.code_challenge) return { ok: false, error: 'invalid_grant' };
    }
    this.redeemed++;
    const owner: TokenOwner = { user: pending.user, client_id: client.client_id, scopes: pending.scopes, extra: pending.extra };
    return { ok: true, token: this.mint(owner), owner };
  }

  mint(owner: TokenOwner): string {
    const token = `${this.#tokenPrefix}${randomBytes(20).toString('hex')}`;
    this.tokens.set(token, owner);
    return token;
  }

  /** Revokes every token of a provider user (they removed the app at the provider). */
  revokeUser(user: string): void {
    for (const [token, owner] of this.tokens) if (owner.user === user) this.tokens.delete(token);
  }
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><head><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`);
}

export interface LocalServer { url: string; port: number; close(): Promise<void> }

/** A handler's server on 127.0.0.1 (port 0); a handler error answers 500 and is kept for the test to see. */
export async function listen(handler: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void, server: Server = createServer()): Promise<LocalServer & { errors: unknown[] }> {
  const errors: unknown[] = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    Promise.resolve(handler(req, res, url)).catch((err: unknown) => {
      errors.push(err);
      if (!res.headersSent) sendJson(res, 500, { message: 'stand-in failed' });
      else res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const scheme = 'setSecureContext' in server ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${port}`, port, errors,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}

/** Appends a call to the record and returns it, so the handler can set the status it answered. */
export function record(calls: ProviderCall[], req: IncomingMessage, url: URL, token: string | undefined, owner: TokenOwner | undefined, body: unknown): ProviderCall {
  const call: ProviderCall = { method: req.method ?? 'GET', path: url.pathname + url.search, token, user: owner?.user, headers: { ...req.headers }, body, status: 0 };
  calls.push(call);
  return call;
}
