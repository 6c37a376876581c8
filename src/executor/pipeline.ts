import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { WritError, withExpose } from '../errors/index.ts';
import type { ConnectorCatalog, CatalogTool, ToolWithConnector } from '../connectors/catalog.ts';
import { buildRequest, credentialHeaders, resourceFor, ToolInputError, type UpstreamRequest } from '../connectors/request.ts';
import { EgressError, resolveEgress, type ApprovedAddresses } from '../connectors/egress.ts';
import { emailFrom, recipients } from '../connectors/mime.ts';
import { constraintHolds } from '../rights/rights.ts';
import { ProviderConnections, type ProviderMethod, type ProviderResponse } from '../connectors/provider-connections.ts';
import type { CapabilityStore } from '../storage/ports/capabilities.ts';
import type { GrantStore } from '../storage/ports/grants.ts';
import type { Vault } from '../vault/service.ts';
import { CredentialUnavailableError, type CredentialRefresher, type FreshCredential } from '../vault/refresh.ts';
import type { Credential } from '../vault/records.ts';
import type { ConnectedAccountRecord } from '../storage/ports/vault.ts';
import { grantStandsFor } from '../revocation/standing.ts';
import type { RevocationSource, Verifier, VerifiedCapability } from '../verifier/index.ts';
import { VerifierError } from '../verifier/index.ts';

// The executor's request path as a table of named steps (DESIGN flow 6):
// extract → verify → authorise (tool, schema, constraints) → not revoked → spend if single-use →
// principal from the token → connected account → fresh credential → egress → call → normalise →
// audit. The principal comes from the verified token and nothing else (invariant 4).

export interface ExecutorDeps {
  executorResource: string;
  clock: Clock;
  logger: Logger;
  verifier: Verifier;
  capabilities: CapabilityStore;
  grants: GrantStore;
  catalog: ConnectorCatalog;
  vault: Vault;
  refresher: CredentialRefresher;
  audit: AuditLog;
  /** Where a person connects this connector for this principal (Writ's own link). */
  connectUrl: (org_id: string, connector: string) => string;
  /** Where the owner reconnects a revoked account. */
  reconnectUrl: (org_id: string, account_id: string) => string;
  /** Keep-alive pools per provider host, pinned to the addresses the egress check approved (default: one per process). */
  connections?: ProviderConnections;
  /** Per provider call. Default 10 s. */
  timeoutMs?: number;
  /** Largest provider answer passed back. Default 5 MiB. */
  maxResponseBytes?: number;
  onOutcome?: (tool: string, outcome: string, seconds: number) => void;
}

export interface ExecuteRequest {
  tool: string;
  authorization: string | undefined;
  dpop: string | undefined;
  method: string;
  url: string;
  body: unknown;
}

export interface ExecuteResult {
  status: number;
  body: { data: unknown } | { error: { code: string; message: string; [k: string]: unknown } };
  /**
   * `body` already serialised, when it wraps the provider's answer: the redacted text the answer
   * was parsed from, so an HTTP response does not serialise again what was just parsed.
   */
  json?: string;
  headers?: Record<string, string>;
}

/** What the steps learn, for the audit event whatever the outcome. */
interface Trail {
  capability?: VerifiedCapability;
  account_id?: string;
  upstream_status?: number;
  request_hash?: string;
}

const fail = (code: ConstructorParameters<typeof WritError>[0], message: string, options?: ConstructorParameters<typeof WritError>[2]) => new WritError(code, message, options);

// ---- the steps --------------------------------------------------------------------------------

/** RFC 6750 §2.1 / RFC 9449 §7.1: `Bearer <token>` or `DPoP <token>` with a proof header. */
export function extractCapability(req: ExecuteRequest): { token: string; scheme: 'Bearer' | 'DPoP' } {
  const m = /^(Bearer|DPoP) ([A-Za-z0-9\-._~+/]+=*)$/.exec(req.authorization ?? '');
  if (!m) throw fail('invalid_token', 'a capability is required: Authorization: Bearer <token> or DPoP <token>', { status: 401 });
  if (m[1] === 'DPoP' && !req.dpop) throw fail('invalid_token', 'the DPoP scheme needs a DPoP proof header', { status: 401 });
  return { token: m[2]!, scheme: m[1] as 'Bearer' | 'DPoP' };
}

