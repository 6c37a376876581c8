import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { VerifiedCapability, Verifier } from './verifier.ts';
import { inputOfBody, refusalHeaders, verifyRequest, type CapabilityRequirement, type VerifyRequestOptions } from './http.ts';

// A Fastify 5 `preHandler` hook. Fastify is imported as a type only: a service that does not use
// it never loads it (`writ/verifier/fastify`, with fastify as an optional peer dependency).

export interface FastifyCapabilityOptions extends VerifyRequestOptions {
  /** What a request must be allowed to do, fixed or read from the request. */
  require: CapabilityRequirement | ((request: FastifyRequest) => CapabilityRequirement | Promise<CapabilityRequirement>);
}

/** Verified capabilities by request, so nothing is added to Fastify's request object. */
const verified = new WeakMap<FastifyRequest, VerifiedCapability>();

/**
 * A `preHandler` that refuses the request unless it carries a capability for the requirement;
 * `capabilityOf(request)` returns it in the handler. A fixed requirement without `input` takes it
 * from `request.body.input`.
 */
export function requireCapability(verifier: Verifier, options: FastifyCapabilityOptions): preHandlerAsyncHookHandler {
  return async function (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const { require } = options;
    // RFC 9449 §4.3: the proof names the absolute URL (`htu`).
    const url = `${request.protocol}://${request.host}${request.url}`;
    const verdict = await verifyRequest(verifier, { method: request.method, url, headers: request.headers },
      typeof require === 'function' ? () => require(request) : () => ({ input: inputOfBody(request.body), ...require }), options);
    if (!verdict.ok) {
      await reply.code(verdict.status).headers(refusalHeaders(verdict)).send(verdict.body);
      return;
    }
    verified.set(request, verdict.capability);
  };
}

/** The capability `requireCapability` verified for this request. */
export function capabilityOf(request: FastifyRequest): VerifiedCapability {
  const capability = verified.get(request);
  if (!capability) throw new Error('no capability: requireCapability did not run for this route');
  return capability;
}
