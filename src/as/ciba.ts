import Provider, { errors, type Adapter, type AdapterPayload, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { POLL_INTERVAL_SECONDS, requestRef, type ApprovalService } from '../approvals/service.ts';
import type { ApprovalRecord } from '../approvals/store.ts';
import { exchangeToken, previewExchange, type ExchangeDeps, type ExchangePreview } from '../exchange/rfc8693.ts';
import { parseExchangeParams, TOKEN_TYPE, type ExchangeParams } from '../exchange/params.ts';
import type { Subject } from '../exchange/subject.ts';
import { isWritError, WritError } from '../errors/index.ts';
import { grantableRights } from '../rights/rights.ts';
import type { DirectoryStore } from '../storage/ports/directory.ts';
import type { GrantStore } from '../storage/ports/grants.ts';
import { boundGrantHelpers } from './grants/stock.ts';
import { providerError } from './grants/provider-errors.ts';

// OpenID CIBA (Client-Initiated Backchannel Authentication) with RFC 9396 details, ending in a
// capability rather than an access token. oidc-provider runs the backchannel endpoint: client
// authentication, `login_hint_token` / `login_hint`, `binding_message`, `requested_expiry`,
// `tool_access` validation and the auth_req_id. The hooks here make Writ's decision before the
// request is accepted — the same checks as a token exchange (grant alive, ceilings, narrowing,
// policy), stopping where an exchange would mint — and record it in approvals/ for a person.
// The CIBA grant at the token endpoint is Writ's own: it answers from the approval's state and,
// once approved, runs the token exchange for exactly the approved call, single-use.

export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';
/** Longest an approved capability lives; the policy's `max_ttl` may shorten it. */
export const APPROVED_CAPABILITY_SECONDS = 300;

interface Asked { preview: ExchangePreview; maxWait: number }
const ASKED = Symbol('writ.ciba');
type Ctx = KoaContextWithOIDC & { [ASKED]?: Asked };

type ClientWithOrg = { clientId: string; org_id: string };
const clientOf = (ctx: KoaContextWithOIDC) => ctx.oidc.client as unknown as ClientWithOrg;

export interface CibaDeps {
  approvals: ApprovalService;
  directory: DirectoryStore;
  grants: GrantStore;
}

/** What the agent may put in `binding_message`: one short line of printable text. */
const BINDING_MESSAGE = /^[\p{L}\p{N}\p{P}\p{S} ]{1,100}$/u;

export class Ciba {
  readonly #deps: CibaDeps;
  #exchange: ExchangeDeps | undefined;
  #provider: Provider | undefined;

  constructor(deps: CibaDeps) { this.#deps = deps; }

  /** The token exchange's collaborators, known once the provider exists (it resolves access tokens). */
  bind(exchange: ExchangeDeps): void { this.#exchange = exchange; }

  get #ex(): ExchangeDeps {
    if (!this.#exchange) throw new Error('CIBA used before the exchange was bound');
    return this.#exchange;
  }

  /** oidc-provider's `features.ciba`. */
  feature(): NonNullable<Configuration['features']>['ciba'] {
    return {
      enabled: true,
      deliveryModes: ['poll', 'ping'],
      processLoginHintToken: async (ctx: KoaContextWithOIDC, token: string) => this.#ask(ctx as Ctx, { token }),
      processLoginHint: async (ctx: KoaContextWithOIDC, hint: string) => this.#ask(ctx as Ctx, { hint }),
      // No user codes: the person approves on their own signed-in page.
      verifyUserCode: async (_ctx: KoaContextWithOIDC, _account: unknown, userCode: string | undefined) => {
        if (userCode !== undefined) throw new errors.InvalidRequest('user_code is not supported (backchannel_user_code_parameter_supported is false)');
      },
      validateBindingMessage: async (_ctx: KoaContextWithOIDC, message: string | undefined) => {
        if (message !== undefined && !BINDING_MESSAGE.test(message)) {
          throw new errors.InvalidBindingMessage('binding_message must be 1-100 printable characters on one line');
        }
      },
      // Runs before the user is looked up: an ID token names a user but no delegation to decide on.
      validateRequestContext: async (ctx: KoaContextWithOIDC) => {
        if ((ctx.oidc.params as Record<string, unknown>).id_token_hint !== undefined) {
          throw new errors.InvalidRequest('id_token_hint is not accepted here: send the user\'s delegated token as login_hint_token, or login_hint');
        }
      },
      triggerAuthenticationDevice: async (ctx: KoaContextWithOIDC, request: unknown) => this.#record(ctx as Ctx, request as { expiration: number }),
    } as never;
  }

  /** `ttl.BackchannelAuthenticationRequest`: the agent's `requested_expiry` within the policy's wait. */
  ttl(ctx: KoaContextWithOIDC | undefined): number {
    const asked = (ctx as Ctx | undefined)?.[ASKED];
    const maxWait = asked?.maxWait ?? 600;
    const requested = Number((ctx?.oidc.params as Record<string, unknown> | undefined)?.requested_expiry);
    return Number.isSafeInteger(requested) && requested > 0 ? Math.min(requested, maxWait) : maxWait;
  }

  /** Decides the request as an exchange would, stops before minting, and names the user. */
  async #ask(ctx: Ctx, hint: { token: string } | { hint: string }): Promise<string> {
    try {
      const client = clientOf(ctx);
      const params = ctx.oidc.params as Record<string, unknown>;
      const exchangeParams = parseExchangeParams({
        subject_token: 'token' in hint ? hint.token : 'unused', subject_token_type: TOKEN_TYPE.access_token,
        authorization_details: params.authorization_details,
      });
      const detail = oneExactCall(exchangeParams);
      const subject = 'hint' in hint ? await this.#subjectFromHint(client, hint.hint, exchangeParams) : undefined;
      const preview = await previewExchange(this.#ex, {
        client: { client_id: client.clientId, org_id: client.org_id }, params: { ...exchangeParams, requested: [detail] },
        preview: { subject },
      });
      if (preview.subject.principal !== 'user') throw new WritError('invalid_request', 'an approval is asked for a user: send the user\'s delegated token as login_hint_token');
      await this.#deps.approvals.assertRoomFor(client.org_id, client.clientId, preview.subject.sub);
      ctx[ASKED] = { preview, maxWait: preview.decision.approval?.max_wait ?? 600 };
      return preview.subject.sub;
    } catch (err) {
      throw isWritError(err) ? providerError(err) : err;
    }
  }

  /** `login_hint`: a user of the client's org (id or username) with a live grant to this agent covering the call. */
  async #subjectFromHint(client: ClientWithOrg, hint: string, params: ExchangeParams): Promise<Subject> {
    const user = (await this.#deps.directory.getUser(client.org_id, hint)) ?? (await this.#deps.directory.findUserByUsername(client.org_id, hint));
    if (!user) throw new errors.UnknownUserId('could not identify end-user');
    const now = this.#ex.clock.now();
    const grants = await this.#deps.grants.listGrants(client.org_id, { user_id: user.id, agent_id: client.clientId });
    const grant = grants.find((g) => !g.revoked_at && (!g.expires_at || Date.parse(g.expires_at) > now)
      && grantableRights({ requested: params.requested, held: g.authorization_details, ceilings: [], nowMs: now }).ok);
    if (!grant) throw new WritError('invalid_grant', 'the user has not delegated this tool to this agent');
    return {
      kind: 'delegated', format: 'access_token', org_id: client.org_id, principal: 'user', sub: user.id, chain: [client.clientId],
      auth_event_id: grant.id, rights: grant.authorization_details, exp: Math.floor(now / 1000) + 3600, ref: grant.id,
    };
  }

  async #record(ctx: Ctx, request: { expiration: number }): Promise<void> {
    const asked = ctx[ASKED];
    const body = ctx.body as { auth_req_id: string; expires_in: number };
    if (!asked) throw new Error('CIBA request without a decision');
    const { preview } = asked;
    const params = ctx.oidc.params as Record<string, unknown>;
    await this.#deps.approvals.request({
      org_id: preview.subject.org_id, auth_req_id: body.auth_req_id, agent_id: preview.chain[0]!, chain: preview.chain,
      user_id: preview.subject.sub, grant_id: preview.subject.auth_event_id, held: preview.subject.rights, details: preview.details,
      audience: preview.audience, dpop_jkt: preview.subject.cnf?.jkt,
      binding_message: typeof params.binding_message === 'string' ? params.binding_message : undefined,
      requirement: {
        rules: preview.decision.approval?.rules ?? [],
        approvers: preview.decision.approval?.approvers ?? ['user'],
        fresh_sign_in: preview.decision.approval?.fresh_sign_in ?? 300,
      },
      expires_in: request.expiration,
    });
    // CIBA §7.3: the minimum wait between polls.
    ctx.body = { ...body, interval: POLL_INTERVAL_SECONDS };
  }

  /** The CIBA grant at the token endpoint: the approval's state, or its one capability. */
  register(provider: Provider): void {
    this.#provider = provider;
    const helpers = boundGrantHelpers(provider);
    provider.registerGrantType(CIBA_GRANT, async (ctx: KoaContextWithOIDC) => {
      const client = clientOf(ctx);
      const params = ctx.oidc.params as Record<string, unknown>;
      const id = typeof params.auth_req_id === 'string' ? params.auth_req_id : '';
      if (!id) throw new errors.InvalidRequest('missing required parameter(s) (auth_req_id)');
      const dPoP = (await helpers.validateDpop!(ctx)) as { thumbprint: string } | undefined;
      if (dPoP) await helpers.checkDpopReplay!(ctx, dPoP, client.clientId);
      const found = await this.#deps.approvals.store.findApprovalByRequest(requestRef(id));
      // Another org's or another agent's request is no request here.
      if (!found || found.org_id !== client.org_id || found.agent_id !== client.clientId) {
        throw new errors.InvalidGrant('backchannel authentication request not found');
      }
      const answer = await this.#deps.approvals.poll(found);
      switch (answer.state) {
        case 'pending': throw new errors.AuthorizationPending();
        case 'slow_down': throw new errors.SlowDown();
        case 'denied': throw new errors.AccessDenied(deniedBecause(answer.record));
        case 'expired': throw new errors.ExpiredToken('the approval request expired before anyone decided');
        case 'used': throw new errors.InvalidGrant('this approval has already yielded its capability');
      }
      if (!(await this.#deps.approvals.claimForIssue(answer.record))) throw new errors.InvalidGrant('this approval has already yielded its capability');
      try {
        ctx.body = await this.#issue(answer.record, params, dPoP?.thumbprint);
      } catch (err) {
        throw isWritError(err) ? providerError(err) : err;
      }
    }, ['auth_req_id', 'requested_token_type']);
  }

  /**
   * A decision reached the request: oidc-provider marks it and, for an agent in ping mode, posts
   * the auth_req_id to the agent's notification endpoint (CIBA §10.2). The grant handed over is a
   * marker only: the CIBA grant here reads the approval, never oidc-provider's grant.
   */
  async notify(record: ApprovalRecord, auth_req_id: string): Promise<void> {
    const provider = this.#provider;
    if (!provider || (record.status !== 'approved' && record.status !== 'denied')) return;
    if (record.status === 'denied') {
      await provider.backchannelResult(auth_req_id, new errors.AccessDenied(deniedBecause(record)));
      return;
    }
    const marker = new provider.Grant({ accountId: record.user_id, clientId: record.agent_id });
    (marker as unknown as { jti: string }).jti = record.grant_id;
    await provider.backchannelResult(auth_req_id, marker);
  }

  /**
   * The adapter, with each agent's CIBA metadata added to its client record: the CIBA grant, and
   * its token delivery mode and notification endpoint from the org's approval settings.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  withBackchannel<T extends new (...args: any[]) => Adapter>(AdapterClass: T): T {
    const approvals = this.#deps.approvals;
    return class extends AdapterClass {
      override async find(id: string): Promise<AdapterPayload | undefined | void> {
        const found = await super.find(id);
        const self = this as unknown as { name: string };
        const org_id = (found as { org_id?: unknown } | undefined)?.org_id;
        if (self.name !== 'Client' || !found || typeof org_id !== 'string') return found;
        const mode = needsDeliveryMode() ? (await approvals.settings(org_id)).agents[id] : undefined;
        return {
          ...found,
          grant_types: [...((found as { grant_types?: string[] }).grant_types ?? []), CIBA_GRANT],
          backchannel_token_delivery_mode: mode?.delivery_mode ?? 'poll',
          ...(mode?.delivery_mode === 'ping' && mode.notification_endpoint ? { backchannel_client_notification_endpoint: mode.notification_endpoint } : {}),
        } as AdapterPayload;
      }
    };
  }

  /** The token exchange for exactly the approved call, with the approval standing for the subject. */
  async #issue(record: ApprovalRecord, params: Record<string, unknown>, dpopJkt: string | undefined) {
    const now = Math.floor(this.#ex.clock.now() / 1000);
    const requestedType = typeof params.requested_token_type === 'string' ? params.requested_token_type : undefined;
    const parsed = parseExchangeParams({ subject_token: 'approval', subject_token_type: TOKEN_TYPE.access_token, requested_token_type: requestedType });
    const subject: Subject = {
      kind: 'delegated', format: 'access_token', org_id: record.org_id, principal: 'user', sub: record.user_id, chain: record.chain,
      auth_event_id: record.grant_id, rights: record.held, exp: now + APPROVED_CAPABILITY_SECONDS, ref: record.id,
      ...(record.dpop_jkt ? { cnf: { jkt: record.dpop_jkt } } : {}),
    };
    return exchangeToken(this.#ex, {
      client: { client_id: record.agent_id, org_id: record.org_id },
      params: { ...parsed, audience: record.audience, requested: record.details },
      dpopJkt, approved: { subject, approval_id: record.id, rules: record.requirement.rules },
    });
  }
}