/** The tool and its connector, in the org the token names: the call's one read of the connector. */
export async function findTool(deps: ExecutorDeps, org_id: string, name: string): Promise<ToolWithConnector> {
  const tool = await deps.catalog.getTool(org_id, name);
  if (!tool) throw fail('unknown_tool', `no tool named ${name}`);
  return tool;
}

export function validateInput(deps: ExecutorDeps, tool: CatalogTool, body: unknown): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body) || !('input' in body)) {
    throw fail('invalid_input', 'the body must be { "input": { … } }');
  }
  const extra = Object.keys(body).filter((k) => k !== 'input');
  if (extra.length) throw fail('invalid_input', `unknown body fields: ${extra.join(', ')}`);
  // A ToolInputError is already the answer: `invalid_input` naming the field.
  return deps.catalog.validateInput(tool, (body as { input: unknown }).input);
}

/** Signature, expiry, audience, DPoP, tool, resource and argument constraints, in the verifier library. */
export async function verifyCapability(deps: ExecutorDeps, token: string, tool: CatalogTool, input: Record<string, unknown>, req: ExecuteRequest): Promise<VerifiedCapability> {
  let resource: string | undefined;
  try {
    resource = resourceFor(tool.definition, input);
  } catch (err) {
    if (err instanceof ToolInputError) throw fail('invalid_input', err.message, { expose: { field: err.field } });
    throw err;
  }
  try {
    return await deps.verifier.verify(token, {
      tool: tool.name, ...(resource ? { resource } : {}), input,
      ...(req.dpop ? { dpop: { proof: req.dpop, method: req.method, url: req.url } } : {}),
    });
  } catch (err) {
    if (err instanceof VerifierError) {
      const code = err.code === 'expired' || err.code === 'revoked' || err.code === 'dpop_required' || err.code === 'invalid_dpop_proof' ? 'invalid_token' : err.code;
      throw fail(code as 'invalid_token', err.message, { status: code === 'invalid_token' ? 401 : 403, expose: { reason: err.code } });
    }
    throw err;
  }
}

/** Revocation at the executor is immediate: the store, not the feed (invariant 5). */
/**
 * The revocation source the executor's verifier is given. The executor does not also follow the
 * feed: `ensureNotRevoked` reads the capability's record and its grant from the store on every
 * call, which is immediate and covers all the feed would name (the jti, the grant, and Biscuit
 * revocation ids, which an attenuated variant shares with the capability it came from).
 */
export const revocationsCheckedInStore: RevocationSource = { isRevoked: () => false };

/**
 * An email tool's recipients are one list to the capability: a constraint on any recipient field
 * (`to`, `cc`, `bcc`) must hold for every address in all of them, so a `to` limited to a domain
 * cannot be escaped through `cc` or `bcc`.
 */
export function recipientsWithinConstraints(cap: VerifiedCapability, tool: CatalogTool, input: Record<string, unknown>): void {
  const mime = tool.definition.mime;
  if (!mime) return;
  const fields = new Set([mime.to, mime.cc, mime.bcc].filter((f): f is string => f !== undefined));
  const constraints = cap.rights.filter((d) => d.tools.includes(tool.name)).flatMap((d) => Object.entries(d.constraints ?? {}).filter(([key]) => fields.has(key)).map(([key, c]) => ({ key, c })));
  if (!constraints.length) return;
  for (const address of recipients(emailFrom(mime, input))) {
    const broken = constraints.find(({ c }) => !constraintHolds(c, address));
    if (broken) throw fail('constraint_failed', `the recipient ${address} is outside the capability's constraints on "${broken.key}"`);
  }
}

export async function ensureNotRevoked(deps: ExecutorDeps, cap: VerifiedCapability): Promise<void> {
  const record = await deps.capabilities.getCapability(cap.org_id, cap.jti);
  const grant = await deps.grants.getGrant(cap.org_id, cap.auth_event_id);
  if (!record || record.revoked_at || !grantStandsFor(grant, cap.rights, deps.clock.now())) {
    throw fail('invalid_token', 'the capability has been revoked', { status: 401, expose: { reason: 'revoked' } });
  }
}

