import { actorFromChain, openBiscuit } from '../capability/index.ts';
import type { Clock } from '../core/clock.ts';
import type { ToolAccessDetail } from '../core/rights.ts';
import type { CapabilityStore } from '../storage/ports/capabilities.ts';
import type { GrantStore } from '../storage/ports/grants.ts';
import { grantStandsFor } from '../revocation/standing.ts';
import { checkBiscuitAudience, verifyCapabilityJwt, type AudienceCheck, type CapabilityKeys } from './subject.ts';

export interface CapabilityIntrospectionDeps {
  issuer: string;
  clock: Clock;
  keys: CapabilityKeys;
  capabilities: CapabilityStore;
  grants: GrantStore;
  /** The audiences this server issues capabilities to (see exchange/subject.ts). */
  isAudience: AudienceCheck;
}

/**
 * RFC 7662 for capabilities: active only if the signature, expiry, the capability's own record
 * and its grant all still stand, and only to a caller of the same org. Anything else is
 * `{ active: false }` with no reason, as §2.2 asks.
 */
export async function introspectCapability(deps: CapabilityIntrospectionDeps, token: string, callerOrg: string): Promise<Record<string, unknown> | undefined> {
  const now = deps.clock.now();
  let claims: { org_id: string; jti: string; auth_event_id: string; exp: number } & Record<string, unknown>;
  try {
    if (token.includes('.')) {
      const c = await verifyCapabilityJwt(token, deps);
      claims = { ...c, token_type: 'Bearer', format: 'jwt' } as typeof claims;
    } else {
      const opened = openBiscuit(token, (kid) => deps.keys.biscuitRootKeyById(kid)?.publicKey);
      const f = opened.facts;
      opened.biscuit.free();
      if (f.exp * 1000 <= now) return undefined;
      await checkBiscuitAudience(f, deps);
      const act = actorFromChain(f.actor_chain);
      claims = {
        iss: f.iss, aud: f.aud, sub: f.sub, principal: f.principal, org_id: f.org_id, client_id: f.client_id,
        ...(act ? { act } : {}), authorization_details: f.authorization_details, auth_event_id: f.auth_event_id, jti: f.jti,
        ...(f.parent_jti ? { parent_jti: f.parent_jti } : {}), ...(f.cnf ? { cnf: f.cnf } : {}), iat: f.iat, exp: f.exp,
        format: 'biscuit', attenuated: f.revocation_ids.length > 1,
      };
    }
  } catch {
    return undefined;
  }
  if (claims.org_id !== callerOrg) return undefined;
  const record = await deps.capabilities.getCapability(claims.org_id, claims.jti);
  if (!record || record.revoked_at || (record.single_use && record.spent_at)) return undefined;
  const grant = await deps.grants.getGrant(claims.org_id, claims.auth_event_id);
  if (!grantStandsFor(grant, claims.authorization_details as ToolAccessDetail[], now)) return undefined;
  return { active: true, ...claims };
}
