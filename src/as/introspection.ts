import type { Context, Next } from 'koa';
import { introspectCapability, type CapabilityIntrospectionDeps } from '../exchange/introspect.ts';

/**
 * oidc-provider introspects its own tokens; capabilities are Writ's. After it answers
 * `active: false`, look again at the same token as a capability, for a caller of the same org.
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