/**
 * Exactly one of any number of concurrent uses of a single-use capability succeeds (invariant 6).
 * Returns the spend's time, which releasing it names; undefined for a capability of many uses.
 */
export async function spendIfSingleUse(deps: ExecutorDeps, cap: VerifiedCapability): Promise<string | undefined> {
  if (!cap.single_use) return undefined;
  const at = new Date(deps.clock.now()).toISOString();
  const spent = await deps.capabilities.spendCapability(cap.org_id, cap.jti, at);
  if (!spent) throw fail('invalid_token', 'this single-use capability has already been used', { status: 401, expose: { reason: 'spent' } });
  return at;
}

/** Failures in which no byte of the call reached the provider: its name did not resolve, it refused the connection, TLS failed. */
const NOT_REACHED = new Set(['dns_failed', 'connection_refused', 'tls_failed']);

/**
 * A single-use capability whose call never reached the provider is given back, on the record:
 * nothing can have happened upstream, so the one use it promised is still owed.
 */
async function releaseUnreached(deps: ExecutorDeps, cap: VerifiedCapability, spentAt: string, err: unknown): Promise<void> {
  if (!(await deps.capabilities.releaseCapability(cap.org_id, cap.jti, spentAt))) return;
  const reason = err instanceof WritError ? err.reason ?? err.code : 'server_error';
  await deps.audit.record(cap.org_id, {
    type: 'capability.released',
    actor: { kind: 'system' },
    subject: { ...(cap.principal === 'user' ? { user_id: cap.sub } : { principal: 'org' }), grant_id: cap.auth_event_id, capability_id: cap.jti },
    details: { reason },
  });
}

/** The cause of a failed connection, by the codes Node and undici give: what the operator needs to fix it. */
function connectionFailure(err: unknown): { reason: string; cause: string } {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = String((e as { code?: unknown }).code ?? '');
    const message = String((e as { message?: unknown }).message ?? '');
    if (code === 'ECONNREFUSED') return { reason: 'connection_refused', cause: message || code };
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return { reason: 'dns_failed', cause: message || code };
    if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH|ALTNAME/.test(code)) return { reason: 'tls_failed', cause: `${code}: ${message}` };
    if (code && code !== 'UND_ERR_SOCKET' && depth > 0) return { reason: 'connection_failed', cause: `${code}: ${message}` };
    e = (e as { cause?: unknown }).cause;
  }
  return { reason: 'connection_failed', cause: err instanceof Error ? err.message : String(err) };
}

/**
 * The account of the token's principal in the token's org — never anything from the body. The
 * record read here, this call, also serves the credential (one read of the account per call).
 */
export async function resolveAccount(deps: ExecutorDeps, cap: VerifiedCapability, tool: CatalogTool): Promise<ConnectedAccountRecord> {
  const owner = cap.principal === 'org' ? { kind: 'org' as const } : { kind: 'user' as const, user_id: cap.sub };
  const accounts = await deps.vault.store.listAccounts(cap.org_id, { owner, connector: tool.connector });
  const usable = accounts.find((a) => a.status === 'active' || a.status === 'expired') ?? accounts.find((a) => a.status === 'revoked');
  if (!usable) {
    throw fail('not_connected', `no ${tool.connector} account is connected for this principal`, { expose: { connect_url: deps.connectUrl(cap.org_id, tool.connector) } });
  }
  if (usable.status === 'revoked') {
    throw fail('auth_revoked', `the ${tool.connector} account was revoked at the provider; reconnect it`, { expose: { reconnect_url: deps.reconnectUrl(cap.org_id, usable.id) } });
  }
  return usable;
}

export async function freshCredential(deps: ExecutorDeps, org_id: string, account_id: string, options: { forceRefresh?: boolean; staleVersion?: number; read?: ConnectedAccountRecord } = {}): Promise<FreshCredential> {
  try {
    return await deps.refresher.getFreshCredential(org_id, account_id, options);
  } catch (err) {
    // Already the answer; only the executor knows where the owner reconnects.
    if (err instanceof CredentialUnavailableError && err.needsReconnect) withExpose(err, { reconnect_url: deps.reconnectUrl(org_id, account_id) });
    throw err;
  }
}

