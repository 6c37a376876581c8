import { createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from '../core/secrets.ts';

// Writ's own signed session cookie for people (account page, connect links), and CSRF tokens
// bound to that session or to an oidc-provider interaction. HMAC keys come from the master key.

export interface UserSession {
  org_id: string;
  user_id: string;
  /** Random per sign-in; CSRF tokens bind to it. */
  sid: string;
  /** Epoch seconds. */
  exp: number;
}

export const SESSION_COOKIE = 'writ_session';

export class SessionCodec {
  readonly #key: Buffer;
  readonly #ttlSeconds: number;

  constructor(key: Buffer, ttlSeconds = 8 * 3600) {
    this.#key = key;
    this.#ttlSeconds = ttlSeconds;
  }

  #mac(data: string): string {
    return createHmac('sha256', this.#key).update(data).digest('base64url');
  }

  issue(org_id: string, user_id: string, nowMs = Date.now()): { value: string; session: UserSession } {
    const session: UserSession = { org_id, user_id, sid: randomBytes(16).toString('base64url'), exp: Math.floor(nowMs / 1000) + this.#ttlSeconds };
    const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
    return { value: `${payload}.${this.#mac('session:' + payload)}`, session };
  }

  read(value: string | undefined, nowMs = Date.now()): UserSession | undefined {
    if (!value) return undefined;
    const [payload, mac] = value.split('.');
    if (!payload || !mac || !safeEqual(mac, this.#mac('session:' + payload))) return undefined;
    try {
      const s = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as UserSession;
      if (typeof s.exp !== 'number' || s.exp * 1000 <= nowMs) return undefined;
      if (typeof s.org_id !== 'string' || typeof s.user_id !== 'string' || typeof s.sid !== 'string') return undefined;
      return s;
    } catch {
      return undefined;
    }
  }

  /** A CSRF token for a form bound to `binding` (a session sid or an interaction uid). */
  csrf(purpose: string, binding: string): string {
    return this.#mac(`csrf:${purpose}:${binding}`);
  }

  checkCsrf(purpose: string, binding: string, token: unknown): boolean {
    return typeof token === 'string' && token.length > 0 && safeEqual(token, this.csrf(purpose, binding));
  }

  get ttlSeconds() { return this.#ttlSeconds; }
}
