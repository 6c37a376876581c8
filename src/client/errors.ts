// Errors the SDK throws. Codes are stable strings a caller can switch on; messages carry the
// server's description, never a token.

/** The executor's error codes (`{ "error": { "code", "message" } }`). */
export type ExecutorErrorCode =
  | 'invalid_input' | 'invalid_token' | 'insufficient_scope' | 'constraint_failed' | 'unknown_tool'
  | 'not_connected' | 'auth_revoked' | 'rate_limited' | 'upstream_error' | 'upstream_timeout' | 'server_error';

export class WritClientError extends Error {
  /** `error` from the server, or a client-side code (`network_error`, `invalid_response`). */
  readonly code: string;
  /** HTTP status, when there was an answer. */
  readonly status: number | undefined;

  constructor(code: string, message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WritClientError';
    this.code = code;
    this.status = status;
  }
}

/** The token endpoint refused (RFC 6749 §5.2 / RFC 8693 §2.2.2): `invalid_grant`, `invalid_target`, … */
export class TokenExchangeError extends WritClientError {
  constructor(code: string, message: string, status: number) {
    super(code, message, status);
    this.name = 'TokenExchangeError';
  }
}

/** The executor refused or the provider failed. */
export class ExecutorError extends WritClientError {
  declare readonly code: ExecutorErrorCode;
  /** `not_connected`: where the principal connects the provider account. */
  readonly connectUrl: string | undefined;
  /** `auth_revoked`: where the owner reconnects the revoked account. */
  readonly reconnectUrl: string | undefined;
  /** `rate_limited`: seconds to wait, from `Retry-After`. */
  readonly retryAfter: number | undefined;
  /** Why a token was refused (`expired`, `revoked`, `spent`, …) when the executor says. */
  readonly reason: string | undefined;

  constructor(code: ExecutorErrorCode, message: string, status: number, extra: { connectUrl?: string | undefined; reconnectUrl?: string | undefined; retryAfter?: number | undefined; reason?: string | undefined } = {}) {
    super(code, message, status);
    this.name = 'ExecutorError';
    this.connectUrl = extra.connectUrl;
    this.reconnectUrl = extra.reconnectUrl;
    this.retryAfter = extra.retryAfter;
    this.reason = extra.reason;
  }
}
