import { CapabilityError, type CapabilityErrorCode } from '../capability/errors.ts';
import type { WritErrorOptions } from '../errors/index.ts';

export type VerifierErrorCode = CapabilityErrorCode;

/**
 * Why a capability was refused. Switch on `code`; the message is safe to show a client and never
 * contains the token.
 */
export class VerifierError extends CapabilityError {
  declare readonly code: CapabilityErrorCode;

  constructor(code: VerifierErrorCode, description: string, options?: WritErrorOptions) {
    super(code, description, options);
    this.name = 'VerifierError';
  }

  static from(error: CapabilityError): VerifierError {
    return new VerifierError(error.code, error.description, { cause: error, debug: error.debug });
  }
}
