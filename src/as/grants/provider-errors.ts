import { errors } from 'oidc-provider';
import type { ErrorCode, WritError } from '../../errors/index.ts';

// A refusal from exchange/ as the oidc-provider error class of the same RFC code, so the token
// endpoint renders it, logs it and emits `grant.error` like one of its own. RFC 6749 §5.2: token
// endpoint errors answer 400, as these classes do. The client sees the WritError's description;
// the WritError itself stays the cause, for the server log only.

/**
 * invalid_grant saying why. oidc-provider's class always describes itself as "grant request is
 * invalid" and keeps the reason for its debug log; the exchange's reasons (revoked, expired,
 * another org's token) are safe for the client and the tests rely on them.
 */
class ExchangeInvalidGrant extends errors.InvalidGrant {
  constructor(description: string, cause: WritError) {
    super({ cause });
    this.error_description = description;
  }
}

/** invalid_scope without a `scope` member in the body: the description names what was refused. */
class ExchangeInvalidScope extends errors.InvalidScope {
  constructor(description: string, cause: WritError) {
    super(description, '', { cause });
    Reflect.deleteProperty(this, 'scope');
  }
}

type Describe = (description: string, cause: WritError) => Error;

const BY_CODE: Partial<Record<ErrorCode, Describe>> = {
  invalid_request: (d, cause) => new errors.InvalidRequest(d, undefined, { cause }),
  // RFC 8693 §2.2.2: the RFC 6749 §5.2 codes, plus invalid_target.
  invalid_client: (d, cause) => new errors.InvalidClient(d, { cause }),
  invalid_grant: (d, cause) => new ExchangeInvalidGrant(d, cause),
  invalid_scope: (d, cause) => new ExchangeInvalidScope(d, cause),
  unauthorized_client: (d, cause) => new errors.UnauthorizedClient(d, { cause }),
  unsupported_token_type: (d, cause) => new errors.UnsupportedTokenType(d, { cause }),
  invalid_target: (d, cause) => new errors.InvalidTarget(d, { cause }),
  // RFC 9396 §5
  invalid_authorization_details: (d, cause) => new errors.InvalidAuthorizationDetails(d, { cause }),
  access_denied: (d, cause) => new errors.AccessDenied(d, { cause }),
  // RFC 9449 §5
  invalid_dpop_proof: (d, cause) => new errors.InvalidDpopProof(d, { cause }),
  temporarily_unavailable: (d, cause) => new errors.TemporarilyUnavailable(d, { cause }),
};

/** The oidc-provider error for a refusal from the exchange; a code without a class stays a server error. */
export function providerError(err: WritError): Error {
  return BY_CODE[err.code]?.(err.description, err) ?? err;
}
