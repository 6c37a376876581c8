
import { createLocalJWKSet, jwtVerify } from 'jose';
import { actorFromChain, mintJwtCapability, scopeFor, type CapabilityClaims } from '../capability/index.ts';
import { BiscuitPool } from '../capability/biscuit-pool.ts';
import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import { grantableRights, patternWithin, toolsOf, type Ceiling, type ToolAccessDetail, type ArgumentConstraint } from '../rights/rights.ts';
import { WritError, type ErrorCode } from '../errors/index.ts';
import { decide, mergeConstraint, type Decision, type PolicySet } from '../policy/index.ts';
import type { CapabilityStore } from '../storage/ports/capabilities.ts';
import type { AgentRecord, DirectoryStore } from '../storage/ports/directory.ts';
import type { AuthorityTarget, GrantStore } from '../storage/ports/grants.ts';
import { grantCoversUntil, grantStandsFor } from '../revocation/standing.ts';
import { TOKEN_TYPE, type ExchangeParams } from './params.ts';
import { capabilitySubject, type AudienceCheck, type CapabilityKeys, type Subject } from './subject.ts';

// RFC 8693 token exchange, as plain data in and data out: the grant handler in as/ reads the
// HTTP request and writes the response; everything that decides is here, step by named step.

export interface ExchangeDeps {
  issuer: string;
  clock: Clock;
  directory: DirectoryStore;
  grants: GrantStore;
  capabilities: CapabilityStore;
  audit: AuditLog;
  keys: CapabilityKeys;
  policies: () => PolicySet;
  /** Is this identifier a registered resource server (the executor, or one registered by an admin)? */
  isAudience: AudienceCheck;
  defaultAudience: string;
  /** Writ's delegated and org-level access tokens, resolved by the authorization server. */
  resolveAccessToken: (token: string) => Promise<Subject | undefined>;
  /** Where Biscuits are minted: off the event loop, in workers whose leaked wasm memory is bounded (default: one pool per process). */
  biscuitPool?: Pick<BiscuitPool, 'mint'>;
  /**
   * Ends authority as the lifecycle's sweeps do (`GrantService.end`): what a capability recorded
   * after its user or an agent of its chain was disabled is ended with. Without it such a capability
   * is still refused here, never handed out.
   */
  endAuthority?: (org_id: string, target: AuthorityTarget, reason: string) => Promise<unknown>;
}

let processBiscuitPool: BiscuitPool | undefined;

export interface ExchangeRequest {
  /**
   * The authenticated client at the token endpoint. `tools` is its ceiling as client authentication
   * read it from the agent's record in this same request (disabled agents do not authenticate);
   * without it the agent is read again.
   */
  client: { client_id: string; org_id: string; tools?: readonly string[] | undefined };
  params: ExchangeParams;
  /** RFC 9449: thumbprint of a DPoP proof the token endpoint already validated. */
  dpopJkt?: string | undefined;
  /**
   * A person approved exactly this request (OpenID CIBA, approvals/): the subject stands for the
   * approval, whose id becomes the capability's parent; the capability is single-use.
   */
  approved?: { subject: Subject; approval_id: string; rules: string[] } | undefined;
  /**
   * Every check, and nothing minted: what a request for a person's approval would be answered
   * with. The subject may come resolved (an approval asked by `login_hint`, from the grant).
   */
  preview?: { subject?: Subject | undefined } | undefined;
}

/** What an exchange would issue, before any approval it needs (approvals/, OpenID CIBA). */
export interface ExchangePreview {
  subject: Subject;
  chain: string[];
  audience: string;
  details: ToolAccessDetail[];
  decision: Decision;
}

export interface ExchangeResponse {
  access_token: string;
  issued_token_type: string;
  token_type: 'Bearer' | 'DPoP';
  expires_in: number;
  authorization_details: ToolAccessDetail[];
  scope: string;
}

const deny = (code: ErrorCode, description: string) => new WritError(code, description);

/** Audit context gathered as the steps run, so a refusal is recorded with what was known. */
interface Trail { org_id?: string; subject?: Subject; actor?: string; audience?: string; reasons: string[]; policy_version?: string }

export async function exchangeToken(deps: ExchangeDeps, req: ExchangeRequest): Promise<ExchangeResponse> {
  return await recorded(deps, req) as ExchangeResponse;
}

