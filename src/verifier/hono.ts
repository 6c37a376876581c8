import type { Context, MiddlewareHandler } from 'hono';
import type { VerifiedCapability, Verifier } from './verifier.ts';
import { refusalHeaders, verifyRequest, type CapabilityRequirement, type VerifyRequestOptions } from './http.ts';

// Hono 4 middleware. Hono is imported as a type only: a service that does not use it never loads
// it (`writ/verifier/hono`, with hono as an optional peer dependency).

/** The context variable the verified capability is set under. */
export interface CapabilityVariables { capability: VerifiedCapability }

export interface HonoCapabilityOptions extends VerifyRequestOptions {
  /**
   * What a request must be allowed to do, fixed or read from the context. Hono reads bodies
   * asynchronously, so constraints on a body's input need a function (`await c.req.json()`).
   */
  require: CapabilityRequirement | ((c: Context) => CapabilityRequirement | Promise<CapabilityRequirement>);
}

/**
 * Refuse the request unless it carries a capability for the requirement. On success the verified
 * capability is `c.get('capability')`.
 */
export function requireCapability(verifier: Verifier, options: HonoCapabilityOptions): MiddlewareHandler<{ Variables: CapabilityVariables }> {
  return async (c, next) => {
    const { require } = options;
    // `c.req.url` is absolute, as a DPoP proof names it (RFC 9449 §4.3, `htu`).
    const verdict = await verifyRequest(verifier, { method: c.req.method, url: c.req.url, headers: c.req.raw.headers },
      typeof require === 'function' ? () => require(c) : require, options);
    if (!verdict.ok) return c.json(verdict.body, verdict.status, refusalHeaders(verdict));
    c.set('capability', verdict.capability);
    await next();
  };
}
