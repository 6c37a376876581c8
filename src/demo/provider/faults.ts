// Upstream misbehaviour on demand, so the executor's retry, timeout and normalisation paths can
// be tested against a real socket. Faults touch the notes API (/api) only; the OAuth endpoints
// keep working.
import type { OidcContext } from './oidc.ts';

export type Fault =
  | { kind: 'status'; status: 500 | 503; times?: number }
  | { kind: 'rate_limit'; retryAfterSeconds: number; times?: number }
  | { kind: 'hang'; times?: number }
  | { kind: 'close'; times?: number }
  | { kind: 'malformed_json'; times?: number }
  | { kind: 'echo_token'; times?: number }
  /** A 200 JSON answer of `bytes` bytes (default 6 MiB): for callers' response size limits. */
  | { kind: 'huge'; bytes?: number; times?: number }
  /** A redirect elsewhere: a caller that follows it would carry the credential along. */
  | { kind: 'redirect'; location: string; status?: 301 | 302 | 303 | 307 | 308; times?: number };

/**
 * Holds the active fault. `times` limits it to the next N API calls (then it clears itself);
 * without it the fault stays until `set(null)`.
 */
export class FaultSwitch {
  #fault: Fault | null = null;
  #remaining = Infinity;

  set(fault: Fault | null): void {
    if (fault && fault.times !== undefined && !(Number.isInteger(fault.times) && fault.times > 0)) {
      throw new TypeError('fault.times must be a positive integer');
    }
    if (fault?.kind === 'rate_limit' && !(Number.isInteger(fault.retryAfterSeconds) && fault.retryAfterSeconds >= 0)) {
      throw new TypeError('fault.retryAfterSeconds must be a non-negative integer');
    }
    this.#fault = fault;
    this.#remaining = fault?.times ?? Infinity;
  }

  /** The fault to apply to this call, counting it against `times`. */
  take(): Fault | null {
    const fault = this.#fault;
    if (!fault) return null;
    this.#remaining -= 1;
    if (this.#remaining <= 0) this.#fault = null;
    return fault;
  }
}

/**
 * Applies a transport-level fault and reports whether the request was consumed by it.
 * `echo_token` is not handled here: it changes a successful answer, so the API applies it.
 */
export function applyFault(ctx: OidcContext, fault: Fault): boolean {
  switch (fault.kind) {
    case 'status':
      ctx.status = fault.status;
      ctx.body = fault.status === 503
        ? { error: 'temporarily_unavailable', error_description: 'the notes service is unavailable' }
        : { error: 'server_error', error_description: 'the notes service failed' };
      return true;
    case 'rate_limit':
      ctx.status = 429;
      ctx.set('Retry-After', String(fault.retryAfterSeconds));
      ctx.body = { error: 'rate_limited', error_description: 'too many requests' };
      return true;
    case 'hang':
      // Never answer; the socket stays open until the client gives up or the server closes.
      ctx.respond = false;
      return true;
    case 'close':
      ctx.respond = false;
      ctx.req.socket.destroy();
      return true;
    case 'malformed_json':
      ctx.status = 200;
      ctx.type = 'application/json';
      ctx.body = '{"notes": [{"id": "n_';
      return true;
    case 'huge': {
      const size = fault.bytes ?? 6 * 1024 * 1024;
      ctx.status = 200;
      ctx.type = 'application/json';
      ctx.body = `{"padding":"${'x'.repeat(Math.max(0, size - 14))}"}`;
      return true;
    }
    case 'redirect':
      ctx.status = fault.status ?? 302;
      ctx.set('Location', fault.location);
      ctx.body = '';
      return true;
    case 'echo_token':
      return false;
  }
}
