import { errors } from 'oidc-provider';
import { detailsFromScope, grantableRights, type RightsAnswer, type ToolAccessDetail } from '../../rights/rights.ts';
import { WritError } from '../../errors/index.ts';
import { TOOL_SCOPE_PREFIX } from '../constants.ts';

// The authorization server's side of the one rights function (rights/rights.ts grantableRights):
// consent, authorization code, refresh and client credentials all compute rights here.

type ClientWithCeiling = { clientId: string; tools: string[] };

/** The client's ceiling, as the one rights function takes it. */
export function ceilingOf(client: unknown) {
  const c = client as ClientWithCeiling;
  return { agent: c.clientId, tools: c.tools };
}

/**
 * The ceilings a client's request is held to at the authorization server: its own. An external MCP
 * client has none of its own before a person's org is known; consent applies the org's ceiling for
 * MCP clients, and the token exchange every ceiling of the chain.
 */
export function ceilingsOf(client: unknown) {
  return (client as { org_id?: string }).org_id ? [ceilingOf(client)] : [];
}

/** A refusal from the one rights function, as the RFC error of the parameter that asked. */
export function rightsError(answer: Extract<RightsAnswer, { ok: false }>, viaScope: boolean): Error {
  // RFC 6749 §5.2 invalid_scope for `scope`; RFC 9396 §5 invalid_authorization_details for details.
  return viaScope ? new errors.InvalidScope(answer.reason, answer.reason) : new errors.InvalidAuthorizationDetails(answer.reason);
}

/**
 * Rights of a token from the token endpoint (authorization code, refresh, client credentials):
 * what the request names (`authorization_details`, else `tool:` scopes, else nothing) ∩ what the
 * grant holds ∩ the client's ceiling as it is now — a ceiling narrowed since consent applies.
 */
export function tokenEndpointRights(params: Record<string, unknown> | undefined, held: readonly ToolAccessDetail[], client: unknown, nowMs: number): ToolAccessDetail[] {
  const asked = params?.authorization_details;
  const scoped = asked === undefined ? detailsFromScope(typeof params?.scope === 'string' ? params.scope : undefined, TOOL_SCOPE_PREFIX) : [];
  const requested = asked !== undefined ? (JSON.parse(String(asked)) as ToolAccessDetail[]) : scoped.length ? scoped : undefined;
  const answer = grantableRights({ requested, held, ceilings: ceilingsOf(client), nowMs });
  if (!answer.ok) throw rightsError(answer, asked === undefined && scoped.length > 0);
  return answer.rights;
}

/** Details a consent asks for: `authorization_details`, plus `tool:<name>` scopes for clients without RAR. */
export function requestedDetails(params: Record<string, unknown>): ToolAccessDetail[] {
  const rar = typeof params.authorization_details === 'string' ? (JSON.parse(params.authorization_details) as ToolAccessDetail[]) : [];
  return [...rar, ...detailsFromScope(typeof params.scope === 'string' ? params.scope : undefined, TOOL_SCOPE_PREFIX)];
}

/**
 * What a consent grants: the request within the agent's ceiling, by the one rights function.
 * /authorize refused anything else already; this holds the line again where the grant is written.
 */
export function consentedRights(params: Record<string, unknown>, client: unknown, nowMs: number): ToolAccessDetail[] {
  const requested = requestedDetails(params);
  if (!requested.length) return []; // sign-in only (openid): no tool is granted
  const answer = grantableRights({ requested, held: undefined, ceilings: [ceilingOf(client)], nowMs });
  if (!answer.ok) throw new WritError(typeof params.authorization_details === 'string' ? 'invalid_authorization_details' : 'invalid_scope', answer.reason);
  return answer.rights;
}