/**
 * Whether the client being looked up may need its CIBA delivery mode: everywhere except the token
 * endpoint for a grant other than CIBA's (the token exchange, on every agent call), where neither
 * the mode nor the notification endpoint is read, so the org's approval settings are not either.
 * Outside a provider request (an approval resolved from a page) it is read.
 */
function needsDeliveryMode(): boolean {
  const ctx = Provider.ctx as (KoaContextWithOIDC & { request: { body?: Record<string, unknown> } }) | undefined;
  if (ctx?.oidc?.route !== 'token') return true;
  const grantType = (ctx.oidc.params as Record<string, unknown> | undefined)?.grant_type ?? ctx.request.body?.grant_type;
  return grantType === CIBA_GRANT;
}

/**
 * One call, exactly: one `tool_access` detail naming one tool, at most one resource (no
 * wildcard), and every argument as an `eq` constraint — what a person can read and approve.
 */
function oneExactCall(params: ExchangeParams) {
  const details = params.requested;
  const bad = (why: string) => new WritError('invalid_authorization_details', `an approval is for one exact call: ${why}`);
  if (!details || details.length !== 1) throw bad('send exactly one tool_access detail');
  const [d] = details as [NonNullable<ExchangeParams['requested']>[number]];
  if (d.tools.length !== 1 || d.tools[0]!.includes('*')) throw bad('name exactly one tool');
  if (d.resources && (d.resources.length !== 1 || d.resources[0]!.includes('*'))) throw bad('name at most one resource, without wildcards');
  if (d.expires_at) throw bad('expires_at has no place in an approval');
  const constraints = Object.entries(d.constraints ?? {});
  if (constraints.length === 0) throw bad('give the arguments as constraints, each { "eq": value }');
  for (const [field, c] of constraints) {
    if (c.eq === undefined || Object.keys(c).length !== 1) throw bad(`the constraint on ${field} must be exactly { "eq": value }`);
  }
  return d;
}

/** Why a denied request was denied: a person's decision, or the system's (its user was disabled or deleted). */
function deniedBecause(record: ApprovalRecord): string {
  return `${record.decided_by ? 'the approver denied the request' : 'the request ended'}: ${record.reason ?? 'no reason given'}`;
}