/**
 * The upstream request, built only from the tool's template; egress checked against the
 * connector, for the URL as written and for every address its host resolves to right now (a
 * public-looking name can point at loopback or a metadata address).
 */
export async function buildUpstream(deps: ExecutorDeps, tool: ToolWithConnector, input: Record<string, unknown>): Promise<UpstreamRequest & { approved?: ApprovedAddresses | undefined }> {
  const connector = tool.catalogConnector;
  // ToolInputError (`invalid_input`) and EgressError (`forbidden`) are already the answers.
  const request = buildRequest(connector.definition, tool.definition, input, deps.catalog.egress);
  let approved: ApprovedAddresses | undefined;
  try {
    approved = await resolveEgress(new URL(request.url), connector.definition.allowed_hosts, deps.catalog.egress);
  } catch (err) {
    if (err instanceof EgressError) throw err;
    // Fail closed: a name that does not resolve now is not called on a later, different answer.
    deps.logger.warn('provider host did not resolve', { host: new URL(request.url).host, reason: 'dns_failed', cause: err instanceof Error ? err.message : String(err) });
    throw fail('upstream_error', 'the provider\'s host could not be resolved', { cause: err, reason: 'dns_failed', expose: { provider_status: null } });
  }
  return { ...request, approved };
}

let processConnections: ProviderConnections | undefined;

interface UpstreamAnswer { status: number; headers: { get(name: string): string | null }; text: string }

