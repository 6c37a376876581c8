// Human approval of one call: the life of a request from the moment an agent asks (OpenID CIBA)
// to a person's decision, its expiry, and the one capability it may yield.
//
//   pending ──approve──▶ approved ──token endpoint──▶ issued
//      │ └────deny────▶ denied
//      └──(expires_at)─▶ expired
//
// Every move is one compare-and-set on the status, so two deciders (a page and the admin API,
// two tabs) cannot both win, and the capability is issued once. Each move writes its audit event
// and queues the org's webhook; a decision also tells the agent (ping mode) through `notify`.

import { createHash } from 'node:crypto';
import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import { WritError } from '../errors/index.ts';
import type { ToolAccessDetail } from '../rights/rights.ts';
import type { UserRecord } from '../storage/ports/directory.ts';
import type { GrantStore } from '../storage/ports/grants.ts';
import type { ApprovalDecider, ApprovalRecord, ApprovalSettings, ApprovalStore, ApproverSpec } from './store.ts';
import type { WebhookOutbox } from './webhooks.ts';

/** How often an agent may poll the token endpoint for one request (CIBA §7.3 `interval`). */
export const POLL_INTERVAL_SECONDS = 5;
/**
 * Requests one agent may have waiting on one person at a time. An agent (or an instruction
 * injected into it) cannot bury a person in requests until one is approved without reading.
 */
export const MAX_PENDING_PER_AGENT_AND_USER = 5;

export interface Sealer {
  seal(plaintext: string, aad: string): string;
  open(sealed: string, aad: string): string;
}

export interface ApprovalServiceDeps {
  store: ApprovalStore;
  audit: AuditLog;
  clock: Clock;
  sealer: Sealer;
  webhooks: WebhookOutbox;
  /** The grants behind requests: one that has ended leaves nothing to approve. */
  grants?: Pick<GrantStore, 'getGrant'> | undefined;
  /** Tells the agent a decision was made (ping mode); failures are logged, never undo the decision. */
  notify?: (record: ApprovalRecord, auth_req_id: string) => Promise<void>;
  onError?: (message: string, err: unknown) => void;
}

/** What the CIBA endpoint knows of a new request: the record's facts, less what the service assigns. */
export type NewApproval = Omit<ApprovalRecord, 'id' | 'request_ref' | 'request_sealed' | 'status' | 'created_at' | 'expires_at' | 'decided_at' | 'decided_by' | 'reason' | 'last_polled_at'> & {
  auth_req_id: string;
  /** Seconds the request may wait. */
  expires_in: number;
};

/** What the token endpoint learns from one poll. */
export type PollAnswer =
  | { state: 'pending' | 'slow_down' | 'denied' | 'expired' | 'used'; record: ApprovalRecord }
  | { state: 'approved'; record: ApprovalRecord };

export const requestRef = (auth_req_id: string) => `sha256:${createHash('sha256').update(auth_req_id).digest('base64url')}`;

const sealAad = (a: { org_id: string; id: string }) => `approval:${a.org_id}:${a.id}`;

export function defaultSettings(org_id: string, at: string): ApprovalSettings {
  return { org_id, allow_admin_api_approval: false, groups: {}, agents: {}, updated_at: at };
}

/** Does this user satisfy every approver the policy names for the request? */
export function mayApprove(record: ApprovalRecord, user: UserRecord, settings: ApprovalSettings | undefined): boolean {
  if (user.org_id !== record.org_id) return false;
  const qualifies = (spec: ApproverSpec) =>
    spec === 'user' ? user.id === record.user_id
      : spec === 'org_admin' ? user.roles.includes('admin')
        : (settings?.groups[spec.group] ?? []).includes(user.id);
  return record.requirement.approvers.length > 0 && record.requirement.approvers.every(qualifies);
}

