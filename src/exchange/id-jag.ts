import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { z } from 'zod';
import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import { WritError, type ErrorCode } from '../errors/index.ts';
import { decide, type PolicySet } from '../policy/index.ts';
import { detailsFromScope, grantableRights, toolsOf, type ToolAccessDetail } from '../rights/rights.ts';
import type { GrantStore } from '../storage/ports/grants.ts';
import type { CrossAppPolicy } from '../storage/ports/sso.ts';
import type { DirectoryStore } from '../storage/ports/directory.ts';
import type { CapabilityKeys, Subject } from './subject.ts';

// Identity Assertion JWT Authorization Grants (draft-ietf-oauth-identity-assertion-authz-grant),
// both directions, as plain data in and out:
// - accepting one (RFC 7523 `jwt-bearer` at /token): what an org's trusted provider asserted,
//   narrowed to the agent's ceiling and the org's policy — the provider's decision stands in for
//   the consent page, never beyond what the agent may hold;
// - issuing one (RFC 8693, `requested_token_type=…:id-jag`): Writ as the identity provider of its
//   users, for another authorization server the org listed, with the scopes it allows there.

export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'; // RFC 7523 §2.1
export const ID_JAG_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id-jag';
export const ID_JAG_TYP = 'oauth-id-jag+jwt';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
const TOOL_SCOPE_PREFIX = 'tool:';

const deny = (code: ErrorCode, description: string) => new WritError(code, description);

// ---- accepting ------------------------------------------------------------------------------

/** The org policies as loaded now. */
export type CurrentPolicies = () => PolicySet;

export interface AssertedRights {
  org_id: string;
  agent: { client_id: string; tools: string[] };
  user_id: string;
  /** The assertion's `scope` claim: what the provider decided. */
  assertedScope: string | undefined;
  /** The token request's own `scope`, which may only narrow it. */
  requestedScope: string | undefined;
  /** The provider's issuer (for the policy's reasons). */
  issuer: string;
}

/**
 * The rights an accepted ID-JAG gives: the `tool:` scopes it asserts (or, narrower, the ones the
 * request names) ∩ the agent's ceiling, then the org's policy. Refusals name what was refused.
 */
export function assertedRights(deps: { policies: CurrentPolicies; clock: Clock; issuer: string }, input: AssertedRights): ToolAccessDetail[] {
  const asserted = detailsFromScope(input.assertedScope, TOOL_SCOPE_PREFIX);
  if (!asserted.length) throw deny('invalid_scope', 'the assertion grants no tool: scope');
  const requested = input.requestedScope === undefined ? undefined : detailsFromScope(input.requestedScope, TOOL_SCOPE_PREFIX);
  if (requested !== undefined && !requested.length) throw deny('invalid_scope', 'scope names no tool: scope');
  // The assertion (or the narrower request) is what is asked for: beyond the ceiling it is refused, never trimmed.
  const answer = grantableRights({ requested: requested ?? asserted, held: asserted, ceilings: [{ agent: input.agent.client_id, tools: input.agent.tools }], nowMs: deps.clock.now() });
  if (!answer.ok) throw deny('invalid_scope', answer.why === 'not_held' ? `the request is wider than the assertion: ${answer.reason}` : answer.reason);
  const decision = decide(deps.policies(), {
    org_id: input.org_id, agent_id: input.agent.client_id, principal: { kind: 'user', id: input.user_id }, audience: deps.issuer,
    tools: toolsOf(answer.rights),
  });
  if (decision.effect === 'deny') throw deny('access_denied', `policy refused: ${decision.reasons.join('; ')}`);
  return answer.rights;
}

// ---- issuing --------------------------------------------------------------------------------

const issueSchema = z.object({
  subject_token: z.string().min(1).max(16 * 1024),
  subject_token_type: z.enum([ID_TOKEN_TYPE, ACCESS_TOKEN_TYPE], { error: 'subject_token_type must be an ID token or an access token of this server' }),
  requested_token_type: z.literal(ID_JAG_TOKEN_TYPE),
  audience: z.string().min(1).max(2048),
  resource: z.string().min(1).max(2048).optional(),
  scope: z.string().max(4096).optional(),
});

export interface IdJagIssueDeps {
  issuer: string;
  clock: Clock;
  grants: GrantStore;
  audit: AuditLog;
  keys: Pick<CapabilityKeys, 'capabilitySigningKey'>;
  /** Writ's delegated access tokens, resolved by the authorization server. */
  resolveAccessToken: (token: string) => Promise<Subject | undefined>;
  /** An ID token this server issued to the presenting client: its subject and expiry (signature, iss and aud checked). */
  resolveIdToken: (token: string) => Promise<{ sub: string; exp: number } | undefined>;
  directory: Pick<DirectoryStore, 'getUser'>;
  /** The org's cross-app policy: the servers Writ may assert its users to, and on what terms. */
  crossApp: (org_id: string) => Promise<CrossAppPolicy | undefined>;
}

