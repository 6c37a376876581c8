import { whyNotWithin, type ToolAccessDetail } from '../rights/rights.ts';
import type { GrantRecord } from '../storage/ports/grants.ts';

/**
 * Does the grant still stand behind these rights? Not revoked, not expired, and each right still
 * covered by a detail of the grant that has not reached its own `expires_at`: a capability minted
 * before a detail ended stops with the detail, even while the grant's other details live on.
 */
export function grantStandsFor(grant: GrantRecord | undefined, rights: ToolAccessDetail[], nowMs: number): boolean {
  if (!grant || grant.revoked_at) return false;
  if (grant.expires_at && Date.parse(grant.expires_at) <= nowMs) return false;
  return whyNotWithin(rights, grant.authorization_details, nowMs) === undefined;
}

/**
 * The moment (epoch ms) the grant stops covering these rights as its details expire one by one,
 * or undefined when no expiry ends them. A capability's `exp` never passes it, so a verifier that
 * sees only the token and the feed stops with the detail too.
 */
export function grantCoversUntil(grant: GrantRecord, rights: ToolAccessDetail[], nowMs: number): number | undefined {
  const ends = [...new Set(grant.authorization_details.map((d) => d.expires_at).filter((x): x is string => !!x))]
    .map((x) => Date.parse(x)).filter((t) => t > nowMs).sort((a, b) => a - b);
  for (const end of ends) {
    if (!grantStandsFor(grant, rights, end)) return end;
  }
  return grant.expires_at ? Date.parse(grant.expires_at) : undefined;
}
