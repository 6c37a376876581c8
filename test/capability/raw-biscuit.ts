import { AuthorizerBuilder, Biscuit } from '@biscuit-auth/biscuit-wasm';
import { classifyAuthorizationError, invalidBiscuit, type AuthorityChecked } from '../../src/capability/biscuit-errors.ts';
import { openBiscuit } from '../../src/capability/biscuit-open.ts';
import { describeWasmError, loadBiscuit, publicKeyFromHex, RUN_LIMITS, withTimeoutRetry } from '../../src/capability/biscuit-runtime.ts';
import { CapabilityError } from '../../src/capability/errors.ts';

// Writ's Biscuit functions reach biscuit-wasm once it is loaded.
await loadBiscuit();

// Any Biscuit, any authorizer: for conformance tests against the specification's samples, through
// Writ's run limits, timeout retries and error wrapping. The authorizer source is trusted test text.

export interface RawAuthorization {
  /** Index of the matching allow policy. */
  policy: number;
  revocation_ids: string[];
}

/** The top-level class of a biscuit-wasm error (`Format`, `FailedLogic`, `Execution`, …), if any. */
export function biscuitErrorClass(error: unknown): string | undefined {
  const raw = error instanceof CapabilityError ? (error.debug?.biscuit as unknown) : error;
  if (raw && typeof raw === 'object' && !(raw instanceof Error)) return Object.keys(raw)[0];
  return undefined;
}

// Writ's fact and iteration limits, but a generous time limit: no sample hits a run limit, and a
// conformance result must not depend on how loaded the machine is (1 ms plus retries can run out).
const CONFORMANCE_LIMITS = { ...RUN_LIMITS, max_time_micro: 5_000_000 };

/** A Writ capability's authority, so its own checks are recognised; undefined for any other Biscuit. */
function writAuthority(token: Uint8Array, rootPublicKey: string): AuthorityChecked | undefined {
  try {
    const opened = openBiscuit(Buffer.from(token).toString('base64url'), () => rootPublicKey, { limits: { maxBytes: 1 << 20, maxBlocks: 1000 } });
    opened.biscuit.free();
    return opened.facts;
  } catch {
    return undefined;
  }
}

export function authorizeRawBiscuit(token: Uint8Array, rootPublicKey: string, authorizerSource: string): RawAuthorization {
  let biscuit: Biscuit;
  try {
    biscuit = Biscuit.fromBytes(token, publicKeyFromHex(rootPublicKey));
  } catch (error) {
    throw invalidBiscuit('token signature or format is invalid', describeWasmError(error));
  }
  try {
    const revocationIds = biscuit.getRevocationIdentifiers().map(String);
    const policy = withTimeoutRetry(() => {
      const builder = new AuthorizerBuilder();
      builder.addCode(authorizerSource);
      const authorizer = builder.buildAuthenticated(biscuit);
      try {
        return authorizer.authorizeWithLimits(CONFORMANCE_LIMITS);
      } finally {
        authorizer.free();
      }
    });
    return { policy, revocation_ids: revocationIds };
  } catch (error) {
    if (error instanceof CapabilityError) throw error;
    throw classifyAuthorizationError(error, {}, writAuthority(token, rootPublicKey));
  } finally {
    biscuit.free();
  }
}
