import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import { verifyPassword } from './passwords.ts';
import type { DirectoryStore, UserRecord } from '../storage/ports/directory.ts';

// Failed sign-ins per (org, username): from the 4th failure each answer is slowed, from the
// 10th the username is locked for a while. A success clears the count.
const SLOW_AFTER = 3;
const LOCK_AFTER = 10;
const LOCK_MS = 15 * 60_000;
const STEP_MS = 100;
const MAX_DELAY_MS = 1000;

export type SignInResult =
  | { ok: true; user: UserRecord }
  | { ok: false; reason: 'invalid' | 'locked' | 'sso_only'; retry_after_seconds?: number };

/**
 * How an org's users sign in: with a Writ password, through the org's identity provider (single
 * sign-on, started at `/sso/start`), or both; and the provider's logout to send them to.
 */
export interface SignInMethods {
  methods(org_id: string): Promise<{ passwords: boolean; sso: boolean }>;
  /** The provider's end-session URL for this org, returning to `after`; undefined without one. */
  endSessionUrl(org_id: string, after: string): Promise<string | undefined>;
}

const PASSWORDS_ONLY: SignInMethods = { methods: async () => ({ passwords: true, sso: false }), endSessionUrl: async () => undefined };

/** Where single sign-on starts for an org, returning to `next` (or finishing an authorization request's interaction). */
export function ssoStartUrl(org_id: string, next: string, interaction?: string): string {
  const q = new URLSearchParams({ org: org_id, next, ...(interaction ? { interaction } : {}) });
  return `/sso/start?${q}`;
}

export class SignIn {
  readonly #directory: DirectoryStore;
  readonly #audit: AuditLog;
  readonly #clock: Clock;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly methods: SignInMethods;

  constructor(directory: DirectoryStore, audit: AuditLog, clock: Clock, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)), methods: SignInMethods = PASSWORDS_ONLY) {
    this.methods = methods;
    this.#directory = directory;
    this.#audit = audit;
    this.#clock = clock;
    this.#sleep = sleep;
  }

  async attempt(org_id: string, username: string, password: string, context: { ip?: string | undefined }): Promise<SignInResult> {
    const now = this.#clock.now();
    if (!(await this.methods.methods(org_id)).passwords) {
      await this.#audit.record(org_id, { type: 'signin.failed', actor: { kind: 'anonymous' }, subject: { username }, details: { reason: 'local passwords are switched off for this organisation', ip: context.ip } });
      return { ok: false, reason: 'sso_only' };
    }
    const throttle = await this.#directory.getThrottle(org_id, username);
    if (throttle && throttle.locked_until > now) {
      return { ok: false, reason: 'locked', retry_after_seconds: Math.ceil((throttle.locked_until - now) / 1000) };
    }
    const user = await this.#directory.findUserByUsername(org_id, username);
    // verifyPassword runs the same work for unknown users, so timing does not reveal who exists.
    const valid = await verifyPassword(password, user?.password_hash);
    if (valid && user) {
      if (throttle) await this.#directory.putThrottle(org_id, username, undefined);
      await this.#audit.record(org_id, { type: 'signin.succeeded', actor: { kind: 'user', user_id: user.id }, subject: { user_id: user.id }, details: { ip: context.ip } });
      return { ok: true, user };
    }
    const failures = (throttle?.failures ?? 0) + 1;
    const locked_until = failures >= LOCK_AFTER ? now + LOCK_MS : 0;
    await this.#directory.putThrottle(org_id, username, { failures, locked_until, last_failure_at: now });
    await this.#audit.record(org_id, { type: 'signin.failed', actor: { kind: 'anonymous' }, subject: { username }, details: { failures, ip: context.ip } });
    if (locked_until) {
      await this.#audit.record(org_id, { type: 'signin.locked', actor: { kind: 'system' }, subject: { username }, details: { until: new Date(locked_until).toISOString() } });
      return { ok: false, reason: 'locked', retry_after_seconds: LOCK_MS / 1000 };
    }
    if (failures > SLOW_AFTER) await this.#sleep(Math.min(STEP_MS * (failures - SLOW_AFTER), MAX_DELAY_MS));
    return { ok: false, reason: 'invalid' };
  }
}