/** The exchange's checks for a request without minting; refusals are on the record like any other. */
export async function previewExchange(deps: ExchangeDeps, req: ExchangeRequest & { preview: NonNullable<ExchangeRequest['preview']> }): Promise<ExchangePreview> {
  return await recorded(deps, req) as ExchangePreview;
}

async function recorded(deps: ExchangeDeps, req: ExchangeRequest): Promise<ExchangeResponse | ExchangePreview> {
  const trail: Trail = { reasons: [] };
  try {
    return await run(deps, req, trail);
  } catch (err) {
    // Refusals for a known tenant are on its record; unknown tokens have no tenant to record in.
    if (err instanceof WritError && trail.org_id) {
      await deps.audit.record(trail.org_id, {
        type: 'token.exchange_denied',
        actor: { kind: 'agent', agent_id: trail.actor ?? req.client.client_id, chain: trail.subject?.chain },
        subject: { grant_id: trail.subject?.auth_event_id, ...(trail.subject?.principal === 'user' ? { user_id: trail.subject.sub } : { principal: trail.subject?.principal }) },
        details: { error: err.code, reason: err.description, reasons: trail.reasons, policy_version: trail.policy_version, audience: trail.audience },
      });
    }
    throw err;
  }
}

async function run(deps: ExchangeDeps, req: ExchangeRequest, trail: Trail): Promise<ExchangeResponse | ExchangePreview> {
  const { params } = req;
  const now = deps.clock.now();
  const nowSeconds = Math.floor(now / 1000);

  // 1. What the subject token proves — by its provenance, never by the request's shape.
  const subject = req.approved?.subject ?? req.preview?.subject ?? await resolveSubject(deps, params.subject_token, params.subject_token_type);
  trail.subject = subject;
  // Recorded on the token owner's log, whoever presented it.
  trail.org_id = subject.org_id;
  // Tenant isolation: a token of another org is not a token here.
  if (subject.org_id !== req.client.org_id) throw deny('invalid_grant', 'the subject token is not valid for this client');

  // 2. The grant it derives from must still stand: revocation reaches every derived token here.
  const grant = await deps.grants.getGrant(subject.org_id, subject.auth_event_id);
  if (!grant || grant.revoked_at) throw deny('invalid_grant', 'the grant behind the subject token has been revoked');
  if (grant.expires_at && Date.parse(grant.expires_at) <= now) throw deny('invalid_grant', 'the grant behind the subject token has expired');
  if (!grantStandsFor(grant, subject.rights, now)) throw deny('invalid_grant', 'the grant no longer covers the subject token: a detail it came from has expired');
  if (subject.kind === 'capability') {
    const record = await deps.capabilities.getCapability(subject.org_id, subject.ref);
    if (!record || record.revoked_at) throw deny('invalid_grant', 'the subject token has been revoked');
    if (record.single_use) throw deny('invalid_grant', 'a single-use capability cannot be exchanged');
  }
  // A preview has no proof to check; an approval records the key and its capability needs it.
  if (subject.cnf && subject.cnf.jkt !== req.dpopJkt && !req.preview) {
    throw deny('invalid_grant', 'the subject token is DPoP-bound: present a DPoP proof with its key');
  }

  // 3. Who acts: the authenticated client, or the agent an actor_token names (same org only).
  const { actor, known } = await resolveActor(deps, req);
  trail.actor = actor.client_id;
  mayPresent(subject, req.client.client_id, actor.client_id);
  const chain = subject.chain[0] === actor.client_id ? subject.chain : [actor.client_id, ...subject.chain];
  // Every agent that takes part must still exist, and each one's ceiling bounds the new token:
  // the presenting client (it receives the token), the actor, and every link of the chain.
  const ceilings: Ceiling[] = [{ agent: actor.client_id, tools: actor.tools }];
  const parties = new Set([req.client.client_id, actor.client_id, ...chain]);
  for (const link of parties) {
    if (link === actor.client_id) continue;
    const agent = known.get(link) ?? await deps.directory.getAgent(subject.org_id, link);
    if (!agent) throw deny('invalid_grant', 'an agent in the delegation chain no longer exists');
    ceilings.push({ agent: link, tools: agent.tools });
  }

  // 4. The audience must be a registered resource server, named exactly (RFC 8693 §2.2.2).
  const audience = params.audience ?? deps.defaultAudience;
  trail.audience = audience;
  if (!(await deps.isAudience(subject.org_id, audience))) throw deny('invalid_target', 'the audience is not a registered resource server');

  // 5. Only narrowing (DESIGN invariant 2), by the one rights function: requested ∩ subject ∩
  // every ceiling. A named request is refused, never trimmed; no request asks for all the subject
  // holds within the ceilings (RFC 8693 §2.1: the server picks when scope is absent).
  const errorCode: ErrorCode = params.viaScope ? 'invalid_scope' : 'invalid_authorization_details';
  const answer = grantableRights({ requested: params.requested, held: subject.rights, ceilings, nowMs: now });
  if (!answer.ok) {
    trail.reasons.push(answer.reason);
    throw deny(errorCode, answer.why === 'not_held' ? `the request is wider than the subject token: ${answer.reason}` : answer.reason);
  }
  const requested = answer.rights;

  // 6. Policy decides, with reasons and constraints.
  const decision = decide(deps.policies(), {
    org_id: subject.org_id, agent_id: actor.client_id, principal: { kind: subject.principal, id: subject.sub }, audience,
    tools: toolsOf(requested), ...(requested.every((d) => d.resources) ? { resources: requested.flatMap((d) => d.resources!) } : {}),
    arguments: Object.fromEntries(requested.flatMap((d) => (d.constraints ? d.tools.map((t) => [t, d.constraints!]) : []))),
  });
  trail.reasons.push(...decision.reasons);
  trail.policy_version = decision.policy_version;
  if (decision.effect === 'deny') throw deny('access_denied', `policy refused: ${decision.reasons.join('; ')}`);
  if (decision.constraints.require_dpop && !req.dpopJkt) throw deny('invalid_request', 'policy requires a DPoP proof for this capability');
  if (decision.approval && !req.approved && !req.preview) {
    throw deny('access_denied', `approval required (rule ${decision.approval.rules.join(', ')}): ask for it by OpenID CIBA at ${deps.issuer}/backchannel with authorization_details naming the exact arguments`);
  }
  // The policy in force when the capability is issued decides: an approval rule that applies now
  // but did not when the person approved (a policy reloaded meanwhile) was not met.
  const unmet = req.approved ? (decision.approval?.rules ?? []).filter((r) => !req.approved!.rules.includes(r)) : [];
  if (unmet.length > 0) throw deny('access_denied', `the approval does not meet rule ${unmet.join(', ')} of the policy now in force: ask again`);
  const details = applyPolicy(requested, decision);

  // 7. Lifetime: never beyond the subject, the policy, the grant or the first expiring grant
  // detail the issued rights rest on (verifiers that see only the token stop with it too).
  const coveredUntil = grantCoversUntil(grant, details, now);
  const exp = Math.min(
    nowSeconds + decision.constraints.max_ttl,
    subject.exp,
    ...(coveredUntil !== undefined ? [Math.floor(coveredUntil / 1000)] : []),
  );
  if (exp <= nowSeconds) throw deny('invalid_grant', 'the subject token expires too soon to derive anything from it');
  if (req.preview) return { subject, chain, audience, details, decision };

  // 8. Mint, record, audit.
  const claims: CapabilityClaims = {
    iss: deps.issuer, aud: audience, sub: subject.sub, principal: subject.principal, org_id: subject.org_id,
    client_id: actor.client_id, authorization_details: details, scope: scopeFor(details),
    auth_event_id: subject.auth_event_id, jti: newId('cap', now), parent_jti: subject.ref,
    iat: nowSeconds, exp,
    ...(chain.length ? { act: actorFromChain(chain)! } : {}),
    ...(req.dpopJkt ? { cnf: { jkt: req.dpopJkt } } : {}),
    ...(decision.constraints.single_use || req.approved ? { single_use: true } : {}),
  };
  let token: string;
  let revocation_ids: string[] = [];
  if (params.requested_token_type === TOKEN_TYPE.biscuit) {
    const minted = await (deps.biscuitPool ?? (processBiscuitPool ??= new BiscuitPool())).mint(claims, deps.keys.biscuitRootKey);
    token = minted.token;
    revocation_ids = minted.revocation_ids;
  } else {
    token = mintJwtCapability(claims, deps.keys.capabilitySigningKey);
  }
  await deps.capabilities.recordCapability(subject.org_id, {
    jti: claims.jti, org_id: subject.org_id, auth_event_id: subject.auth_event_id, parent_jti: subject.ref, client_id: actor.client_id,
    format: params.requested_token_type === TOKEN_TYPE.biscuit ? 'biscuit' : 'jwt', revocation_ids,
    single_use: claims.single_use === true, exp, created_at: new Date(now).toISOString(),
  });
  await deps.audit.record(subject.org_id, {
    type: 'token.exchanged',
    actor: { kind: 'agent', agent_id: actor.client_id, chain },
    subject: { grant_id: subject.auth_event_id, capability_id: claims.jti, ...(subject.principal === 'user' ? { user_id: subject.sub } : { principal: 'org' }) },
    details: {
      format: params.requested_token_type === TOKEN_TYPE.biscuit ? 'biscuit' : 'jwt', audience, tools: toolsOf(details),
      authorization_details: details, exp, parent_jti: subject.ref, single_use: claims.single_use === true,
      dpop_bound: claims.cnf !== undefined, policy_version: decision.policy_version, reasons: decision.reasons,
      ...(req.approved ? { approval_id: req.approved.approval_id } : {}),
    },
  });
  await endIfHoldersGone(deps, subject, parties, claims.jti);

  // RFC 8693 §2.2.1
  return {
    access_token: token,
    issued_token_type: params.requested_token_type,
    token_type: claims.cnf ? 'DPoP' : 'Bearer',
    expires_in: exp - nowSeconds,
    authorization_details: details,
    scope: claims.scope,
  };
}

