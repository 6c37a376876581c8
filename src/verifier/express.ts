import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { VerifiedCapability, Verifier } from './verifier.ts';
import { inputOfBody, refusalHeaders, verifyRequest, type CapabilityRequirement, type VerifyRequestOptions } from './http.ts';

// Express 5 middleware. Express is imported as a type only: a service that does not use it never
// loads it (`writ/verifier/express`, with express as an optional peer dependency).

export interface ExpressCapabilityOptions extends VerifyRequestOptions {
  /** What a request must be allowed to do, fixed or read from the request. */
  require: CapabilityRequirement | ((req: Request) => CapabilityRequirement | Promise<CapabilityRequirement>);
}

/** The request's absolute URL, as a DPoP proof names it (RFC 9449 §4.3, `htu`). */
const absoluteUrl = (req: Request) => `${req.protocol}://${req.get('host')}${req.originalUrl}`;

/**
 * Refuse the request unless it carries a capability for the requirement. On success the verified
 * capability is at `res.locals.capability`. A fixed requirement without `input` takes it from
 * `req.body.input` when a body parser ran.
 */
export function requireCapability(verifier: Verifier, options: ExpressCapabilityOptions): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const { require } = options;
    const verdict = await verifyRequest(verifier, { method: req.method, url: absoluteUrl(req), headers: req.headers },
      typeof require === 'function' ? () => require(req) : () => ({ input: inputOfBody(req.body), ...require }), options);
    if (!verdict.ok) {
      res.status(verdict.status).set(refusalHeaders(verdict)).json(verdict.body);
      return;
    }
    res.locals.capability = verdict.capability;
    next();
  };
}

/** The capability `requireCapability` verified for this response. */
export function capabilityOf(res: Response): VerifiedCapability {
  const capability = res.locals.capability as VerifiedCapability | undefined;
  if (!capability) throw new Error('no capability: requireCapability did not run for this route');
  return capability;
}
