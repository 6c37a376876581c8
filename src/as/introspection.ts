import type { Context, Next } from 'koa';
import { actorFromChain, scopeFor, type VerifiedCapability } from '../capability/index.ts';
import type { CapabilityStore } from '../storage/ports/capabilities.ts';
import type { GrantStore } from '../storage/ports/grants.ts';
import { grantStandsFor } from '../revocation/standing.ts';
import { verifyOwnCapability, type CapabilityCheckDeps } from '../exchange/subject.ts';

// RFC 7662 token introspection for Writ's capabilities. oidc-provider introspects its own tokens;
// capabilities are verified here the way the exchange and the executor verify them.

export interface CapabilityIntrospectionDeps extends CapabilityCheckDeps {
  capabilities: CapabilityStore;
  grants: GrantStore;
}

/** RFC 7662 §2.2 members, with the capability's own claims in their JWT spelling. */
function introspectionMembers(capability: VerifiedCapability): Record<string, unknown> {
  const act = actorFromChain(capability.actor_chain);
  return {
    iss: capability.iss, aud: capability.aud, sub: capability.sub, principal: capability.principal,
    org_id: capability.org_id, client_id: capability.client_id, ...(act && { act }),
    authorization_details: capability.rights, scope: scopeFor(capability.rights),
    auth_event_id: capability.auth_event_id, jti: capability.jti,
    ...(capability.parent_jti !== undefined && { parent_jti: capability.parent_jti }),
    ...(capability.cnf && { cnf: capability.cnf }), ...(capability.single_use && { single_use: true }),
    iat: capability.iat, exp: capability.exp, format: capability.format,
    ...(capability.format === 'jwt' ? { token_type: 'Bearer' } : { attenuated: capability.revocation_ids.length > 1 }),
  };
}

/**
 * Active only if the capability verifies, its own record and its grant still stand, and the
 * caller is of the same org. Anything else is `{ active: false }` with no reason (RFC 7662 §2.2).
 */
export async function introspectCapability(deps: CapabilityIntrospectionDeps, token: string, callerOrg: string): Promise<Record<string, unknown> | undefined> {
  let capability: VerifiedCapability;
  try {
    capability = await verifyOwnCapability(token, deps);
  } catch {
    return undefined;
  }
  if (capability.org_id !== callerOrg) return undefined;
  const record = await deps.capabilities.getCapability(capability.org_id, capability.jti);
  if (!record || record.revoked_at || (record.single_use && record.spent_at)) return undefined;
  const grant = await deps.grants.getGrant(capability.org_id, capability.auth_event_id);
  if (!grantStandsFor(grant, capability.rights, deps.clock.now())) return undefined;
  return { active: true, ...introspectionMembers(capability) };
}

/**
 * After oidc-provider answers `active: false` for a token it does not know, look again at the same
 * token as a capability, for a caller of the same org.
 */
export function capabilityIntrospection(deps: CapabilityIntrospectionDeps) {
  return async (ctx: Context, next: Next) => {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== '/introspect') return;
    const body = ctx.body as { active?: boolean; error?: string } | undefined;
    // oidc-provider refuses structured tokens it did not issue as unsupported_token_type.
    const notOurs = body?.active === false || (ctx.status === 400 && body?.error === 'unsupported_token_type');
    const oidc = (ctx as unknown as { oidc?: { params?: { token?: unknown }; client?: { org_id?: string } } }).oidc;
    const token = oidc?.params?.token;
    const org = oidc?.client?.org_id;
    if (!notOurs || typeof token !== 'string' || !org) return;
    ctx.status = 200;
    ctx.body = (await introspectCapability(deps, token, org)) ?? { active: false };
  };
}
