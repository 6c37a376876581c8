import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AuditLog } from '../audit/log.ts';
import { errors } from 'oidc-provider';
import { EgressError } from '../connectors/egress.ts';
import { pinnedFetch, type PinnedFetchOptions } from '../connectors/provider-connections.ts';
import { TOOL_SCOPE_PREFIX } from './constants.ts';
import { globMatch, toolsOf, type ToolAccessDetail } from '../rights/rights.ts';
import type { AgentRecord, DirectoryStore } from '../storage/ports/directory.ts';
import type { McpOrgSettings, McpStore } from '../storage/ports/mcp.ts';
import type { GrantRecord, GrantStore } from '../storage/ports/grants.ts';
import type { GrantService } from '../grants/service.ts';

// External MCP clients: OAuth clients registered in no org. Either a Client ID Metadata Document
// (the client_id is an https URL whose document oidc-provider fetches, here under the executor's
// egress rules) or RFC 7591 dynamic registration (stored in the oidc store, without expiry, so a
// registration never goes stale). The person who signs in decides the org; that org's settings
// decide whether the client is accepted and with which ceiling; on first consent the client
// becomes an agent of the org (`mcp_…`), and from there it is any other agent.

export interface ExternalClientDeps {
  /** The executor as an MCP server: `<issuer>/mcp`, an RFC 8707 resource of its own. */
  mcpResource: string;
  /** Tool scopes (`tool:<name>`) the MCP resource may be granted. */
  toolScopes: () => Promise<string[]>;
  settings: McpStore;
  /** The operator's egress allow-list for metadata documents on private hosts (development). */
  egress: PinnedFetchOptions;
  /** Outbound fetch for metadata documents (a test's own trust store); default the global fetch. */
  fetch?: typeof fetch;
  /** Registrations per client address per minute at the registration endpoint. Default 10. */
  registrationsPerMinute?: number;
  /** Ends the grants a newer consent replaces. */
  grantService: GrantService;
}

type ClientShape = { clientId: string; org_id?: string; clientName?: string; redirectUris?: string[]; clientIdMetadataDocument?: boolean };

const TOOL = /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/i;

/** An org's answer to external MCP clients, as the admin API and the console take it. */
export const mcpSettingsBody = z.object({
  accept: z.enum(['none', 'any', 'listed']).describe('none: refused; any: every client; listed: only the clients in `clients`'),
  clients: z.array(z.string().min(1).max(2000)).max(500).default([]).describe('client ids (a metadata document URL or a registered id) or hosts, for `listed`'),
  tools: z.array(z.string().regex(TOOL, 'a tool name, connector.tool')).max(500).default([]).describe('the ceiling of every external MCP client in this org'),
}).strict().refine((s) => s.accept !== 'listed' || s.clients.length > 0, { message: 'accept: listed needs at least one client', path: ['clients'] });

export const NO_MCP_SETTINGS: Omit<McpOrgSettings, 'updated_at'> = { accept: 'none', clients: [], tools: [] };

/**
 * Sets an org's answer to external MCP clients, on its audit log; every external client's agent
 * in the org takes the new ceiling at once.
 */
export async function setMcpSettings(
  deps: { directory: DirectoryStore; settings: McpStore; audit: AuditLog },
  org_id: string, body: z.infer<typeof mcpSettingsBody>, actor: Parameters<AuditLog['record']>[1]['actor'], nowIso: string,
): Promise<McpOrgSettings> {
  const settings: McpOrgSettings = { ...body, updated_at: nowIso };
  await deps.settings.putSettings(org_id, settings);
  for (const agent of await deps.directory.listAgents(org_id)) {
    if (isMcpClientAgent(agent.client_id) && !sameTools(agent.tools, settings.tools)) {
      await deps.directory.updateAgent(org_id, agent.client_id, { tools: settings.tools }, nowIso);
    }
  }
  await deps.audit.record(org_id, { type: 'mcp.settings_updated', actor, subject: {}, details: { accept: settings.accept, clients: settings.clients, tools: settings.tools } });
  return settings;
}

/** A client registered in no org: a metadata document or a dynamic registration. */
export function isExternalClient(client: unknown): boolean {
  return !!client && !(client as ClientShape).org_id;
}

/** Registered ids of dynamically registered clients. */
export function newRegisteredClientId(): string {
  return `mcp_client_${randomBytes(16).toString('base64url')}`;
}

// An external client's session account names the org its person signed in to: `org_id:user_id`.
const SEPARATOR = ':';
export function externalAccountId(org_id: string, user_id: string): string {
  return `${org_id}${SEPARATOR}${user_id}`;
}
export function parseExternalAccountId(accountId: unknown): { org_id: string; user_id: string } | undefined {
  if (typeof accountId !== 'string') return undefined;
  const [org_id, user_id, ...rest] = accountId.split(SEPARATOR);
  return org_id && user_id && rest.length === 0 ? { org_id, user_id } : undefined;
}