export class ApprovalService {
  readonly #deps: ApprovalServiceDeps;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweeping: Promise<unknown> | undefined;
  constructor(deps: ApprovalServiceDeps) { this.#deps = deps; }

  /**
   * Marks requests nobody decided expired, with their event and webhook, whether or not anyone
   * polls or looks (real-time interval; expiry is judged by the clock).
   */
  start(everyMs = 1000): void {
    this.#timer ??= setInterval(() => {
      this.#sweeping ??= this.sweep()
        .catch((err: unknown) => this.#deps.onError?.('approval expiry sweep failed', err))
        .finally(() => { this.#sweeping = undefined; });
    }, everyMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }

  /** One sweep: every pending request past its expiry becomes expired, once. */
  async sweep(): Promise<number> {
    const due = await this.#deps.store.expiredPending(this.#now(), 100);
    for (const record of due) await this.#expireIfDue(record);
    return due.length;
  }

  get store(): ApprovalStore { return this.#deps.store; }

  #now(): string { return new Date(this.#deps.clock.now()).toISOString(); }

  async settings(org_id: string): Promise<ApprovalSettings> {
    return (await this.#deps.store.getApprovalSettings(org_id)) ?? defaultSettings(org_id, this.#now());
  }

  /** Refuses a new request while this agent already has too many waiting on this person. */
  async assertRoomFor(org_id: string, agent_id: string, user_id: string): Promise<void> {
    const waiting = (await this.list(org_id, { status: 'pending', user_id })).filter((r) => r.agent_id === agent_id);
    if (waiting.length >= MAX_PENDING_PER_AGENT_AND_USER) {
      throw new WritError('invalid_request', `this agent already has ${waiting.length} approval requests waiting on this user; wait for a decision`);
    }
  }

  /** Records a request the agent made and tells the approvers (audit, webhook). */
  async request(input: NewApproval): Promise<ApprovalRecord> {
    const now = this.#deps.clock.now();
    const id = newId('apr', now);
    const record: ApprovalRecord = {
      id, org_id: input.org_id, request_ref: requestRef(input.auth_req_id),
      request_sealed: this.#deps.sealer.seal(input.auth_req_id, sealAad({ org_id: input.org_id, id })),
      status: 'pending', agent_id: input.agent_id, chain: input.chain, user_id: input.user_id, grant_id: input.grant_id,
      held: input.held, details: input.details, audience: input.audience,
      ...(input.dpop_jkt ? { dpop_jkt: input.dpop_jkt } : {}),
      ...(input.binding_message ? { binding_message: input.binding_message } : {}),
      requirement: input.requirement,
      created_at: new Date(now).toISOString(), expires_at: new Date(now + input.expires_in * 1000).toISOString(),
    };
    await this.#deps.store.createApproval(input.org_id, record);
    await this.#record('approval.requested', record, { kind: 'agent', agent_id: record.agent_id, chain: record.chain }, {
      expires_at: record.expires_at, binding_message: record.binding_message, rules: record.requirement.rules,
      approvers: record.requirement.approvers, resources: record.details[0]?.resources, arguments: argumentsOf(record),
    });
    return record;
  }

  /**
   * The request if it is this org's, as it stands now: one past its expiry reads as expired. A
   * read changes nothing (pages answer GET with it); the sweep, a poll or a decision records it.
   */
  async get(org_id: string, id: string): Promise<ApprovalRecord | undefined> {
    const record = await this.#deps.store.getApproval(org_id, id);
    return record && this.#asOfNow(record);
  }

  /** Requests of an org (or of the user they are about), newest first, as they stand now. */
  async list(org_id: string, filter: { status?: ApprovalRecord['status']; user_id?: string } = {}): Promise<ApprovalRecord[]> {
    const records = await this.#deps.store.listApprovals(org_id, filter.user_id ? { user_id: filter.user_id } : {});
    const current = records.map((r) => this.#asOfNow(r));
    return filter.status ? current.filter((r) => r.status === filter.status) : current;
  }

  #asOfNow(record: ApprovalRecord): ApprovalRecord {
    return record.status === 'pending' && Date.parse(record.expires_at) <= this.#deps.clock.now() ? { ...record, status: 'expired' } : record;
  }

  /** Pending requests this user may decide (their own, an admin's, a group member's). */
  async pendingFor(user: UserRecord): Promise<ApprovalRecord[]> {
    const settings = await this.settings(user.org_id);
    return (await this.list(user.org_id, { status: 'pending' })).filter((r) => mayApprove(r, user, settings));
  }

  /**
   * A person's decision. `approver` is the user who decides (on the page), or on whose behalf the
   * admin API decides; either must qualify under the policy's approvers.
   */
  async decide(org_id: string, id: string, approver: UserRecord, decider: ApprovalDecider, decision: 'approve' | 'deny', reason?: string): Promise<ApprovalRecord> {
    const stored = await this.#deps.store.getApproval(org_id, id);
    if (!stored) throw new WritError('not_found', 'no such approval request');
    const record = await this.#expireIfDue(stored);
    const settings = await this.settings(org_id);
    if (decider.kind === 'admin_api' && !settings.allow_admin_api_approval) {
      throw new WritError('forbidden', 'this org does not allow approval through the admin API (approval settings: allow_admin_api_approval)');
    }
    if (!mayApprove(record, approver, settings)) throw new WritError('forbidden', 'this user may not decide this request');
    if (record.status !== 'pending') throw new WritError('conflict', `the request is already ${record.status}`);
    if (decision === 'approve' && this.#deps.grants) {
      const grant = await this.#deps.grants.getGrant(org_id, record.grant_id);
      const ended = !grant || grant.revoked_at !== undefined || (grant.expires_at !== undefined && Date.parse(grant.expires_at) <= this.#deps.clock.now());
      if (ended) throw new WritError('conflict', 'the delegation behind this request has ended: there is nothing left to approve');
    }
    const next: ApprovalRecord = {
      ...record, status: decision === 'approve' ? 'approved' : 'denied', decided_at: this.#now(), decided_by: decider,
      ...(decision === 'deny' ? { reason: (reason ?? 'denied by the approver').slice(0, 200) } : {}),
    };
    if (!(await this.#deps.store.transitionApproval(org_id, id, 'pending', next))) {
      throw new WritError('conflict', 'the request was decided or expired meanwhile');
    }
    await this.#record(decision === 'approve' ? 'approval.approved' : 'approval.denied', next,
      decider.kind === 'user' ? { kind: 'user', user_id: decider.user_id } : { kind: 'admin', on_behalf_of: decider.on_behalf_of },
      { approver: approver.id, via: decider.kind === 'user' ? 'page' : 'admin_api', ...(next.reason ? { reason: next.reason } : {}) });
    await this.#notify(next);
    return next;
  }

  /**
   * Ends every request still waiting on a user who is disabled or deleted: each one pending is
   * denied with `reason` (one compare-and-set, so a decision landing meanwhile wins), on the
   * record as `approval.denied` by the system with the lifecycle's cause, and the agent is told.
   * Its next poll answers access_denied. Returns how many this call ended.
   */
  async endForUser(org_id: string, user_id: string, reason: string, cause: string): Promise<number> {
    let ended = 0;
    for (const stored of await this.#deps.store.listApprovals(org_id, { user_id })) {
      if (stored.user_id !== user_id || stored.status !== 'pending') continue;
      const record = await this.#expireIfDue(stored);
      if (record.status !== 'pending') continue;
      const next: ApprovalRecord = { ...record, status: 'denied', decided_at: this.#now(), reason };
      if (!(await this.#deps.store.transitionApproval(org_id, record.id, 'pending', next))) continue;
      await this.#record('approval.denied', next, { kind: 'system' }, { reason, cause });
      await this.#notify(next);
      ended++;
    }
    return ended;
  }

  /** One poll of the token endpoint by the agent that asked. */
  async poll(record: ApprovalRecord): Promise<PollAnswer> {
    const current = await this.#expireIfDue(record);
    if (current.status !== 'pending') {
      return current.status === 'approved' ? { state: 'approved', record: current }
        : { state: current.status === 'issued' ? 'used' : current.status, record: current };
    }
    const now = this.#deps.clock.now();
    const last = current.last_polled_at ? Date.parse(current.last_polled_at) : undefined;
    const next = { ...current, last_polled_at: new Date(now).toISOString() };
    // A decision landing between the read and this write wins: the poll just answers pending.
    await this.#deps.store.transitionApproval(current.org_id, current.id, 'pending', next);
    if (last !== undefined && now - last < POLL_INTERVAL_SECONDS * 1000) return { state: 'slow_down', record: next };
    return { state: 'pending', record: next };
  }

  /** Marks an approved request used: true for the one caller that may issue its capability. */
  async claimForIssue(record: ApprovalRecord): Promise<boolean> {
    return this.#deps.store.transitionApproval(record.org_id, record.id, 'approved', { ...record, status: 'issued' });
  }

  /** The auth_req_id, for the agent's ping. */
  authReqIdOf(record: ApprovalRecord): string {
    return this.#deps.sealer.open(record.request_sealed, sealAad(record));
  }

  async #expireIfDue(record: ApprovalRecord): Promise<ApprovalRecord> {
    if (record.status !== 'pending' || Date.parse(record.expires_at) > this.#deps.clock.now()) return record;
    const next: ApprovalRecord = { ...record, status: 'expired', decided_at: this.#now() };
    if (!(await this.#deps.store.transitionApproval(record.org_id, record.id, 'pending', next))) {
      return (await this.#deps.store.getApproval(record.org_id, record.id)) ?? record;
    }
    await this.#record('approval.expired', next, { kind: 'system' }, { expires_at: next.expires_at });
    return next;
  }

  async #notify(record: ApprovalRecord): Promise<void> {
    if (!this.#deps.notify) return;
    try {
      await this.#deps.notify(record, this.authReqIdOf(record));
    } catch (err) {
      this.#deps.onError?.('approval notification failed', err);
    }
  }

  async #record(type: 'approval.requested' | 'approval.approved' | 'approval.denied' | 'approval.expired', r: ApprovalRecord, actor: Record<string, unknown>, details: Record<string, unknown>): Promise<void> {
    await this.#deps.audit.record(r.org_id, {
      type, actor,
      subject: { user_id: r.user_id, agent_id: r.agent_id, grant_id: r.grant_id, approval_id: r.id, tool: r.details[0]?.tools[0] },
      details,
    });
    await this.#deps.webhooks.enqueue(r.org_id, r.id, type, webhookPayload(type, r, this.#now()));
  }
}

/** The arguments a request pins, field → value. */
export function argumentsOf(r: Pick<ApprovalRecord, 'details'>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r.details[0]?.constraints ?? {}).map(([k, c]) => [k, c.eq]));
}

/** What the org's webhook receives: everything an approver sees, nothing an agent could spend. */
export function webhookPayload(type: string, r: ApprovalRecord, at: string): Record<string, unknown> {
  return {
    type, at, org_id: r.org_id,
    approval: {
      id: r.id, status: r.status, user_id: r.user_id, agent_id: r.agent_id, chain: r.chain,
      tool: r.details[0]?.tools[0], resources: r.details[0]?.resources ?? [], arguments: argumentsOf(r),
      binding_message: r.binding_message, approvers: r.requirement.approvers, rules: r.requirement.rules,
      created_at: r.created_at, expires_at: r.expires_at,
      ...(r.decided_by ? { decided_by: r.decided_by, decided_at: r.decided_at } : {}),
      ...(r.reason ? { reason: r.reason } : {}),
    },
  };
}
