import { AuthorizerBuilder } from '@biscuit-auth/biscuit-wasm';
import { globMatch } from '../rights/rights.ts';
import { constrainableInput, requestedResource } from './access.ts';
import { classifyAuthorizationError } from './biscuit-errors.ts';
import { openBiscuit, type OpenedBiscuit, type OpenOptions } from './biscuit-open.ts';
import { RUN_LIMITS, withTimeoutRetry, type RootKeyResolver } from './biscuit-runtime.ts';
import type { BiscuitFacts } from './biscuit-open.ts';
import { addTo, datalog, join, type Datalog } from './datalog.ts';
import { CapabilityError } from './errors.ts';

// Authorising a request against an opened Biscuit: the verifier states facts about the request
// (the "ambient" facts) and one allow policy; the token's checks must all hold.

/** A pattern with two or more `*`: Datalog cannot match it exactly, so the verifier does. */
const isMultiStar = (pattern: string): boolean => pattern.split('*').length - 1 >= 2;

export interface BiscuitRequest {
  /** Milliseconds since the epoch, or a Date. Biscuit time has second precision. */
  now: number | Date;
  tool: string;
  resource?: string;
  /** The verifier's own identifier, stated as `audience($rs)`. */
  audience: string;
  input?: Record<string, unknown>;
  /** The JWK thumbprint of a DPoP proof the caller has already validated. */
  dpopJkt?: string;
}

/**
 * The ambient facts, derivation rules and allow policy a verifier adds. `patterns` are the resource
 * patterns of the authority block's rights (`BiscuitFacts.rights`): for those with two or more
 * `*`, which Datalog cannot match exactly, the verifier states which ones the resource matches.
 */
export function verifierCode(request: BiscuitRequest, patterns: readonly string[] = []): Datalog {
  const nowMs = request.now instanceof Date ? request.now.getTime() : request.now;
  const resource = requestedResource(request.resource);
  const parts: Datalog[] = [
    datalog`time(${new Date(nowMs)});`,
    datalog`tool(${request.tool});`,
    datalog`resource(${resource});`,
    datalog`audience(${request.audience});`,
  ];
  for (const [key, value] of constrainableInput(request.input)) parts.push(datalog`input(${key}, ${value});`);
  if (request.dpopJkt !== undefined) parts.push(datalog`dpop_jkt(${request.dpopJkt});`);
  // The same glob match the JWT path uses, so both formats decide alike. A true statement about
  // two strings: it grants nothing unless the authority block holds `right($t, $p)` for the pattern.
  for (const pattern of new Set(patterns)) {
    if (isMultiStar(pattern) && globMatch(pattern, resource)) parts.push(datalog`resource_matches(${resource}, ${pattern});`);
  }
  parts.push(
    // `right(tool, "*")` covers any resource; a one-star pattern covers what starts with its
    // prefix and ends with its suffix, without the two overlapping; a many-star pattern covers
    // what the verifier found it matches.
    // These rules and the policy run in the authorizer's scope (authority block + authorizer), so a
    // `right`, `resource_pattern` or `resource_matches` fact stated by an appended block can never
    // satisfy them.
    datalog`right($t, $r) <- tool($t), resource($r), right($t, "*");`,
    datalog`right($t, $r) <- tool($t), resource($r), right($t, $p), resource_pattern($p, $prefix, $suffix), $r.starts_with($prefix), $r.ends_with($suffix), $r.length() >= $p.length() - 1;`,
    datalog`right($t, $r) <- tool($t), resource($r), right($t, $p), resource_matches($r, $p);`,
    datalog`allow if tool($t), resource($r), right($t, $r);`,
  );
  return join(parts, 'statement');
}

/** Authorise one request against an opened token. Throws a CapabilityError on refusal. */
export function authorizeOpenedBiscuit(opened: OpenedBiscuit, request: BiscuitRequest): void {
  const code = verifierCode(request, opened.facts.rights.map((r) => r.resource));
  try {
    withTimeoutRetry(() => {
      const builder = new AuthorizerBuilder();
      addTo(builder, code);
      const authorizer = builder.buildAuthenticated(opened.biscuit);
      try {
        return authorizer.authorizeWithLimits(RUN_LIMITS);
      } finally {
        authorizer.free();
      }
    });
  } catch (error) {
    if (error instanceof CapabilityError) throw error;
    if (error instanceof TypeError) throw error;
    throw classifyAuthorizationError(error, request, opened.facts);
  }
}

export interface BiscuitAuthorizeOptions extends BiscuitRequest, OpenOptions {
  rootKey: RootKeyResolver;
}

/** Open, authorise and describe a Biscuit capability in one call. */
export function authorizeBiscuit(token: string, options: BiscuitAuthorizeOptions): BiscuitFacts {
  const opened = openBiscuit(token, options.rootKey, options);
  try {
    authorizeOpenedBiscuit(opened, options);
    return opened.facts;
  } finally {
    opened.biscuit.free();
  }
}