/** Is this agent one an external MCP client became (kind `mcp_client`)? */
export function isMcpClientAgent(client_id: string): boolean {
  return client_id.startsWith('mcp_') && !client_id.startsWith('mcp_client_');
}

/** The agent an external client becomes in one org: one id per (org, client), derived, never guessed twice. */
export function orgAgentId(org_id: string, client_id: string): string {
  return `mcp_${createHash('sha256').update(`${org_id}\0${client_id}`).digest('base64url').slice(0, 22).replace(/[-_]/g, 'x')}`;
}

function hostOf(client_id: string): string | undefined {
  try {
    return new URL(client_id).host;
  } catch {
    return undefined;
  }
}

/** Does this org accept this external client? The refusal's reason is safe to show the person. */
export function acceptsClient(settings: McpOrgSettings | undefined, client_id: string): { ok: true } | { ok: false; reason: string } {
  if (!settings || settings.accept === 'none') return { ok: false, reason: 'this organisation does not accept external MCP clients' };
  if (settings.accept === 'any') return { ok: true };
  const host = hostOf(client_id);
  const listed = settings.clients.some((c) => c === client_id || (host !== undefined && c === host));
  return listed ? { ok: true } : { ok: false, reason: 'this organisation does not accept this MCP client' };
}

/**
 * The org's settings for an external client its person signed in with, while the org still accepts
 * that client: one the org stopped accepting (`none`, or taken off its list) is given no new token,
 * a refresh included.
 */
export async function acceptedSettings(deps: { settings: McpStore }, org_id: string, client_id: string, route: string | undefined): Promise<McpOrgSettings> {
  const settings = await deps.settings.getSettings(org_id);
  const accepted = acceptsClient(settings, client_id);
  // At the token endpoint the grant is what is refused; at the authorization endpoint, the request.
  if (!accepted.ok) throw route === 'token' ? new errors.InvalidGrant(accepted.reason) : new errors.AccessDenied(accepted.reason);
  return settings!;
}

/** What an external client may be granted in the org: the request, within the org's ceiling for MCP clients. */
export function withinOrgCeiling(requested: ToolAccessDetail[], ceiling: readonly string[]): { granted: ToolAccessDetail[]; withheld: string[] } {
  const withheld: string[] = [];
  const granted: ToolAccessDetail[] = [];
  for (const d of requested) {
    const tools = d.tools.filter((t) => {
      const ok = !t.includes('*') && ceiling.some((p) => globMatch(p, t));
      if (!ok) withheld.push(t);
      return ok;
    });
    if (tools.length) granted.push({ ...d, tools });
  }
  return { granted, withheld };
}

/**
 * The org's agent for this external client, created on first consent with the org's ceiling and
 * kept in step with it (an admin who narrows the ceiling narrows every external client).
 */
export async function ensureOrgAgent(directory: DirectoryStore, org_id: string, client: { clientId: string; clientName?: string | undefined }, ceiling: string[], nowIso: string): Promise<AgentRecord> {
  const client_id = orgAgentId(org_id, client.clientId);
  const existing = await directory.getAgent(org_id, client_id);
  if (existing && sameTools(existing.tools, ceiling)) return existing;
  if (existing) return (await directory.updateAgent(org_id, client_id, { tools: ceiling }, nowIso)) ?? existing;
  const agent: AgentRecord = {
    client_id, org_id, name: client.clientName ?? hostOf(client.clientId) ?? client.clientId,
    // Never a client at Writ's token endpoint itself: no redirect, no secret, no keys.
    redirect_uris: [], token_endpoint_auth_method: 'private_key_jwt', tools: ceiling, created_at: nowIso,
  };
  try {
    await directory.createAgent(org_id, agent);
  } catch (err) {
    // Two first consents at once: the other one created it.
    const raced = await directory.getAgent(org_id, client_id);
    if (raced) return raced;
    throw err;
  }
  return agent;
}

export function sameTools(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().every((t, i) => t === [...b].sort()[i]);
}

/**
 * A step-up replaces what it widens: when the client first redeems a newer consent, the person's
 * earlier grants to that client whose tools it strictly contains end. Grants of the same tools stay
 * (the same client on another device).
 */
export async function endSupersededGrants(grants: GrantStore, service: GrantService, org_id: string, current: GrantRecord): Promise<void> {
  const now = new Set(toolsOf(current.authorization_details));
  const widened = (g: GrantRecord) => {
    const before = toolsOf(g.authorization_details);
    return before.length < now.size && before.every((t) => now.has(t));
  };
  const older = (await grants.listGrants(org_id, { user_id: current.user_id, agent_id: current.agent_id }))
    .filter((g) => g.id !== current.id && !g.revoked_at && g.user_id === current.user_id && g.agent_id === current.agent_id && g.created_at <= current.created_at && widened(g));
  for (const g of older) await service.revoke(org_id, { id: g.id }, { kind: 'user', user_id: current.user_id! }, 'superseded by a new consent');
}

