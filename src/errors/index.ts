// One table of every error code Writ answers with. `error` and `error_description` are safe for
// clients; `cause` and `debug` are for the server log only and never serialised.
//
// Every error the server throws is a WritError: rooms that need `instanceof` or fields of their
// own (ToolInputError.field, EgressError.host, ...) subclass it, take their `code` from this
// table and keep a stable internal `reason` to switch on. A fault of the server's own (a config
// setting, a policy file, a sealed value) answers `server_error` with UNEXPECTED and keeps the
// detail in `message`. The CLI's CliError and the demo provider's BodyTooLarge belong too.
// The one other family is the agent SDK's WritClientError (client/errors.ts). The door table
// would let client/ import this kernel, but that error reports an answer Writ gave (or a network
// failure, a code not in this table), not an answer to give: were it a WritError, a service that
// calls Writ and catches errors at its own boundary would relay Writ's 401 as its own answer.

export const ERROR_STATUS = {
  // RFC 6749 §5.2, RFC 7009, RFC 7662, RFC 8693 §2.2.2, RFC 9396 §5, RFC 6750 §3.1
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_token_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  invalid_authorization_details: 400,
  access_denied: 403,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
  // Writ's own
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  // executor
  invalid_input: 400,
  constraint_failed: 403,
  unknown_tool: 404,
  not_connected: 409,
  auth_revoked: 409,
  rate_limited: 429,
  upstream_error: 502,
  upstream_timeout: 504,
  // verifier
  expired: 401,
  revoked: 401,
  dpop_required: 401,
  server_error: 500,
  temporarily_unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface WritErrorOptions {
  /** HTTP status override; defaults from ERROR_STATUS. */
  status?: number;
  /** Underlying error, logged server-side only. */
  cause?: unknown;
  /** Extra server-side context, logged only. Never put a secret here. */
  debug?: Record<string, unknown>;
  /** Extra fields that are safe to return to the client (e.g. `reconnect_url`). */
  expose?: Record<string, unknown>;
  /** A stable internal reason callers switch on (`private_address`, `decrypt_failed`); never serialised. */
  reason?: string;
  /** The server-side message, when it says more than the client may read (a file, a host); defaults to the description. */
  message?: string;
}

/** What a client reads when the fault is the server's own; the detail stays in `message`, for the log. */
export const UNEXPECTED = 'an unexpected error occurred';

export class WritError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly description: string;
  readonly debug: Record<string, unknown> | undefined;
  readonly expose: Record<string, unknown> | undefined;
  readonly reason: string | undefined;

  constructor(code: ErrorCode, description: string, options: WritErrorOptions = {}) {
    super(options.message ?? description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WritError';
    this.code = code;
    this.description = description;
    this.status = options.status ?? ERROR_STATUS[code];
    this.debug = options.debug;
    this.expose = options.expose;
    this.reason = options.reason;
  }

  /** The RFC 6749 §5.2 body shape. */
  toOAuthBody(): Record<string, unknown> {
    return { error: this.code, error_description: this.description, ...this.expose };
  }
}

export function isWritError(value: unknown): value is WritError {
  return value instanceof WritError;
}

/**
 * Adds client-safe fields that only the catcher knows (the executor's reconnect link) to the
 * error in flight, instead of translating it into another one.
 */
export function withExpose<E extends WritError>(error: E, expose: Record<string, unknown>): E {
  (error as { expose: Record<string, unknown> | undefined }).expose = { ...error.expose, ...expose };
  return error;
}

export const oauthError = (code: ErrorCode, description: string, options?: WritErrorOptions) =>
  new WritError(code, description, options);
