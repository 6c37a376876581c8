import type { Authorizer, AuthorizerBuilder, Fact } from '@biscuit-auth/biscuit-wasm';
import { globMatch } from '../rights/rights.ts';
import { constrainableInput, requestedResource } from './access.ts';
import { classifyAuthorizationError } from './biscuit-errors.ts';
import { openBiscuit, type OpenedBiscuit, type OpenOptions } from './biscuit-open.ts';
import { biscuitWasm, RUN_LIMITS, withTimeoutRetry, type RootKeyResolver } from './biscuit-runtime.ts';
import type { BiscuitFacts } from './biscuit-open.ts';
import { datalog, join, term, type Datalog } from './datalog.ts';
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

// `right(tool, "*")` covers any resource; a one-star pattern covers what starts with its prefix and
// ends with its suffix, without the two overlapping; a many-star pattern covers what the verifier
// found it matches. These rules and the policy run in the authorizer's scope (authority block +
// authorizer), so a `right`, `resource_pattern` or `resource_matches` fact stated by an appended
// block can never satisfy them. What they derive is `covered`, never `right`, so the authority
// block's rights can be read from the same evaluation.
const VERIFIER_RULES = [
  'covered($t, $r) <- tool($t), resource($r), right($t, $r);',
  'covered($t, $r) <- tool($t), resource($r), right($t, "*");',
  'covered($t, $r) <- tool($t), resource($r), right($t, $p), resource_pattern($p, $prefix, $suffix), $r.starts_with($prefix), $r.ends_with($suffix), $r.length() >= $p.length() - 1;',
  'covered($t, $r) <- tool($t), resource($r), right($t, $p), resource_matches($r, $p);',
  'allow if tool($t), resource($r), covered($t, $r);',
].join('\n');

/** The patterns among `patterns` that only the verifier can match, and that match `resource`. */
function matchedMultiStar(patterns: readonly string[], resource: string): string[] {
  return [...new Set(patterns)].filter((pattern) => isMultiStar(pattern) && globMatch(pattern, resource));
}

/**
 * The ambient facts, derivation rules and allow policy a verifier adds, as Datalog. `patterns` are
 * the resource patterns of the authority block's rights (`BiscuitFacts.rights`): for those with two
 * or more `*`, which Datalog cannot match exactly, the verifier states which ones the resource
 * matches. `verifierBuilder` builds the same program from parts parsed once.
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
  for (const pattern of matchedMultiStar(patterns, resource)) parts.push(datalog`resource_matches(${resource}, ${pattern});`);
  return join([...parts, { code: VERIFIER_RULES, params: {} }], 'statement');
}

// Parsed once, on first use: the rules and policy (merged into each authorizer) and one fact per
// ambient predicate whose parameters are set for each request (biscuit-wasm copies a fact when it
// is added, so the next request's values never reach an earlier authorizer).
let parsed: { rules: AuthorizerBuilder; time: Fact; tool: Fact; resource: Fact; audience: Fact; input: Fact; dpop: Fact; matches: Fact } | undefined;

function parts(): NonNullable<typeof parsed> {
  if (parsed === undefined) {
    const { AuthorizerBuilder, Fact } = biscuitWasm();
    const rules = new AuthorizerBuilder();
    rules.addCode(VERIFIER_RULES);
    parsed = {
      rules,
      time: Fact.fromString('time({v})'),
      tool: Fact.fromString('tool({v})'),
      resource: Fact.fromString('resource({v})'),
      audience: Fact.fromString('audience({v})'),
      input: Fact.fromString('input({k}, {v})'),
      dpop: Fact.fromString('dpop_jkt({v})'),
      matches: Fact.fromString('resource_matches({r}, {p})'),
    };
  }
  return parsed;
}

function add(builder: AuthorizerBuilder, fact: Fact, values: Record<string, Parameters<typeof term>[0]>): void {
  for (const [name, value] of Object.entries(values)) fact.set(name, term(value));
  builder.addFact(fact);
}

/** `verifierCode` as a builder, from the parts parsed once: no Datalog is parsed per request. */
export function verifierBuilder(request: BiscuitRequest, patterns: readonly string[] = []): AuthorizerBuilder {
  const nowMs = request.now instanceof Date ? request.now.getTime() : request.now;
  const resource = requestedResource(request.resource);
  const p = parts();
  const builder = new (biscuitWasm().AuthorizerBuilder)();
  try {
    add(builder, p.time, { v: new Date(nowMs) });
    add(builder, p.tool, { v: request.tool });
    add(builder, p.resource, { v: resource });
    add(builder, p.audience, { v: request.audience });
    for (const [key, value] of constrainableInput(request.input)) add(builder, p.input, { k: key, v: value });
    if (request.dpopJkt !== undefined) add(builder, p.dpop, { v: request.dpopJkt });
    for (const pattern of matchedMultiStar(patterns, resource)) add(builder, p.matches, { r: resource, p: pattern });
    builder.merge(p.rules);
  } catch (error) {
    builder.free();
    throw error;
  }
  return builder;
}