/**
 * Write, then check (as `GrantService.create` does for grants): the lifecycle marks a user or an
 * agent disabled before it sweeps what they hold, so a capability recorded after that sweep meets
 * the mark here. Its holders' sweep runs again (the same targets the lifecycle ends, which reach
 * this capability through its holder, its parent or its grant) and the token is refused, never
 * handed out. A deleted agent or user is missing from the directory: gone too.
 */
async function endIfHoldersGone(deps: ExchangeDeps, subject: Subject, agents: Set<string>, jti: string): Promise<void> {
  const { org_id } = subject;
  // One round trip to the store for all parties: the reads are independent (MongoDB runs them at
  // once; SQLite answers each synchronously either way).
  const [user, ...found] = await Promise.all([
    subject.principal === 'user' ? deps.directory.getUser(org_id, subject.sub, { includeDisabled: true }) : undefined,
    ...[...agents].map((client_id) => deps.directory.getAgent(org_id, client_id, { includeDisabled: true })),
  ]);
  const gone: Array<{ why: string; target: AuthorityTarget }> = [];
  if (subject.principal === 'user' && (!user || user.disabled_at)) gone.push({ why: `user ${user ? 'disabled' : 'deleted'}`, target: { grants: { user_id: subject.sub } } });
  [...agents].forEach((client_id, i) => {
    const agent = found[i];
    if (!agent || agent.disabled_at) gone.push({ why: `agent ${client_id} ${agent ? 'disabled' : 'deleted'}`, target: { grants: { agent_id: client_id }, agent: client_id } });
  });
  if (gone.length === 0) return;
  for (const { why, target } of gone) await deps.endAuthority?.(org_id, target, `${why} while capability ${jti} was issued`);
  throw deny('invalid_grant', `the capability could not be issued: ${gone.map((g) => g.why).join(', ')}`);
}

