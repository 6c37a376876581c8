// The agent SDK: trade a delegated token for a capability (RFC 8693), then spend it at the
// executor. Plain fetch and jose; no server code behind it.

import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createDpopKey, dpopProof, type DpopKey } from './dpop.ts';
import { ExecutorError, TokenExchangeError, WritClientError, type ExecutorErrorCode } from './errors.ts';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';
export const TOKEN_TYPES = {
  access_token: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  biscuit: 'urn:writ:params:oauth:token-type:biscuit',
} as const;

export interface WritClientOptions {
  /** Writ's issuer URL, e.g. `https://writ.example`. */
  issuer: string;
  clientId: string;
  /** `client_secret_basic`. */
  clientSecret?: string;
  /** `private_key_jwt` (RFC 7523): a private JWK (with `alg`, or OKP/EC/RSA defaults) or a KeyObject. */
  privateKey?: JWK | KeyObject;
  /** `kid` for the client assertion header, when the agent registered several keys. */
  keyId?: string;
  /** Retries after `rate_limited` / 503 that honour `Retry-After`. Default 2. */
  maxRetries?: number;
  /** Never wait longer than this for one retry (seconds); a longer `Retry-After` is thrown. Default 30. */
  maxRetryDelaySeconds?: number;
  fetch?: typeof fetch;
}

export interface ToolAccessDetail {
  type: 'tool_access';
  tools: string[];
  resources?: string[];
  constraints?: Record<string, unknown>;
}

export interface ExchangeOptions {
  /** The delegated access token (or a capability, for sub-agent chains). */
  subjectToken: string;
  /** Default: the access-token URN. */
  subjectTokenType?: string;
  tool?: string;
  tools?: string[];
  /** One resource (or pattern) the capability is narrowed to. */
  resource?: string;
  format?: 'jwt' | 'biscuit';
  /** Bind the capability to this client's DPoP key (RFC 9449). */
  dpop?: boolean;
  /** The downstream audience; default the executor. */
  audience?: string;
  /** The sub-agent's identity for a chained exchange (RFC 8693 §4.1). */
  actorToken?: string;
  actorTokenType?: string;
}

export interface ApprovalRequestOptions {
  /** The user's delegated access token (`login_hint_token`); or name the user with `user`. */
  subjectToken?: string;
  /** The user's id or username (`login_hint`), when this agent holds a live grant of theirs. */
  user?: string;
  tool: string;
  /** The one resource the call acts on. */
  resource?: string;
  /** Every argument of the call, exactly as it will be executed. */
  arguments: Record<string, string | number | boolean>;
  /** Shown to the approver beside the call (1-100 printable characters). */
  bindingMessage?: string;
  /** Seconds the request may wait (`requested_expiry`); the policy's `max_wait` caps it. */
  expiresIn?: number;
  /** Ping mode: the token Writ presents to this agent's notification endpoint. */
  clientNotificationToken?: string;
}

/** A request for a person's approval (OpenID CIBA), as the backchannel endpoint answered it. */
export interface ApprovalRequest {
  authReqId: string;
  expiresIn: number;
  /** Seconds between polls. */
  interval: number;
}

export interface AwaitApprovalOptions {
  format?: 'jwt' | 'biscuit';
  /** Bind the capability to this client's DPoP key (RFC 9449). */
  dpop?: boolean;
  signal?: AbortSignal;
  /** How to wait between polls; default a timer. */
  wait?: (seconds: number, signal?: AbortSignal) => Promise<void>;
}

export interface Capability {
  token: string;
  tokenType: 'Bearer' | 'DPoP';
  expiresIn: number;
  authorizationDetails: ToolAccessDetail[];
  issuedTokenType: string;
}

interface Metadata { token_endpoint: string; issuer: string; backchannel_authentication_endpoint?: string }

const ALG_FOR: Record<string, string> = { OKP: 'EdDSA', EC: 'ES256', RSA: 'RS256' };

export class WritClient {
  readonly issuer: string;
  readonly clientId: string;
  readonly #secret: string | undefined;
  readonly #privateKey: JWK | KeyObject | undefined;
  readonly #keyId: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #maxRetries: number;
  readonly #maxDelay: number;
  #metadata: Promise<Metadata> | undefined;
  #dpop: Promise<DpopKey> | undefined;
  #signingKey: Promise<{ key: CryptoKey | KeyObject; alg: string }> | undefined;
  #nonce: string | undefined;