/** Authorise in an authorizer already built; the failure (if any) is returned, not thrown. */
function runAuthorisation(authorizer: Authorizer): { failure: unknown } | undefined {
  try {
    withTimeoutRetry(() => authorizer.authorizeWithLimits(RUN_LIMITS));
    return undefined;
  } catch (failure) {
    return { failure };
  }
}

function refusal(failure: unknown, request: BiscuitRequest, facts: BiscuitFacts): Error {
  if (failure instanceof CapabilityError || failure instanceof TypeError) return failure;
  return classifyAuthorizationError(failure, request, facts);
}

/** Authorise one request against an opened token. Throws a CapabilityError on refusal. */
export function authorizeOpenedBiscuit(opened: OpenedBiscuit, request: BiscuitRequest): void {
  const authorizer = verifierBuilder(request, opened.facts.rights.map((r) => r.resource)).buildAuthenticated(opened.biscuit);
  let outcome: { failure: unknown } | undefined;
  try {
    outcome = runAuthorisation(authorizer);
  } finally {
    authorizer.free();
  }
  if (outcome) throw refusal(outcome.failure, request, opened.facts);
}

/** An opened token, and whether the request was allowed (the refusal, when it was not). */
export interface OpenedAndAuthorised {
  opened: OpenedBiscuit;
  refusal?: Error;
}

/**
 * Open a token and authorise one request in a single evaluation: the authority facts are read from
 * the authorizer that decided the request. Nothing is thrown for a refusal, so the caller can first
 * report what it checks before authorisation (issuer, audience, expiry, revocation); whatever fails
 * to open is thrown as `openBiscuit` throws it. The caller frees `opened.biscuit`.
 */
export function openAndAuthorizeBiscuit(token: string, rootKey: RootKeyResolver, request: BiscuitRequest, options: OpenOptions = {}): OpenedAndAuthorised {
  const resource = requestedResource(request.resource);
  let outcome: { failure: unknown } | undefined;
  const opened = openBiscuit(token, rootKey, {
    ...options,
    evaluate: {
      // No patterns are known before the facts are read: a token whose many-star pattern matches
      // the resource is authorised again below with the facts that statement needs.
      builder: () => verifierBuilder(request),
      run: (authorizer) => { outcome = runAuthorisation(authorizer); },
    },
  });
  try {
    if (matchedMultiStar(opened.facts.rights.map((r) => r.resource), resource).length > 0) {
      try {
        authorizeOpenedBiscuit(opened, request);
        return { opened };
      } catch (error) {
        if (error instanceof CapabilityError) return { opened, refusal: error };
        throw error;
      }
    }
    return outcome ? { opened, refusal: refusal(outcome.failure, request, opened.facts) } : { opened };
  } catch (error) {
    opened.biscuit.free();
    throw error;
  }
}

export interface BiscuitAuthorizeOptions extends BiscuitRequest, OpenOptions {
  rootKey: RootKeyResolver;
}

/** Open, authorise and describe a Biscuit capability in one call (one evaluation). */
export function authorizeBiscuit(token: string, options: BiscuitAuthorizeOptions): BiscuitFacts {
  const { opened, refusal } = openAndAuthorizeBiscuit(token, options.rootKey, options, options);
  try {
    if (refusal) throw refusal;
    return opened.facts;
  } finally {
    opened.biscuit.free();
  }
}
