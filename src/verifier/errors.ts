import { CapabilityError, type CapabilityErrorCode } from '../capability/errors.ts';
import type { WritErrorOptions } from '../errors/index.ts';
import type { VerifiedCapability } from '../capability/verified.ts';

export type VerifierErrorCode = CapabilityErrorCode;

/**
 * Why a capability was refused. Switch on `code`; the message is safe to show a client and never
 * contains the token.
 */
export class VerifierError extends CapabilityError {
  declare readonly code: CapabilityErrorCode;
  /**
   * For `expired` and `revoked` only: whom the capability speaks for. Its signature, issuer and
   * audience were good, so a resource server can put the refusal on that org's record.
   */
  readonly capability: VerifiedCapability | undefined;

  constructor(code: VerifierErrorCode, description: string, options?: WritErrorOptions & { capability?: VerifiedCapability }) {
    super(code, description, options);
    this.name = 'VerifierError';
    this.capability = options?.capability;
  }

  static from(error: CapabilityError): VerifierError {
    return new VerifierError(error.code, error.description, { cause: error, debug: error.debug });
  }
}
