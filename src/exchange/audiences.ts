import type { DirectoryStore } from '../storage/ports/directory.ts';
import type { AudienceCheck } from './subject.ts';

/**
 * The audiences this server issues capabilities to, named exactly (RFC 8707 §2): its executor, and
 * resource servers an admin registered for every org or for this org. The exchange checks a
 * requested audience with it (RFC 8693 §2.2.2 invalid_target), and a presented capability's signed
 * audience at the exchange and at introspection.
 */
export function acceptedAudiences(directory: DirectoryStore, executorResource: string): AudienceCheck {
  return async (org_id, audience) => {
    if (audience === executorResource) return true;
    const rs = await directory.getResourceServer(audience);
    return rs !== undefined && (rs.org_id === undefined || rs.org_id === org_id);
  };
}
