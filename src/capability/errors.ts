import { WritError, type ErrorCode, type WritErrorOptions } from '../errors/index.ts';

/** The stable codes a capability check can fail with; callers switch on `code`. */
export type CapabilityErrorCode = Extract<
  ErrorCode,
  | 'invalid_token'
  | 'expired'
  | 'revoked'
  | 'insufficient_scope'
  | 'constraint_failed'
  | 'dpop_required'
  | 'invalid_dpop_proof'
  | 'temporarily_unavailable'
>;

/** A capability was refused. The description is safe for clients and never holds the token. */
export class CapabilityError extends WritError {
  declare readonly code: CapabilityErrorCode;

  constructor(code: CapabilityErrorCode, description: string, options?: WritErrorOptions) {
    super(code, description, options);
    this.name = 'CapabilityError';
  }
}

export function isCapabilityError(value: unknown): value is CapabilityError {
  return value instanceof CapabilityError;
}