/** Why a metadata document was refused, in words for the person on the error page; undefined when it is not about one. */
export function metadataDocumentRefusal(error: unknown): string | undefined {
  const e = error as { error?: string; error_description?: string; error_detail?: string; cause?: unknown };
  if (!e || (e.error !== 'invalid_client' && e.error !== 'invalid_client_metadata')) return undefined;
  if (!/client_id metadata document/.test(e.error_description ?? '')) return undefined;
  const cause = e.cause as { name?: string; message?: string; cause?: unknown } | undefined;
  if (cause instanceof EgressError || cause?.cause instanceof EgressError) return 'the client\'s metadata document is at an address this server may not fetch (private, loopback or metadata address, or not https)';
  if (cause?.name === 'TimeoutError' || (cause?.cause as { name?: string } | undefined)?.name === 'TimeoutError') return 'the client\'s metadata document did not arrive in time';
  if (cause?.message === 'response too large') return 'the client\'s metadata document is larger than this server accepts';
  if (/unexpected response status 3\d\d/.test(e.error_detail ?? '')) return 'the client\'s metadata document answered with a redirect, which is not followed';
  if (/unexpected response status/.test(e.error_detail ?? '')) return `the client's metadata document could not be fetched (${e.error_detail})`;
  return e.error_description;
}

/**
 * oidc-provider's outbound fetch (metadata documents, JWKS URIs, CIBA ping notifications): the
 * executor's egress rules for the URL and every address its name resolves to, and a connection to
 * those addresses only (in place of oidc-provider's own dispatcher, which would look the name up
 * again).
 */
export function egressCheckedFetch(deps: Pick<ExternalClientDeps, 'egress' | 'fetch'>): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const response = await pinnedFetch(url, init ?? {}, deps.egress, deps.fetch);
    // Read here, within a cap, and handed on whole with its length: oidc-provider's own limit
    // (5 KiB for a metadata document) then refuses by the length, whatever the transfer encoding.
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of (response.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > OUTBOUND_BODY_LIMIT) throw new Error('response too large');
      chunks.push(chunk);
    }
    const headers = new Headers(response.headers);
    headers.set('content-length', String(size));
    return new Response(response.status === 204 || response.status === 304 ? null : Buffer.concat(chunks), { status: response.status, headers });
  }) as typeof fetch;
}

/** The most any outbound fetch of the authorization server reads (metadata documents, JWKS). */
const OUTBOUND_BODY_LIMIT = 256 * 1024;

/** RFC 7591 registrations and metadata documents may not name an org or a ceiling: only an org admin does. */
export function refuseOrgFields(ctx: unknown, key: string, value: unknown, metadata: Record<string, unknown>): void {
  if (key !== 'org_id' && key !== 'tools') return;
  const route = (ctx as { oidc?: { route?: string } } | undefined)?.oidc?.route;
  if (key === 'org_id' && route === 'registration') dropResourceScopes(metadata);
  // Registered clients are public: Writ keeps no plain client secrets (client-secret.ts).
  if (key === 'org_id' && route === 'registration' && metadata.token_endpoint_auth_method !== 'none') {
    throw new errors.InvalidClientMetadata('only public clients register here: token_endpoint_auth_method must be none (with PKCE S256)');
  }
  if (value === undefined) return;
  const fromDocument = typeof metadata.client_id === 'string' && metadata.client_id.startsWith('https://');
  if (route === 'registration' || fromDocument || String(metadata.client_id ?? '').startsWith('mcp_client_')) {
    throw new errors.InvalidClientMetadata(`${key} cannot be registered by a client`);
  }
}

/**
 * `tool:` scopes belong to resource servers (RFC 8707), not to a client's registration: a client
 * registering with the scopes a resource advertised gets them by consent, so they are left out of
 * what it registers. Done on oidc-provider's own parse of the body (the validator sees the metadata
 * before its scope check), so nothing upstream reads the registration request's body.
 */
function dropResourceScopes(metadata: Record<string, unknown>): void {
  if (typeof metadata.scope !== 'string') return;
  const kept = metadata.scope.split(' ').filter((s) => s && !s.startsWith(TOOL_SCOPE_PREFIX));
  if (kept.length) metadata.scope = kept.join(' ');
  else delete metadata.scope;
}

/** A fixed window per client address at the registration endpoint. */
export function registrationLimiter(perMinute: number, now: () => number) {
  const windows = new Map<string, { start: number; count: number }>();
  return (address: string): { ok: true } | { ok: false; retryAfter: number } => {
    const t = now();
    if (windows.size > 10_000) for (const [k, w] of windows) if (t - w.start >= 60_000) windows.delete(k);
    const w = windows.get(address);
    if (!w || t - w.start >= 60_000) {
      windows.set(address, { start: t, count: 1 });
      return { ok: true };
    }
    w.count += 1;
    if (w.count > perMinute) return { ok: false, retryAfter: Math.ceil((w.start + 60_000 - t) / 1000) };
    return { ok: true };
  };
}
