import type { VerifiedCapability, Verifier } from './verifier.ts';
import { VerifierError } from './errors.ts';
import { DPOP_ALGS } from './dpop.ts';

// A Koa middleware written against the few context members it uses, so the verifier library
// does not depend on Koa. RFC 6750 §3 challenges; the DPoP scheme (RFC 9449 §7.1) when bound.

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

export interface RequireCapabilityOptions<C extends CapabilityContext> {
  tool: string | ((ctx: C) => string);
  resource?: string | ((ctx: C) => string | undefined);
  /** The tool input to check constraints against; defaults to `ctx.request.body.input`. */
  input?: (ctx: C) => Record<string, unknown> | undefined;
}

const quoted = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

function defaultInput(ctx: CapabilityContext): Record<string, unknown> | undefined {
  const body = (ctx.request as { body?: unknown }).body;
  if (body && typeof body === 'object' && 'input' in body) {
    const input = (body as { input?: unknown }).input;
    if (input && typeof input === 'object' && !Array.isArray(input)) return input as Record<string, unknown>;
  }
  return undefined;
}

function challenge(ctx: CapabilityContext, error: VerifierError, scheme: 'Bearer' | 'DPoP'): void {
  const forbidden = error.code === 'insufficient_scope' || error.code === 'constraint_failed';
  const params: string[] = [];
  if (error.code === 'invalid_dpop_proof') params.push(`error=${quoted('invalid_dpop_proof')}`);
  else if (error.code === 'dpop_required') scheme = 'DPoP';
  else if (forbidden) params.push(`error=${quoted('insufficient_scope')}`);
  else if (error.code !== 'temporarily_unavailable') params.push(`error=${quoted('invalid_token')}`);
  if (params.length > 0) params.push(`error_description=${quoted(error.description)}`);
  if (scheme === 'DPoP') params.push(`algs=${quoted(DPOP_ALGS.join(' '))}`);
  ctx.status = error.code === 'temporarily_unavailable' ? 503 : forbidden ? 403 : 401;
  ctx.set('WWW-Authenticate', params.length > 0 ? `${scheme} ${params.join(', ')}` : scheme);
  ctx.set('Cache-Control', 'no-store');
  ctx.body = { error: error.code, error_description: error.description };
}

/**
 * Refuse the request unless it carries a capability for `tool` (and `resource`). On success the
 * verified capability is at `ctx.state.capability`.
 */
export function requireCapability<C extends CapabilityContext>(verifier: Verifier, options: RequireCapabilityOptions<C>) {
  return async (ctx: C, next: () => Promise<unknown>): Promise<void> => {
    const authorization = ctx.get('authorization');
    const match = /^(Bearer|DPoP) +([A-Za-z0-9._~+/=-]+)$/i.exec(authorization);
    const scheme = match?.[1]?.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
    if (!match) {
      // RFC 6750 §3.1: no credentials at all gets a bare challenge.
      ctx.status = 401;
      ctx.set('WWW-Authenticate', `Bearer, DPoP algs=${quoted(DPOP_ALGS.join(' '))}`);
      ctx.body = { error: 'invalid_token', error_description: 'a capability is required' };
      return;
    }
    const proof = ctx.get('dpop');
    let capability: VerifiedCapability;
    try {
      const resource = typeof options.resource === 'function' ? options.resource(ctx) : options.resource;
      const input = options.input ? options.input(ctx) : defaultInput(ctx);
      capability = await verifier.verify(match[2]!, {
        tool: typeof options.tool === 'function' ? options.tool(ctx) : options.tool,
        ...(resource !== undefined && { resource }),
        ...(input !== undefined && { input }),
        // RFC 9449 §7.1: a proof counts only with the DPoP scheme.
        ...(scheme === 'DPoP' && proof && { dpop: { proof, method: ctx.method, url: ctx.href } }),
      });
    } catch (error) {
      if (error instanceof VerifierError) return challenge(ctx, error, scheme);
      throw error;
    }
    ctx.state.capability = capability;
    await next();
  };
}
