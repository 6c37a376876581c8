import { writCheckKind, type CheckKind, type FailedCheck } from './biscuit-checks.ts';
import { describeWasmError, isRunLimitError } from './biscuit-runtime.ts';
import { CapabilityError, type CapabilityErrorCode } from './errors.ts';

// biscuit-wasm throws plain objects; they become CapabilityErrors with a stable code, the object
// kept in `debug.biscuit` for server logs only.

export const invalidBiscuit = (description: string, cause?: unknown) =>
  new CapabilityError('invalid_token', description, cause === undefined ? undefined : { debug: { biscuit: cause } });

function failedChecks(checks: unknown): FailedCheck[] {
  if (!Array.isArray(checks)) return [];
  return checks.map((c: { Block?: { block_id?: number; check_id?: number; rule?: string }; Authorizer?: { check_id?: number; rule?: string } }) => ({
    block: c.Block?.block_id,
    check: c.Block?.check_id ?? c.Authorizer?.check_id,
    rule: String(c.Block?.rule ?? c.Authorizer?.rule ?? ''),
  }));
}

/** What the authority block says that its checks were written from. */
export interface AuthorityChecked {
  exp: number;
  aud: string;
  cnf?: { jkt: string } | undefined;
}

/**
 * Map a biscuit-wasm authorisation failure to one stable code, most fundamental first, by which of
 * Writ's checks failed (see biscuit-checks.ts). `authority` is undefined for a token that is not a
 * Writ capability; then no check counts as Writ's.
 */
export function classifyAuthorizationError(
  error: unknown,
  request: { dpopJkt?: string | undefined },
  authority?: AuthorityChecked,
): CapabilityError {
  const logic = (error as { FailedLogic?: Record<string, { checks?: unknown; policy?: unknown }> } | null)?.FailedLogic;
  if (!logic) {
    if (isRunLimitError(error)) return invalidBiscuit('authorisation exceeded its run limits', describeWasmError(error));
    return invalidBiscuit('token could not be authorised', describeWasmError(error));
  }
  const detail = logic.Unauthorized ?? logic.NoMatchingPolicy;
  const policyMatched = logic.Unauthorized !== undefined && (logic.Unauthorized.policy as { Allow?: unknown } | undefined)?.Allow !== undefined;
  const kinds = failedChecks(detail?.checks).map((check) => writCheckKind(check, authority));
  const failing = (kind: CheckKind) => kinds.includes(kind);
  const code = ((): [CapabilityErrorCode, string] => {
    if (failing('expiry')) return ['expired', 'the capability has expired'];
    if (failing('audience')) return ['invalid_token', 'the capability is not for this audience'];
    if (failing('dpop')) {
      return request.dpopJkt === undefined
        ? ['dpop_required', 'the capability is bound to a DPoP key']
        : ['invalid_dpop_proof', 'the DPoP proof is not from the bound key'];
    }
    if (!policyMatched) return ['insufficient_scope', 'the capability does not cover this tool and resource'];
    if (kinds.some((kind) => kind !== 'constraint')) return ['insufficient_scope', 'the request is outside the capability\'s checks'];
    return ['constraint_failed', 'the input is outside the capability\'s constraints'];
  })();
  return new CapabilityError(code[0], code[1], { debug: { biscuit: error } });
}