async function resolveSubject(deps: ExchangeDeps, token: string, type: ExchangeParams['subject_token_type']): Promise<Subject> {
  if (type === TOKEN_TYPE.access_token) {
    const subject = await deps.resolveAccessToken(token);
    if (!subject) throw deny('invalid_grant', 'the subject token is not an active access token of this server');
    return subject;
  }
  return capabilitySubject(token, type === TOKEN_TYPE.jwt ? 'jwt' : 'biscuit', deps);
}

/**
 * A delegated token is presented by the agent it was issued to (or one its `may_act` names);
 * a capability by any agent of its org holding it — that is how an orchestrator hands it on.
 */
function mayPresent(subject: Subject, presenter: string, actor: string): void {
  if (subject.may_act && subject.may_act.sub !== actor && subject.chain[0] !== actor) {
    throw deny('invalid_grant', 'the subject token does not allow this actor (may_act)');
  }
  if (subject.kind === 'delegated' && subject.chain[0] !== presenter && subject.may_act?.sub !== presenter) {
    throw deny('invalid_grant', 'the subject token was issued to another client');
  }
}

/** The acting agent, and the agents read to find it (the presenting client among them), so none is read twice. */
/** What the exchange needs of an agent: who it is and its ceiling. */
type ActingAgent = Pick<AgentRecord, 'client_id' | 'tools'>;

