import { whyNotWithin, type ToolAccessDetail } from '../core/rights.ts';
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