/** One header of an undici answer, as `Headers.get` would give it. */
const headerGetter = (headers: Record<string, string | string[] | undefined>) => ({
  get: (name: string) => {
    const value = headers[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  },
});

/**
 * The call, on undici's own request API over the pinned pool (fetch's WHATWG layer costs more
 * CPU than the call itself on a fast provider). It follows no redirect: one could carry the
 * credential to another host.
 */
export async function callProvider(deps: ExecutorDeps, request: UpstreamRequest & { approved?: ApprovedAddresses | undefined }, credential: Credential, connectorAuth: Parameters<typeof credentialHeaders>[0]): Promise<UpstreamAnswer> {
  const limit = deps.maxResponseBytes ?? 5 * 1024 * 1024;
  // The socket goes to an address the egress check approved, on a kept-alive connection.
  const connections = deps.connections ?? (processConnections ??= new ProviderConnections());
  const url = new URL(request.url);
  const signal = AbortSignal.timeout(deps.timeoutMs ?? 10_000);
  let response: ProviderResponse;
  try {
    response = await connections.dispatcher(url, request.approved).request({
      origin: url.origin, path: `${url.pathname}${url.search}`, method: request.method as ProviderMethod,
      // Some providers (GitHub) refuse a request without a User-Agent, which fetch used to add.
      headers: { 'user-agent': 'Writ', ...request.headers, ...credentialHeaders(connectorAuth, credential) },
      ...(request.body !== undefined ? { body: request.body } : {}),
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw fail('upstream_timeout', 'the provider did not answer in time');
    // The client hears only that the provider could not be reached; the operator reads why.
    const { reason, cause } = connectionFailure(err);
    deps.logger.warn('provider could not be reached', { host: url.host, reason, cause });
    throw fail('upstream_error', 'the provider could not be reached', { cause: err, reason, expose: { provider_status: null } });
  }
  const headers = headerGetter(response.headers);
  const declared = Number(headers.get('content-length') ?? '0');
  if (declared > limit) {
    response.body.destroy();
    throw fail('upstream_error', 'the provider\'s answer is too large', { expose: { provider_status: response.statusCode } });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        response.body.destroy();
        throw fail('upstream_error', 'the provider\'s answer is too large', { expose: { provider_status: response.statusCode } });
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof WritError) throw err;
    if (signal.aborted) throw fail('upstream_timeout', 'the provider did not answer in time');
    throw fail('upstream_error', 'the provider closed the connection', { cause: err, expose: { provider_status: response.statusCode } });
  }
  return { status: response.statusCode, headers, text: Buffer.concat(chunks).toString('utf8') };
}

/** Secrets the provider might echo back; all of them leave as `[redacted]` (invariant 3). */
function secretsOf(credential: Credential): string[] {
  return (credential.type === 'oauth2' ? [credential.access_token, credential.refresh_token] : [credential.api_key])
    .filter((s): s is string => typeof s === 'string' && s.length >= 8);
}

export function normalise(answer: UpstreamAnswer, credential: Credential, successField?: string): ExecuteResult {
  let text = answer.text;
  for (const secret of secretsOf(credential)) text = text.split(secret).join('[redacted]');
  if (answer.status === 429) {
    const retryAfter = answer.headers.get('retry-after');
    throw fail('rate_limited', 'the provider is rate limiting these calls', {
      expose: { provider_status: 429, ...(retryAfter ? { retry_after: retryAfter } : {}) },
    });
  }
  if (answer.status >= 300) {
    throw fail('upstream_error', `the provider answered ${answer.status}`, { expose: { provider_status: answer.status } });
  }
  if (text.trim() === '') return { status: 200, body: { data: null }, json: '{"data":null}' };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw fail('upstream_error', 'the provider\'s answer is not valid JSON', { expose: { provider_status: answer.status } });
  }
  // Providers that answer 200 with a failure flag (Slack's `ok: false`) failed all the same.
  if (successField && data && typeof data === 'object' && (data as Record<string, unknown>)[successField] === false) {
    const reason = (data as Record<string, unknown>).error;
    throw fail('upstream_error', 'the provider reported a failure', {
      expose: { provider_status: answer.status, ...(typeof reason === 'string' && /^[a-z0-9_.-]{1,64}$/i.test(reason) ? { provider_error: reason } : {}) },
    });
  }
  // `text` parsed as JSON, so it is one JSON value: the answer's body is it, wrapped, as is.
  return { status: 200, body: { data }, json: `{"data":${text}}` };
}

// ---- the pipeline -----------------------------------------------------------------------------

export async function execute(deps: ExecutorDeps, req: ExecuteRequest): Promise<ExecuteResult> {
  const started = performance.now();
  const trail: Trail = {};
  let result: ExecuteResult;
  try {
    result = await run(deps, req, trail);
  } catch (err) {
    result = errorResult(err, deps.logger);
  }
  const seconds = (performance.now() - started) / 1000;
  const outcome = 'data' in result.body ? 'ok' : result.body.error.code;
  deps.onOutcome?.(req.tool, outcome, seconds);
  const cap = trail.capability;
  // Only a verified capability names a tenant to record in; refusals before that are logged.
  if (cap) {
    await deps.audit.record(cap.org_id, {
      type: outcome === 'ok' ? 'tool.executed' : 'tool.denied',
      actor: { kind: 'agent', agent_id: cap.client_id, chain: cap.actor_chain },
      subject: { ...(cap.principal === 'user' ? { user_id: cap.sub } : { principal: 'org' }), grant_id: cap.auth_event_id, capability_id: cap.jti, tool: req.tool, ...(trail.account_id ? { account_id: trail.account_id } : {}), ...(cap.parent_jti?.startsWith('apr_') ? { approval_id: cap.parent_jti } : {}) },
      // A refusal keeps the reason the agent was told (client-safe by construction), as token.exchange_denied does.
      details: { outcome, ...('error' in result.body ? { reason: result.body.error.message } : {}), latency_ms: Math.round(seconds * 10000) / 10, ...(trail.upstream_status !== undefined ? { provider_status: trail.upstream_status } : {}), ...(trail.request_hash ? { request_hash: trail.request_hash } : {}) },
    });
  } else {
    deps.logger.info('tool call refused before a capability was verified', { tool: req.tool, outcome });
  }
  return result;
}

async function run(deps: ExecutorDeps, req: ExecuteRequest, trail: Trail): Promise<ExecuteResult> {
  const { token, scheme } = extractCapability(req);
  // Which org's catalog holds the tool: from the verified token, before the request is decided.
  const identity = await identify(deps, token, trail);
  // From here the token is known good (signature, audience, expiry, revocation), so a refusal
  // of what it asks for — another tool, a resource or argument outside it, a body that tries to
  // name someone else — is a denial on the org's record, not only a log line (invariant 8).
  trail.capability = identity;
  const tool = await findTool(deps, identity.org_id, req.tool);
  const input = validateInput(deps, tool, req.body);
  const cap = await verifyCapability(deps, token, tool, input, req);
  trail.capability = cap;
  recipientsWithinConstraints(cap, tool, input);
  // RFC 9449 §7.1: the DPoP scheme promises a key binding the proof is checked against; an
  // unbound capability has none, so its proof would go unchecked.
  if (scheme === 'DPoP' && !cap.cnf) throw fail('invalid_token', 'this capability is not DPoP-bound; present it with the Bearer scheme', { status: 401, expose: { reason: 'invalid_dpop_proof' } });
  await ensureNotRevoked(deps, cap);
  const spentAt = await spendIfSingleUse(deps, cap);
  // Until a call reaches the provider, nothing can have happened upstream: a failure gives the
  // single use back (the account is not connected, the name does not resolve, the connection is
  // refused or its TLS fails).
  let calling = false;
  try {
    return await callWithAccount(deps, cap, tool, input, trail, () => { calling = true; });
  } catch (err) {
    if (spentAt && (!calling || (err instanceof WritError && NOT_REACHED.has(err.reason ?? '')))) await releaseUnreached(deps, cap, spentAt, err);
    throw err;
  }
}

async function callWithAccount(deps: ExecutorDeps, cap: VerifiedCapability, tool: ToolWithConnector, input: Record<string, unknown>, trail: Trail, calling: () => void): Promise<ExecuteResult> {
  const account = await resolveAccount(deps, cap, tool);
  const account_id = account.id;
  trail.account_id = account_id;
  let fresh = await freshCredential(deps, cap.org_id, account_id, { read: account });
  // The connector read with the tool serves the request, the credential's header and the answer.
  const connector = tool.catalogConnector.definition;
  const upstream = await buildUpstream(deps, tool, input);
  trail.request_hash = createHash('sha256').update(`${upstream.method} ${upstream.url}\n${upstream.body ?? ''}`).digest('hex');
  calling();
  let answer = await callProvider(deps, upstream, fresh.credential, connector.auth);
  if (answer.status === 401 && fresh.credential.type === 'oauth2') {
    // The provider refused a token we thought fresh: refresh once (single-flight) and retry.
    fresh = await freshCredential(deps, cap.org_id, account_id, { forceRefresh: true, staleVersion: fresh.account.credential_version });
    answer = await callProvider(deps, upstream, fresh.credential, connector.auth);
  }
  trail.upstream_status = answer.status;
  return normalise(answer, fresh.credential, connector.success_field);
}

async function identify(deps: ExecutorDeps, token: string, trail: Trail): Promise<VerifiedCapability> {
  try {
    return await deps.verifier.identify(token);
  } catch (err) {
    // An expired or revoked capability was still signed by us: its use is a denial on the record.
    if (err instanceof VerifierError && err.capability) trail.capability = err.capability;
    if (err instanceof VerifierError) throw fail('invalid_token', err.message, { status: 401, expose: { reason: err.code } });
    throw err;
  }
}

function errorResult(err: unknown, logger: Logger): ExecuteResult {
  const e = err instanceof WritError ? err : new WritError('server_error', 'an unexpected error occurred', { cause: err });
  if (e.status >= 500 && e.code === 'server_error') logger.error('executor failed', { err: e.cause ?? e });
  const headers: Record<string, string> = {};
  const retryAfter = e.expose?.retry_after;
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  if (e.status === 401) headers['www-authenticate'] = `Bearer error="invalid_token", error_description="${e.description.replace(/"/g, "'")}"`;
  if (e.code === 'insufficient_scope' || e.code === 'constraint_failed') headers['www-authenticate'] = `Bearer error="insufficient_scope"`;
  return { status: e.status, body: { error: { code: e.code, message: e.description, ...e.expose } }, headers };
}