  constructor(options: WritClientOptions) {
    if (!options.issuer || !options.clientId) throw new TypeError('WritClient needs issuer and clientId');
    if ((options.clientSecret === undefined) === (options.privateKey === undefined)) throw new TypeError('WritClient needs exactly one of clientSecret or privateKey');
    this.issuer = options.issuer.replace(/\/+$/, '');
    this.clientId = options.clientId;
    this.#secret = options.clientSecret;
    this.#privateKey = options.privateKey;
    this.#keyId = options.keyId;
    this.#fetch = options.fetch ?? fetch;
    this.#maxRetries = options.maxRetries ?? 2;
    this.#maxDelay = options.maxRetryDelaySeconds ?? 30;
  }

  /** This client's DPoP key (one per client instance, made on first use). */
  dpopKey(): Promise<DpopKey> {
    this.#dpop ??= createDpopKey();
    return this.#dpop;
  }

  /** RFC 8693 token exchange: a capability for one tool (or a few) on one resource. */
  async exchange(options: ExchangeOptions): Promise<Capability> {
    const tools = options.tools ?? (options.tool ? [options.tool] : []);
    if (tools.length === 0) throw new TypeError('exchange needs tool or tools');
    const detail: ToolAccessDetail = { type: 'tool_access', tools, ...(options.resource ? { resources: [options.resource] } : {}) };
    const params = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: options.subjectToken,
      subject_token_type: options.subjectTokenType ?? TOKEN_TYPES.access_token,
      requested_token_type: options.format === 'biscuit' ? TOKEN_TYPES.biscuit : TOKEN_TYPES.jwt,
      authorization_details: JSON.stringify([detail]),
    });
    if (options.audience) params.set('audience', options.audience);
    if (options.actorToken) {
      params.set('actor_token', options.actorToken);
      params.set('actor_token_type', options.actorTokenType ?? TOKEN_TYPES.jwt);
    }
    const { token_endpoint } = await this.#discover();
    return capabilityOf(await this.#tokenRequest(token_endpoint, params, options.dpop === true), [detail]);
  }

  /**
   * Asks a person to approve one exact call (OpenID CIBA with `authorization_details`), when the
   * exchange answered that approval is required. Resolve it with `awaitApproval`.
   */
  async requestApproval(options: ApprovalRequestOptions): Promise<ApprovalRequest> {
    if ((options.subjectToken === undefined) === (options.user === undefined)) throw new TypeError('requestApproval needs exactly one of subjectToken or user');
    const detail: ToolAccessDetail = {
      type: 'tool_access', tools: [options.tool], ...(options.resource ? { resources: [options.resource] } : {}),
      constraints: Object.fromEntries(Object.entries(options.arguments).map(([field, value]) => [field, { eq: value }])),
    };
    const params = new URLSearchParams({ scope: 'openid', authorization_details: JSON.stringify([detail]) });
    if (options.subjectToken !== undefined) params.set('login_hint_token', options.subjectToken);
    if (options.user !== undefined) params.set('login_hint', options.user);
    if (options.bindingMessage !== undefined) params.set('binding_message', options.bindingMessage);
    if (options.expiresIn !== undefined) params.set('requested_expiry', String(options.expiresIn));
    if (options.clientNotificationToken !== undefined) params.set('client_notification_token', options.clientNotificationToken);
    const { backchannel_authentication_endpoint: endpoint } = await this.#discover();
    if (!endpoint) throw new WritClientError('invalid_response', `${this.issuer} advertises no backchannel_authentication_endpoint`);
    const { status, json } = await this.#tokenRequest(endpoint, params, false);
    const body = json as Record<string, unknown>;
    if (typeof body.auth_req_id !== 'string') throw new WritClientError('invalid_response', 'the backchannel endpoint answered without an auth_req_id', status);
    return { authReqId: body.auth_req_id, expiresIn: Number(body.expires_in), interval: Number(body.interval ?? 5) };
  }

  /**
   * Polls until the person decides: the capability for exactly the approved call (single-use), or
   * a TokenExchangeError — `access_denied` (denied, with the reason), `expired_token` (nobody
   * decided in time). Honours `interval` and backs off on `slow_down` (CIBA §11).
   */
  async awaitApproval(request: ApprovalRequest, options: AwaitApprovalOptions = {}): Promise<Capability> {
    const wait = options.wait ?? ((seconds: number, signal?: AbortSignal) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, seconds * 1000);
      signal?.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
    }));
    const { token_endpoint } = await this.#discover();
    let interval = request.interval > 0 ? request.interval : 5;
    for (;;) {
      options.signal?.throwIfAborted();
      await wait(interval, options.signal);
      const params = new URLSearchParams({ grant_type: CIBA_GRANT, auth_req_id: request.authReqId });
      if (options.format === 'biscuit') params.set('requested_token_type', TOKEN_TYPES.biscuit);
      try {
        return capabilityOf(await this.#tokenRequest(token_endpoint, params, options.dpop === true), []);
      } catch (err) {
        if (!(err instanceof TokenExchangeError)) throw err;
        if (err.code === 'authorization_pending') continue;
        if (err.code === 'slow_down') { interval += 5; continue; }
        throw err;
      }
    }
  }

  /**
   * `client_credentials` for an org-level agent (the service-identity pattern): a delegated token
   * bound to the org grant an admin created, to use as `subjectToken`.
   */
  async clientCredentials(options: { dpop?: boolean } = {}): Promise<{ accessToken: string; tokenType: 'Bearer' | 'DPoP'; expiresIn: number }> {
    const { token_endpoint } = await this.#discover();
    const { status, json } = await this.#tokenRequest(token_endpoint, new URLSearchParams({ grant_type: 'client_credentials' }), options.dpop === true);
    const body = json as Record<string, unknown>;
    if (typeof body.access_token !== 'string') throw new WritClientError('invalid_response', 'the token endpoint answered without an access_token', status);
    return { accessToken: body.access_token, tokenType: String(body.token_type).toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', expiresIn: Number(body.expires_in) };
  }

  /**
   * `POST /v1/tools/{tool}/execute` with `{ input }`; returns `data` or throws ExecutorError.
   * `capability` is a token string (Bearer) or what `exchange` returned (DPoP handled).
   */
  async execute<T = unknown>(tool: string, input: Record<string, unknown>, capability: string | Pick<Capability, 'token' | 'tokenType'>): Promise<T> {
    const cap = typeof capability === 'string' ? { token: capability, tokenType: 'Bearer' as const } : capability;
    const url = `${this.issuer}/v1/tools/${encodeURIComponent(tool)}/execute`;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (cap.tokenType === 'DPoP') {
        headers.authorization = `DPoP ${cap.token}`;
        headers.dpop = await dpopProof(await this.dpopKey(), { htm: 'POST', htu: url, accessToken: cap.token });
      } else {
        headers.authorization = `Bearer ${cap.token}`;
      }
      const res = await this.#send(url, { method: 'POST', headers, body: JSON.stringify({ input }) });
      const json = await readJson(res);
      if (res.ok && json && typeof json === 'object' && 'data' in json) return (json as { data: T }).data;
      const error = executorError(res, json);
      const delay = this.#retryDelay(error, attempt);
      if (delay === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay * 1000));
    }
  }

  /** Seconds to wait before another try, or undefined to give up. */
  #retryDelay(error: ExecutorError, attempt: number): number | undefined {
    if (attempt >= this.#maxRetries) return undefined;
    if (error.code !== 'rate_limited' && error.status !== 503) return undefined;
    const wait = error.retryAfter ?? 2 ** attempt;
    return wait <= this.#maxDelay ? wait : undefined;
  }

  async #discover(): Promise<Metadata> {
    this.#metadata ??= (async () => {
      const res = await this.#send(`${this.issuer}/.well-known/oauth-authorization-server`, { headers: { accept: 'application/json' } });
      const json = (await readJson(res)) as Partial<Metadata> | undefined;
      if (!res.ok || !json?.token_endpoint) throw new WritClientError('invalid_response', `no authorization server metadata at ${this.issuer}`, res.status);
      return json as Metadata;
    })();
    this.#metadata.catch(() => { this.#metadata = undefined; });
    return this.#metadata;
  }

  async #tokenRequest(endpoint: string, params: URLSearchParams, dpop: boolean): Promise<{ status: number; json: unknown }> {
    // RFC 9449 §8: one retry when the server asks for a nonce.
    for (let attempt = 0; attempt < 2; attempt++) {
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
      const body = new URLSearchParams(params);
      await this.#authenticate(headers, body);
      if (dpop) headers.dpop = await dpopProof(await this.dpopKey(), { htm: 'POST', htu: endpoint, nonce: this.#nonce });
      const res = await this.#send(endpoint, { method: 'POST', headers, body });
      const nonce = res.headers.get('dpop-nonce');
      if (nonce) this.#nonce = nonce;
      const json = (await readJson(res)) as Record<string, unknown> | undefined;
      if (res.ok) return { status: res.status, json };
      const code = typeof json?.error === 'string' ? json.error : 'invalid_response';
      if (code === 'use_dpop_nonce' && dpop && nonce && attempt === 0) continue;
      throw new TokenExchangeError(code, typeof json?.error_description === 'string' ? json.error_description : `the token endpoint answered ${res.status}`, res.status);
    }
    throw new WritClientError('invalid_response', 'the token endpoint kept asking for a new DPoP nonce');
  }

  async #authenticate(headers: Record<string, string>, body: URLSearchParams): Promise<void> {
    if (this.#secret !== undefined) {
      // RFC 6749 §2.3.1: form-encode both parts before Basic.
      headers.authorization = `Basic ${Buffer.from(`${formEncode(this.clientId)}:${formEncode(this.#secret)}`).toString('base64')}`;
      return;
    }
    const { key, alg } = await this.#assertionKey();
    // RFC 7523 §3: iss = sub = client_id, aud = the authorization server, short-lived, unique.
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg, ...(this.#keyId ? { kid: this.#keyId } : {}) })
      .setIssuer(this.clientId).setSubject(this.clientId).setAudience(this.issuer)
      .setJti(randomUUID()).setIssuedAt().setExpirationTime('60s')
      .sign(key);
    body.set('client_id', this.clientId);
    body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    body.set('client_assertion', assertion);
  }

  #assertionKey(): Promise<{ key: CryptoKey | KeyObject; alg: string }> {
    this.#signingKey ??= (async () => {
      const pk = this.#privateKey!;
      if ('asymmetricKeyType' in pk && typeof (pk as KeyObject).export === 'function') {
        const key = pk as KeyObject;
        const alg = key.asymmetricKeyType === 'ed25519' ? 'EdDSA' : key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
        return { key, alg };
      }
      const jwk = pk as JWK;
      if (!jwk.d) throw new TypeError('privateKey must be a private key');
      const alg = jwk.alg ?? ALG_FOR[jwk.kty ?? ''];
      if (!alg) throw new TypeError(`cannot pick an algorithm for a ${jwk.kty} key; set alg`);
      if (jwk.kty === 'OKP') return { key: createPrivateKey({ key: jwk as never, format: 'jwk' }), alg };
      return { key: (await importJWK(jwk, alg)) as CryptoKey, alg };
    })();
    return this.#signingKey;
  }

  async #send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.#fetch(url, init);
    } catch (cause) {
      throw new WritClientError('network_error', `could not reach ${new URL(url).origin}`, undefined, { cause });
    }
  }
}