async function resolveActor(deps: ExchangeDeps, req: ExchangeRequest): Promise<{ actor: ActingAgent; known: Map<string, ActingAgent> }> {
  const { params, client } = req;
  const self: ActingAgent | undefined = client.tools
    ? { client_id: client.client_id, tools: [...client.tools] }
    : await deps.directory.getAgent(client.org_id, client.client_id);
  if (!self) throw deny('invalid_client', 'the client is no longer registered');
  const known = new Map<string, ActingAgent>([[self.client_id, self]]);
  if (!params.actor_token) return { actor: self, known };
  let agent: ActingAgent | undefined;
  if (params.actor_token_type === TOKEN_TYPE.access_token) {
    const actor = await deps.resolveAccessToken(params.actor_token);
    const actorId = actor?.org_id === client.org_id ? actor.chain[0] : undefined;
    if (!actorId) throw deny('invalid_grant', 'the actor token is not valid');
    agent = known.get(actorId) ?? await deps.directory.getAgent(client.org_id, actorId);
  } else if (params.actor_token_type === TOKEN_TYPE.jwt) {
    agent = await assertedAgent(deps, client.org_id, params.actor_token);
    if (!agent) throw deny('invalid_grant', 'the actor token is not valid');
  } else {
    throw deny('invalid_grant', 'the actor token is not valid');
  }
  if (!agent) throw deny('invalid_grant', 'the actor token names no agent of this org');
  known.set(agent.client_id, agent);
  return { actor: agent, known };
}

/** An RFC 7523-style assertion (iss = sub = client_id, aud = issuer) signed with the agent's registered keys. */
async function assertedAgent(deps: ExchangeDeps, org_id: string, jwt: string): Promise<AgentRecord | undefined> {
  try {
    const [, payload] = jwt.split('.');
    const claimed = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
    if (typeof claimed.sub !== 'string') return undefined;
    const agent = await deps.directory.getAgent(org_id, claimed.sub);
    if (!agent?.jwks) return undefined;
    const { payload: verified } = await jwtVerify(jwt, createLocalJWKSet(agent.jwks as never), {
      issuer: agent.client_id, subject: agent.client_id, audience: deps.issuer, maxTokenAge: '5m',
      currentDate: new Date(deps.clock.now()), algorithms: ['EdDSA', 'ES256', 'RS256', 'PS256'],
    });
    return verified.sub === agent.client_id ? agent : undefined;
  } catch {
    return undefined;
  }
}

/** Folds the policy's resource limits and argument constraints into the issued details. */
function applyPolicy(requested: ToolAccessDetail[], decision: Decision): ToolAccessDetail[] {
  const { resources, arguments: args } = decision.constraints;
  const out: ToolAccessDetail[] = [];
  for (const d of requested) {
    for (const tool of d.tools) {
      let constraints: Record<string, ArgumentConstraint> | undefined = d.constraints ? { ...d.constraints } : undefined;
      for (const [field, c] of Object.entries(args?.[tool] ?? {})) {
        const current = constraints?.[field];
        const merged = current ? mergeConstraint(current, c) : c;
        if (typeof merged === 'string') throw deny('access_denied', `policy constraint on ${tool} ${field} conflicts with the request: ${merged}`);
        constraints = { ...constraints, [field]: merged };
      }
      let detailResources = d.resources;
      if (resources && !detailResources) detailResources = resources;
      else if (resources && detailResources && !detailResources.every((r) => resources.some((p) => patternWithin(r, p)))) {
        throw deny('access_denied', `policy does not allow these resources for ${tool}`);
      }
      out.push({ type: 'tool_access', tools: [tool], ...(detailResources ? { resources: detailResources } : {}), ...(constraints ? { constraints } : {}) });
    }
  }
  return mergeSameShape(out);
}

/** Tools with identical resources and constraints share one detail again. */
function mergeSameShape(details: ToolAccessDetail[]): ToolAccessDetail[] {
  const byShape = new Map<string, ToolAccessDetail>();
  for (const d of details) {
    const key = JSON.stringify([d.resources ?? null, d.constraints ?? null]);
    const existing = byShape.get(key);
    if (existing) existing.tools = [...new Set([...existing.tools, ...d.tools])];
    else byShape.set(key, { ...d, tools: [...d.tools] });
  }
  return [...byShape.values()];
}

