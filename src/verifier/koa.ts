import type { Verifier } from './verifier.ts';
import { inputOfBody, refusalHeaders, verifyRequest, type VerifyRequestOptions } from './http.ts';

// A Koa middleware written against the few context members it uses, so the verifier library
// does not depend on Koa. Built on `verifyRequest`, as the Express, Fastify and Hono ones are.

/** The members of a Koa context this middleware touches. */
export interface CapabilityContext {
  method: string;
  href: string;
  get(field: string): string;
  set(field: string, value: string): void;
  status: number;
  body: unknown;
  state: Record<string, unknown>;
  /** A body parser, if any, leaves the parsed body at `request.body`. */
  request: object;
}

export interface RequireCapabilityOptions<C extends CapabilityContext> extends VerifyRequestOptions {
  tool: string | ((ctx: C) => string);
  resource?: string | ((ctx: C) => string | undefined);
  /** The tool input to check constraints against; defaults to `ctx.request.body.input`. */
  input?: (ctx: C) => Record<string, unknown> | undefined;
}

/**
 * Refuse the request unless it carries a capability for `tool` (and `resource`). On success the
 * verified capability is at `ctx.state.capability`.
 */
export function requireCapability<C extends CapabilityContext>(verifier: Verifier, options: RequireCapabilityOptions<C>) {
  return async (ctx: C, next: () => Promise<unknown>): Promise<void> => {
    const verdict = await verifyRequest(verifier, {
      method: ctx.method,
      url: ctx.href,
      headers: { authorization: ctx.get('authorization'), dpop: ctx.get('dpop') || undefined },
    }, () => {
      const resource = typeof options.resource === 'function' ? options.resource(ctx) : options.resource;
      return {
        tool: typeof options.tool === 'function' ? options.tool(ctx) : options.tool,
        resource,
        input: options.input ? options.input(ctx) : inputOfBody((ctx.request as { body?: unknown }).body),
      };
    }, options);
    if (!verdict.ok) {
      ctx.status = verdict.status;
      for (const [name, value] of Object.entries(refusalHeaders(verdict))) ctx.set(name, value);
      ctx.body = verdict.body;
      return;
    }
    ctx.state.capability = verdict.capability;
    await next();
  };
}