/** A capability from a token endpoint answer (token exchange, or an approved CIBA request). */
function capabilityOf(answer: { status: number; json: unknown }, requested: ToolAccessDetail[]): Capability {
  const json = answer.json as Record<string, unknown>;
  if (typeof json.access_token !== 'string') throw new WritClientError('invalid_response', 'the token endpoint answered without an access_token', answer.status);
  return {
    token: json.access_token,
    tokenType: String(json.token_type).toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer',
    expiresIn: Number(json.expires_in),
    authorizationDetails: (json.authorization_details as ToolAccessDetail[] | undefined) ?? requested,
    issuedTokenType: String(json.issued_token_type),
  };
}

const formEncode = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try { return JSON.parse(text); } catch { return undefined; }
}

function executorError(res: Response, json: unknown): ExecutorError {
  const e = (json as { error?: Record<string, unknown> } | undefined)?.error;
  const header = res.headers.get('retry-after');
  const retryAfter = header !== null && /^\d+$/.test(header.trim()) ? Number(header) : typeof e?.retry_after === 'number' ? e.retry_after : undefined;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string') {
    return new ExecutorError(res.status === 429 ? 'rate_limited' : 'server_error', `the executor answered ${res.status} without an error body`, res.status, { retryAfter });
  }
  return new ExecutorError(e.code as ExecutorErrorCode, typeof e.message === 'string' ? e.message : e.code, res.status, {
    connectUrl: typeof e.connect_url === 'string' ? e.connect_url : undefined,
    reconnectUrl: typeof e.reconnect_url === 'string' ? e.reconnect_url : undefined,
    reason: typeof e.reason === 'string' ? e.reason : undefined,
    retryAfter,
  });
}
