import type { ToolAccessDetail } from '../rights/rights.ts';
import type { BiscuitFacts } from './biscuit-open.ts';
import { actorChain, type CapabilityClaims } from './claims.ts';

/**
 * A capability whose signature, issuer and audience were checked: what every consumer receives —
 * the exchange for a subject token, introspection, the verifier library and so the executor —
 * whichever format it came in. `CapabilityClaims` stays the wire shape of a JWT (its fields say
 * what each claim means); this is the shape after verification, the same for both formats.
 */
export interface VerifiedCapability extends Pick<
  CapabilityClaims,
  'iss' | 'aud' | 'sub' | 'principal' | 'org_id' | 'client_id' | 'auth_event_id' | 'jti' | 'parent_jti' | 'cnf' | 'single_use' | 'iat' | 'exp'
> {
  format: 'jwt' | 'biscuit';
  /** Acting agent first, then whoever it acts for (RFC 8693 §4.1 `act`, flattened). */
  actor_chain: string[];
  /** RFC 9396 `tool_access` details (`authorization_details`): what it allows. */
  rights: ToolAccessDetail[];
  /** Biscuit revocation ids, one per block, authority first; none for a JWT. */
  revocation_ids: string[];
}

/** A JWT's claims as the verified capability. A token without `act` is its client acting alone. */
export function verifiedFromClaims(claims: CapabilityClaims): VerifiedCapability {
  // `scope` is derived from the details, so it is not carried twice.
  const { act, authorization_details, scope: _scope, single_use, ...fields } = claims;
  return {
    format: 'jwt',
    ...fields,
    actor_chain: act ? actorChain(act) : [claims.client_id],
    rights: authorization_details,
    ...(single_use && { single_use: true }),
    revocation_ids: [],
  };
}

/** A Biscuit's authority facts as the verified capability. */
export function verifiedFromFacts(facts: BiscuitFacts): VerifiedCapability {
  // The raw right facts and the root key id are the authoriser's; the details say the same rights.
  const { rights: _rightFacts, root_key_id: _rootKeyId, authorization_details, ...fields } = facts;
  return { format: 'biscuit', ...fields, rights: authorization_details };
}