export interface IdJagIssueResponse {
  access_token: string;
  issued_token_type: typeof ID_JAG_TOKEN_TYPE;
  /** draft §4.3: the ID-JAG is not an access token. */
  token_type: 'N_A';
  expires_in: number;
  scope?: string;
}

/**
 * Token exchange for an ID-JAG: the agent's delegated token names the user; the org's cross-app
 * policy names the audience, the agent's client id there, the scopes and resources it may ask for
 * and the assertion's life. Refusals are recorded on the org's log.
 */
export async function issueIdJag(deps: IdJagIssueDeps, req: { client: { client_id: string; org_id: string }; params: Record<string, unknown> }): Promise<IdJagIssueResponse> {
  const { client } = req;
  const refuse = async (code: ErrorCode, reason: string, details: Record<string, unknown> = {}): Promise<never> => {
    await deps.audit.record(client.org_id, { type: 'id_jag.refused', actor: { kind: 'agent', agent_id: client.client_id }, subject: { agent_id: client.client_id }, details: { direction: 'issue', error: code, reason, ...details } });
    throw deny(code, reason);
  };
  const parsed = issueSchema.safeParse(Object.fromEntries(Object.entries(req.params).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw deny('invalid_request', `${issue.path.join('.') || 'request'}: ${issue.message}`);
  }
  const p = parsed.data;
  const now = deps.clock.now();
  const nowSeconds = Math.floor(now / 1000);

  // 1. The user: an ID token this server issued to this agent (draft §4.3), or an active delegated
  // token of this server issued to it, whose grant still stands; a user of this org either way.
  let subject: { sub: string; exp: number; auth_event_id?: string | undefined };
  if (p.subject_token_type === ID_TOKEN_TYPE) {
    const verified = await deps.resolveIdToken(p.subject_token);
    if (!verified) return refuse('invalid_grant', 'the subject token is not an ID token this server issued to this client');
    if (verified.exp <= nowSeconds) return refuse('invalid_grant', 'the subject token has expired');
    if (!(await deps.directory.getUser(client.org_id, verified.sub))) return refuse('invalid_grant', 'the subject token names no user of this organisation');
    subject = verified;
  } else {
    const delegated = await deps.resolveAccessToken(p.subject_token);
    if (!delegated || delegated.org_id !== client.org_id || delegated.principal !== 'user') return refuse('invalid_grant', 'the subject token is not an active access token of a user for this client');
    if (delegated.chain[0] !== client.client_id) return refuse('invalid_grant', 'the subject token was issued to another client');
    if (delegated.exp <= nowSeconds) return refuse('invalid_grant', 'the subject token has expired');
    const grant = await deps.grants.getGrant(delegated.org_id, delegated.auth_event_id);
    if (!grant || grant.revoked_at) return refuse('invalid_grant', 'the grant behind the subject token has been revoked');
    subject = delegated;
  }

  // 2. The org's policy: this audience, this agent, these scopes and resources.
  const target = (await deps.crossApp(client.org_id))?.targets.find((t) => t.audience === p.audience);
  if (!target) return refuse('invalid_target', 'the audience is not an authorization server this organisation asserts its users to', { audience: p.audience });
  const remoteClient = target.clients[client.client_id];
  if (!remoteClient) return refuse('unauthorized_client', 'this agent may not be asserted to that authorization server', { audience: p.audience });
  const scopes = p.scope?.split(' ').filter(Boolean) ?? [];
  const outside = scopes.filter((s) => !target.scopes.includes(s));
  if (outside.length) return refuse('invalid_scope', `the organisation does not allow these scopes there: ${outside.join(' ')}`, { audience: p.audience });
  if (p.resource !== undefined && !target.resources.includes(p.resource)) return refuse('invalid_target', 'the organisation does not allow that resource there', { audience: p.audience });

  // 3. The assertion (draft §3): short-lived, one jti, signed with the key this server publishes.
  const exp = Math.min(nowSeconds + target.ttl, subject.exp);
  const jti = randomBytes(18).toString('base64url');
  const claims: Record<string, unknown> = {
    iss: deps.issuer, sub: subject.sub, aud: target.audience, client_id: remoteClient, jti, iat: nowSeconds, exp,
    ...(p.resource ? { resource: p.resource } : {}),
    ...(scopes.length ? { scope: scopes.join(' ') } : {}),
  };
  const key = deps.keys.capabilitySigningKey;
  const assertion = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: ID_JAG_TYP, kid: key.kid }).sign(key.privateKey);
  await deps.audit.record(client.org_id, {
    type: 'id_jag.issued', actor: { kind: 'agent', agent_id: client.client_id },
    subject: { user_id: subject.sub, ...(subject.auth_event_id ? { grant_id: subject.auth_event_id } : {}) },
    details: { audience: target.audience, client_id: remoteClient, jti, exp, ...(claims.scope ? { scope: claims.scope } : {}), ...(p.resource ? { resource: p.resource } : {}) },
  });
  return { access_token: assertion, issued_token_type: ID_JAG_TOKEN_TYPE, token_type: 'N_A', expires_in: exp - nowSeconds, ...(claims.scope ? { scope: String(claims.scope) } : {}) };
}
