import type { VerifiedCapability, Verifier } from './verifier.ts';
import { VerifierError, type VerifierErrorCode } from './errors.ts';
import { DPOP_ALGS } from './dpop.ts';

// The framework-free core of every middleware: read the credentials of an HTTP request, verify
// them, and say how to refuse (RFC 6750 §3 challenges; the DPoP scheme of RFC 9449 §7.1; the
// protected resource metadata of RFC 9728 §5.1).

/** What `verifyRequest` reads from a request. `url` is absolute: DPoP proofs name it (`htu`). */
export interface HttpRequestParts {
  method: string;
  url: string;
  headers: Headers | Record<string, string | string[] | undefined>;
}

/** What the request must be allowed to do. */
export interface CapabilityRequirement {
  tool: string;
  /** Omit when the call targets no particular resource. */
  resource?: string | undefined;
  /** The tool input constraints are checked against (top-level fields). */
  input?: Record<string, unknown> | undefined;
}

export type RequirementResolver<R = HttpRequestParts> = (request: R) => CapabilityRequirement | Promise<CapabilityRequirement>;

export interface VerifyRequestOptions {
  /** RFC 9728: this resource's metadata URL, named in every challenge so a client finds its issuer. */
  resourceMetadataUrl?: string | undefined;
}

/** Why and how to refuse: the status, the `WWW-Authenticate` value and a JSON body. */
export interface CapabilityRefusal {
  ok: false;
  status: 401 | 403 | 503;
  /** `invalid_token` also stands for a request without credentials. */
  code: VerifierErrorCode;
  description: string;
  wwwAuthenticate: string;
  body: { error: VerifierErrorCode; error_description: string };
}

export type RequestVerdict = { ok: true; capability: VerifiedCapability } | CapabilityRefusal;

const quoted = (value: string) => `"${value.replace(/["\\]/g, '')}"`;

function header(headers: HttpRequestParts['headers'], name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name] ?? headers[name.toLowerCase()];
  // Node joins repeated headers into an array only for a few; more than one credential is none.
  return Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
}

function refusal(status: CapabilityRefusal['status'], code: VerifierErrorCode, description: string, wwwAuthenticate: string): CapabilityRefusal {
  return { ok: false, status, code, description, wwwAuthenticate, body: { error: code, error_description: description } };
}

/** The RFC 6750 §3 challenge for a refused capability. */
export function refusalOf(error: VerifierError, scheme: 'Bearer' | 'DPoP', requirement: CapabilityRequirement | undefined, options: VerifyRequestOptions = {}): CapabilityRefusal {
  const forbidden = error.code === 'insufficient_scope' || error.code === 'constraint_failed';
  const params: string[] = [];
  if (error.code === 'invalid_dpop_proof') params.push(`error=${quoted('invalid_dpop_proof')}`);
  else if (error.code === 'dpop_required') scheme = 'DPoP';
  else if (forbidden) params.push(`error=${quoted('insufficient_scope')}`);
  else if (error.code !== 'temporarily_unavailable') params.push(`error=${quoted('invalid_token')}`);
  if (params.length > 0) params.push(`error_description=${quoted(error.description)}`);
  // RFC 6750 §3: insufficient_scope may name the scope the request needs; Writ's is `tool:<name>`.
  if (forbidden && requirement) params.push(`scope=${quoted(`tool:${requirement.tool}`)}`);
  if (scheme === 'DPoP') params.push(`algs=${quoted(DPOP_ALGS.join(' '))}`);
  if (options.resourceMetadataUrl && error.code !== 'temporarily_unavailable') params.push(`resource_metadata=${quoted(options.resourceMetadataUrl)}`);
  const status = error.code === 'temporarily_unavailable' ? 503 : forbidden ? 403 : 401;
  return refusal(status, error.code, error.description, params.length > 0 ? `${scheme} ${params.join(', ')}` : scheme);
}

/**
 * Verify the capability an HTTP request carries (`Authorization: Bearer|DPoP`, and `DPoP` for a
 * bound one) for what `requirement` names. Never throws a `VerifierError`: a refusal comes back
 * with its status and challenge. A resolver is called only once the request carries credentials.
 */
export async function verifyRequest<R extends HttpRequestParts>(
  verifier: Verifier,
  request: R,
  requirement: CapabilityRequirement | RequirementResolver<R>,
  options: VerifyRequestOptions = {},
): Promise<RequestVerdict> {
  const match = /^(Bearer|DPoP) +([A-Za-z0-9._~+/=-]+)$/i.exec(header(request.headers, 'authorization') ?? '');
  if (!match) {
    // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
    const params = [options.resourceMetadataUrl && `resource_metadata=${quoted(options.resourceMetadataUrl)}`].filter(Boolean);
    return refusal(401, 'invalid_token', 'a capability is required',
      [`Bearer${params.length ? ` ${params.join(', ')}` : ''}`, `DPoP algs=${quoted(DPOP_ALGS.join(' '))}`].join(', '));
  }
  const scheme = match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
  const proof = header(request.headers, 'dpop');
  let wanted: CapabilityRequirement | undefined;
  try {
    wanted = typeof requirement === 'function' ? await requirement(request) : requirement;
    const capability = await verifier.verify(match[2]!, {
      tool: wanted.tool,
      ...(wanted.resource !== undefined && { resource: wanted.resource }),
      ...(wanted.input !== undefined && { input: wanted.input }),
      // RFC 9449 §7.1: a proof counts only with the DPoP scheme.
      ...(scheme === 'DPoP' && proof && { dpop: { proof, method: request.method, url: request.url } }),
    });
    return { ok: true, capability };
  } catch (error) {
    if (error instanceof VerifierError) return refusalOf(error, scheme, wanted, options);
    throw error;
  }
}

/** Headers of every refusal, in every framework: the challenge, and no caching of it. */
export function refusalHeaders(refusal: CapabilityRefusal): Record<string, string> {
  return { 'WWW-Authenticate': refusal.wwwAuthenticate, 'Cache-Control': 'no-store' };
}

/** The tool input at `body.input`, where Writ's executor and the example service carry it. */
export function inputOfBody(body: unknown): Record<string, unknown> | undefined {
  if (body && typeof body === 'object' && 'input' in body) {
    const input = (body as { input?: unknown }).input;
    if (input && typeof input === 'object' && !Array.isArray(input)) return input as Record<string, unknown>;
  }
  return undefined;
}
