import { createHash } from 'node:crypto';
import {
  AuthorizerBuilder,
  Biscuit,
  BiscuitBuilder,
  BlockBuilder,
  KeyPair,
  PrivateKey,
  PublicKey,
  Rule,
  SignatureAlgorithm,
  type Authorizer,
} from '@biscuit-auth/biscuit-wasm';
import { systemClock, type Clock } from '../core/clock.ts';
import { globMatch, TOOL_ACCESS, type ArgumentConstraint, type ToolAccessDetail } from '../core/rights.ts';
import { requestedResource, constrainableInput, ANY_RESOURCE } from './access.ts';
import { actorChain, capabilityClaimsSchema, type CapabilityClaims } from './claims.ts';
import { addTo, datalog, join, type Datalog, type Term } from './datalog.ts';
import { BoundedMap } from './bounded-map.ts';
import { DEFAULT_BISCUIT_LIMITS, readBiscuitEnvelope, type BiscuitEnvelope, type BiscuitLimits } from './envelope.ts';
import { CapabilityError, type CapabilityErrorCode } from './errors.ts';
import type { BiscuitRootKey } from './keys.ts';

// Biscuit capabilities. The authority block states Writ's claims as facts and guards them with
// checks; verifiers add facts about the request (the "ambient" facts) and one allow policy. The
// whole vocabulary is documented in docs/capability-tokens.md; keep the two in step.

export const BISCUIT_TOKEN_TYPE = 'urn:writ:params:oauth:token-type:biscuit';

// biscuit-wasm 0.6.0 ignores the limits given to authorizeWithLimits and always applies its
// defaults (1 ms, 1,000 facts, 100 iterations). A GC pause or a cold call can push a valid token past
// 1 ms, so a timeout is retried a bounded number of times; too many facts or iterations is never
// retried, and a genuine Datalog bomb still fails within a few milliseconds.
const RUN_LIMITS = { max_facts: 1000, max_iterations: 100, max_time_micro: 1000 };
const TIMEOUT_RETRIES = 3;

const invalid = (description: string, cause?: unknown) =>
  new CapabilityError('invalid_token', description, cause === undefined ? undefined : { debug: { biscuit: cause } });

/** Anything biscuit-wasm throws is a plain object (or a RuntimeError after a panic); describe it for logs. */
function describeWasmError(error: unknown): unknown {
  if (error instanceof Error) return new Error(`${error.name}: ${error.message}`);
  return error;
}

function isRunLimitTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { RunLimit?: unknown }).RunLimit === 'Timeout';
}

/** Run a wasm evaluation, retrying only the spurious 1 ms timeout. */
function withTimeoutRetry<T>(run: () => T): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return run();
    } catch (error) {
      if (!isRunLimitTimeout(error) || attempt >= TIMEOUT_RETRIES) throw error;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Keys

const HEX_KEY = /^[0-9a-f]{64}$/;

/**
 * A Biscuit public key object from 64 hex characters. biscuit-wasm takes ownership of a key handed
 * to it by a key provider, so a fresh object is made for every use.
 */
function publicKeyFromHex(hex: string): PublicKey {
  if (!HEX_KEY.test(hex)) throw new TypeError('a Biscuit public key is 32 bytes of lowercase hex');
  return PublicKey.fromBytes(Buffer.from(hex, 'hex'), SignatureAlgorithm.Ed25519);
}

// A key nobody holds the private half of. biscuit-wasm panics (and is left unusable) when a key
// provider returns nothing or throws, so an unknown root key id is answered with this one and
// fails the signature check instead.
const UNKNOWN_ROOT_KEY = (() => {
  const key = new KeyPair(SignatureAlgorithm.Ed25519).getPublicKey();
  const bytes = new Uint8Array(32);
  key.toBytes(bytes);
  key.free();
  return Buffer.from(bytes).toString('hex');
})();

/**
 * Resolve a token's root key id (undefined when the token names none) to the trusted root public
 * key, as 64 hex characters; undefined when the id is unknown.
 */
export type RootKeyResolver = (kid: number | undefined) => string | undefined;

// ---------------------------------------------------------------------------------------------
// Minting

/**
 * A resource pattern with one `*` split into the literal text before and after it. Biscuit's
 * regular expressions are not used: in biscuit-wasm 0.6.0 each `.matches()` evaluation costs over a
 * millisecond and leaks wasm memory. Patterns with more than one `*` have no exact prefix/suffix
 * form: the verifier matches those itself (see `verifierCode`).
 */
export function globParts(pattern: string): { prefix: string; suffix: string } {
  const star = pattern.indexOf('*');
  if (star < 0 || pattern.indexOf('*', star + 1) >= 0) {
    throw new TypeError('a Biscuit resource pattern in an attenuation has exactly one "*" (or is "*" alone)');
  }
  return { prefix: pattern.slice(0, star), suffix: pattern.slice(star + 1) };
}

const starCount = (pattern: string): number => pattern.split('*').length - 1;

/** A pattern with two or more `*`: Datalog cannot match it exactly, so the verifier does. */
const isMultiStar = (pattern: string): boolean => starCount(pattern) >= 2;

/** Conditions on `$r` that hold exactly when it matches a one-star pattern. */
function globConditions(pattern: string): Datalog {
  const { prefix, suffix } = globParts(pattern);
  // The length bound stops prefix and suffix from overlapping ("ab*ba" must not match "aba").
  return datalog`$r.starts_with(${prefix}), $r.ends_with(${suffix}), $r.length() >= ${prefix.length + suffix.length}`;
}

function sameTypeSet(values: ReadonlyArray<string | number>): ReadonlySet<string> | ReadonlySet<number> {
  if (values.every((v) => typeof v === 'string')) return new Set(values as string[]);
  if (values.every((v) => typeof v === 'number' && Number.isSafeInteger(v))) return new Set(values as number[]);
  throw new TypeError('a Biscuit one_of constraint lists only strings or only integers');
}

function integerBound(value: number): number {
  if (!Number.isSafeInteger(value)) throw new TypeError('Biscuit numeric constraints take integer bounds');
  return value;
}

function typeGuard(value: string | number | boolean): Datalog {
  const type = typeof value === 'string' ? 'string' : typeof value === 'number' ? 'integer' : 'bool';
  return datalog`$v.type() == ${type}`;
}

/** The conditions on `$v` (an `input` value) that one argument constraint imposes. */
export function constraintConditions(c: ArgumentConstraint): Datalog[] {
  const conditions: Datalog[] = [];
  if (c.eq !== undefined) {
    const eq = typeof c.eq === 'number' ? integerBound(c.eq) : c.eq;
    conditions.push(typeGuard(eq), datalog`$v == ${eq}`);
  }
  if (c.one_of !== undefined) {
    const set = sameTypeSet(c.one_of);
    const sample = [...set][0] ?? '';
    conditions.push(typeGuard(sample), datalog`${set}.contains($v)`);
  }
  if (c.starts_with !== undefined) conditions.push(datalog`$v.type() == "string"`, datalog`$v.starts_with(${c.starts_with})`);
  if (c.ends_with !== undefined) conditions.push(datalog`$v.type() == "string"`, datalog`$v.ends_with(${c.ends_with})`);
  if (c.max !== undefined) conditions.push(datalog`$v.type() == "integer"`, datalog`$v <= ${integerBound(c.max)}`);
  if (c.min !== undefined) conditions.push(datalog`$v.type() == "integer"`, datalog`$v >= ${integerBound(c.min)}`);
  return conditions;
}

/** `input(key, $v)` followed by the constraint's conditions: a body that holds when the input complies. */
function constraintBody(key: string, c: ArgumentConstraint): Datalog {
  return join([datalog`input(${key}, $v)`, ...constraintConditions(c)], 'and');
}

function constraintFacts(tool: string, key: string, c: ArgumentConstraint): Datalog[] {
  const facts: Datalog[] = [];
  const op = (name: string, value: Term) => facts.push(datalog`constraint(${tool}, ${key}, ${name}, ${value});`);
  if (c.eq !== undefined) op('eq', c.eq);
  if (c.one_of !== undefined) op('one_of', sameTypeSet(c.one_of));
  if (c.starts_with !== undefined) op('starts_with', c.starts_with);
  if (c.ends_with !== undefined) op('ends_with', c.ends_with);
  if (c.max !== undefined) op('max', integerBound(c.max));
  if (c.min !== undefined) op('min', integerBound(c.min));
  return facts;
}

/** The authority block for a capability: facts, then checks. */
export function authorityBlock(claims: CapabilityClaims): Datalog {
  const parts: Datalog[] = [datalog`org(${claims.org_id});`, datalog`principal(${claims.principal});`];
  if (claims.principal === 'user') parts.push(datalog`user(${claims.sub});`);
  parts.push(datalog`client(${claims.client_id});`);
  const chain = claims.act ? actorChain(claims.act) : [claims.client_id];
  chain.forEach((agent, position) => parts.push(datalog`agent(${agent}, ${position});`));
  parts.push(
    datalog`auth_event(${claims.auth_event_id});`,
    datalog`capability(${claims.jti});`,
    datalog`issuer(${claims.iss});`,
    datalog`intended_audience(${claims.aud});`,
    datalog`issued_at(${new Date(claims.iat * 1000)});`,
    datalog`expires(${new Date(claims.exp * 1000)});`,
  );
  if (claims.parent_jti !== undefined) parts.push(datalog`parent_capability(${claims.parent_jti});`);
  if (claims.single_use) parts.push(datalog`single_use(true);`);
  if (claims.cnf) parts.push(datalog`cnf_jkt(${claims.cnf.jkt});`);

  const patterns = new Set<string>();
  for (const detail of claims.authorization_details) {
    for (const tool of detail.tools) {
      for (const pattern of detail.resources ?? [ANY_RESOURCE]) {
        parts.push(datalog`right(${tool}, ${pattern});`);
        if (pattern !== ANY_RESOURCE && starCount(pattern) === 1) patterns.add(pattern);
      }
      for (const [key, c] of Object.entries(detail.constraints ?? {})) parts.push(...constraintFacts(tool, key, c));
    }
  }
  for (const pattern of patterns) {
    const { prefix, suffix } = globParts(pattern);
    parts.push(datalog`resource_pattern(${pattern}, ${prefix}, ${suffix});`);
  }

  // Checks. Expiry and audience are checked against the verifier's ambient time and audience.
  parts.push(datalog`check if time($t), $t < ${new Date(claims.exp * 1000)};`);
  parts.push(datalog`check if audience(${claims.aud});`);
  // RFC 9449 §6: a sender-constrained capability needs a proof from the bound key.
  if (claims.cnf) parts.push(datalog`check if dpop_jkt(${claims.cnf.jkt});`);
  // Argument constraints: a request for one of the detail's tools must bring a complying input.
  for (const detail of claims.authorization_details) {
    const tools = new Set(detail.tools);
    for (const [key, c] of Object.entries(detail.constraints ?? {})) {
      parts.push(join([datalog`check if tool($t), !${tools}.contains($t) or `, constraintBody(key, c), datalog`;`], 'none'));
    }
  }
  return join(parts, 'statement');
}

export interface MintedBiscuit {
  token: string;
  /** Hex revocation ids, one per block; record them against the Grant. */
  revocation_ids: string[];
}

export function mintBiscuitCapability(claims: CapabilityClaims, rootKey: BiscuitRootKey): MintedBiscuit {
  const parsed = capabilityClaimsSchema.safeParse(claims);
  if (!parsed.success) throw new TypeError(`invalid capability claims: ${parsed.error.issues[0]?.path.join('.')}`);
  const builder = new BiscuitBuilder();
  addTo(builder, authorityBlock(claims));
  builder.setRootKeyId(rootKey.kid);
  const privateKey = PrivateKey.fromBytes(Buffer.from(rootKey.privateKey, 'hex'), SignatureAlgorithm.Ed25519);
  const token = builder.build(privateKey);
  try {
    return { token: token.toBase64(), revocation_ids: token.getRevocationIdentifiers().map(String) };
  } finally {
    token.free();
  }
}

// ---------------------------------------------------------------------------------------------
// Opening (signature) and reading the authority facts

/** What the authority block says, read once per token. */
export interface BiscuitFacts {
  iss: string;
  aud: string;
  org_id: string;
  principal: 'user' | 'org';
  /** The user id, or the org id for an org-level capability. */
  sub: string;
  client_id: string;
  /** Acting agent first, then whoever it acts for. */
  actor_chain: string[];
  auth_event_id: string;
  jti: string;
  parent_jti?: string;
  cnf?: { jkt: string };
  single_use?: boolean;
  rights: Array<{ tool: string; resource: string }>;
  authorization_details: ToolAccessDetail[];
  revocation_ids: string[];
  root_key_id: number | undefined;
  iat: number;
  exp: number;
}

/** A signature-checked token with its facts read; reusable for many authorisations. */
export interface OpenedBiscuit {
  readonly biscuit: Biscuit;
  readonly facts: BiscuitFacts;
}

export class UnknownRootKeyError extends CapabilityError {
  readonly rootKeyId: number | undefined;
  constructor(rootKeyId: number | undefined) {
    super('invalid_token', 'unknown root key id');
    this.rootKeyId = rootKeyId;
  }
}

function query(authorizer: Authorizer, source: string): unknown[][] {
  const rule = Rule.fromString(source);
  const facts = withTimeoutRetry(() => authorizer.queryWithLimits(rule, RUN_LIMITS)) as Array<{ terms(): unknown[]; free(): void }>;
  return facts.map((f) => {
    const terms = f.terms();
    f.free();
    return terms;
  });
}

const str = (v: unknown): string => {
  if (typeof v !== 'string' || v.length === 0) throw invalid('malformed capability facts');
  return v;
};
const seconds = (v: unknown): number => {
  if (!(v instanceof Date)) throw invalid('malformed capability facts');
  return Math.floor(v.getTime() / 1000);
};
const one = <T>(rows: unknown[][], read: (row: unknown[]) => T): T => {
  if (rows.length !== 1) throw invalid('malformed capability facts');
  return read(rows[0]!);
};
const optional = <T>(rows: unknown[][], read: (row: unknown[]) => T): T | undefined =>
  rows.length === 0 ? undefined : one(rows, read);

/** The facts that depend on the authority block alone (everything but the per-block revocation ids). */
type AuthorityFacts = Omit<BiscuitFacts, 'revocation_ids'>;

function readFacts(biscuit: Biscuit, rootKeyId: number | undefined): AuthorityFacts {
  const builder = new AuthorizerBuilder();
  const authorizer = builder.buildAuthenticated(biscuit);
  try {
    // Queries run in the authorizer's scope, which trusts the authority block only: facts an
    // appended block states are invisible here, as they are to the allow policy.
    const base = one(
      query(authorizer, 'q($org, $client, $event, $jti, $iss, $aud, $iat, $exp) <- org($org), client($client), auth_event($event), capability($jti), issuer($iss), intended_audience($aud), issued_at($iat), expires($exp)'),
      (r) => ({ org_id: str(r[0]), client_id: str(r[1]), auth_event_id: str(r[2]), jti: str(r[3]), iss: str(r[4]), aud: str(r[5]), iat: seconds(r[6]), exp: seconds(r[7]) }),
    );
    const principal = one(query(authorizer, 'q($p) <- principal($p)'), (r) => r[0]);
    if (principal !== 'user' && principal !== 'org') throw invalid('malformed capability facts');
    const sub = principal === 'user' ? one(query(authorizer, 'q($u) <- user($u)'), (r) => str(r[0])) : base.org_id;
    const agents = query(authorizer, 'q($a, $i) <- agent($a, $i)')
      .map((r) => ({ agent: str(r[0]), position: Number(r[1]) }))
      .sort((a, b) => a.position - b.position);
    if (agents.length === 0 || agents.some((a, i) => a.position !== i)) throw invalid('malformed capability facts');
    const rights = query(authorizer, 'q($t, $r) <- right($t, $r)').map((r) => ({ tool: str(r[0]), resource: str(r[1]) }));
    if (rights.length === 0) throw invalid('malformed capability facts');
    const parent = optional(query(authorizer, 'q($p) <- parent_capability($p)'), (r) => str(r[0]));
    const jkt = optional(query(authorizer, 'q($j) <- cnf_jkt($j)'), (r) => str(r[0]));
    const singleUse = optional(query(authorizer, 'q($s) <- single_use($s)'), (r) => r[0] === true);
    const constraints = query(authorizer, 'q($t, $k, $op, $v) <- constraint($t, $k, $op, $v)');

    const byTool = new Map<string, ToolAccessDetail>();
    for (const { tool, resource } of rights) {
      const detail = byTool.get(tool) ?? { type: TOOL_ACCESS, tools: [tool], resources: [] };
      detail.resources!.push(resource);
      byTool.set(tool, detail);
    }
    for (const detail of byTool.values()) if (detail.resources!.includes(ANY_RESOURCE)) delete detail.resources;
    for (const [tool, key, op, value] of constraints) {
      const detail = byTool.get(str(tool));
      if (!detail) continue;
      const c = ((detail.constraints ??= {})[str(key)] ??= {}) as Record<string, unknown>;
      c[str(op)] = value instanceof Set ? [...value] : typeof value === 'bigint' ? Number(value) : value;
    }

    return {
      ...base,
      principal,
      sub,
      actor_chain: agents.map((a) => a.agent),
      ...(parent !== undefined && { parent_jti: parent }),
      ...(jkt !== undefined && { cnf: { jkt } }),
      ...(singleUse && { single_use: true }),
      rights,
      authorization_details: [...byTool.values()],
      root_key_id: rootKeyId,
    };
  } finally {
    authorizer.free();
  }
}

// Attenuated variants of one token share its authority block: its facts are read once and kept,
// keyed by the root key that verified it and the authority block's signature (its revocation id),
// so each new variant pays only for its signatures and its own authorisation. The cache holds
// plain objects (no wasm memory) and is bounded in bytes.
const authorityFacts = new BoundedMap<string, AuthorityFacts>({
  maxEntries: 10_000,
  maxBytes: 8 * 1024 * 1024,
  weigh: (key, facts) => 2 * (key.length + JSON.stringify(facts).length),
});
let authorityFactsReads = 0;

/** How often authority facts were read from wasm rather than from the cache (for tests and metrics). */
export function authorityFactsStats(): { reads: number; cached: number; bytes: number } {
  return { reads: authorityFactsReads, cached: authorityFacts.size, bytes: authorityFacts.bytes };
}

// The attenuated tokens accepted so far per authority block. The envelope's authority signature
// is not verified yet when it is looked up here, so it only ever refuses early what is over the
// budget; a variant joins the set once biscuit-wasm has verified the whole chain.
const acceptedVariants = new BoundedMap<string, Set<string>>({
  maxEntries: 10_000,
  maxBytes: 16 * 1024 * 1024,
  weigh: (key, set) => 2 * key.length + set.size * 64,
});

function attenuatedVariant(token: string, envelope: BiscuitEnvelope, limits: BiscuitLimits): { accept(): void } {
  const authority = `${envelope.rootKeyId ?? '-'}:${envelope.authoritySignature}`;
  const id = createHash('sha256').update(token).digest('base64url');
  const seen = acceptedVariants.get(authority);
  const max = limits.maxVariants ?? Infinity;
  if (seen && !seen.has(id) && seen.size >= max) {
    throw new CapabilityError('invalid_token', `this capability has been attenuated into more than ${max} distinct tokens`);
  }
  return {
    accept() {
      const set = acceptedVariants.get(authority) ?? new Set<string>();
      if (set.has(id)) return;
      set.add(id);
      // Set again so the byte budget sees the new size.
      acceptedVariants.set(authority, set);
    },
  };
}

export interface OpenOptions {
  /** Defaults to DEFAULT_BISCUIT_LIMITS. */
  limits?: BiscuitLimits;
}

/**
 * Check a token against the size limits (before any parsing), then its signatures against the
 * root key its id names, and read its authority facts.
 */
export function openBiscuit(token: string, rootKey: RootKeyResolver, options: OpenOptions = {}): OpenedBiscuit {
  const limits = options.limits ?? DEFAULT_BISCUIT_LIMITS;
  const envelope = readBiscuitEnvelope(token, limits);
  const variant = envelope.blocks > 1 ? attenuatedVariant(token, envelope, limits) : undefined;
  let rootKeyId: number | undefined;
  let rootKeyHex = UNKNOWN_ROOT_KEY;
  let known = true;
  let biscuit: Biscuit;
  try {
    biscuit = Biscuit.fromBase64WithProvider(token, (kid: number | null | undefined) => {
      rootKeyId = typeof kid === 'number' ? kid : undefined;
      let hex: string | undefined;
      try {
        hex = rootKey(rootKeyId);
      } catch {
        hex = undefined;
      }
      if (hex === undefined || !HEX_KEY.test(hex)) {
        known = false;
        hex = UNKNOWN_ROOT_KEY;
      }
      rootKeyHex = hex;
      return publicKeyFromHex(hex);
    });
  } catch (error) {
    if (!known) throw new UnknownRootKeyError(rootKeyId);
    throw invalid('token signature or format is invalid', describeWasmError(error));
  }
  if (!known) {
    biscuit.free();
    throw new UnknownRootKeyError(rootKeyId);
  }
  try {
    const revocationIds = biscuit.getRevocationIdentifiers().map(String);
    // The whole chain is verified: the authority signature now names exactly one authority block.
    const key = `${rootKeyId ?? '-'}:${rootKeyHex}:${revocationIds[0]}`;
    let authority = authorityFacts.get(key);
    if (authority === undefined) {
      authorityFactsReads++;
      authority = readFacts(biscuit, rootKeyId);
      authorityFacts.set(key, authority);
    }
    variant?.accept();
    // Callers own what they are given; the cached copy stays as read.
    return { biscuit, facts: { ...structuredClone(authority), revocation_ids: revocationIds } };
  } catch (error) {
    biscuit.free();
    if (error instanceof CapabilityError) throw error;
    // A hostile block's rules run while the authority facts are read: say that the limits ended it.
    if (typeof error === 'object' && error !== null && 'RunLimit' in error) throw invalid('authorisation exceeded its run limits', describeWasmError(error));
    throw invalid('token could not be read', describeWasmError(error));
  }
}

// ---------------------------------------------------------------------------------------------
// Authorisation

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

interface FailedCheck {
  block: number | undefined;
  rule: string;
}

function failedChecks(checks: unknown): FailedCheck[] {
  if (!Array.isArray(checks)) return [];
  return checks.map((c: { Block?: { block_id?: number; rule?: string }; Authorizer?: { rule?: string } }) => ({
    block: c.Block?.block_id,
    rule: String(c.Block?.rule ?? c.Authorizer?.rule ?? ''),
  }));
}

/** Map a biscuit-wasm authorisation failure to one stable code, most fundamental first. */
export function classifyAuthorizationError(error: unknown, request: Pick<BiscuitRequest, 'dpopJkt'>): CapabilityError {
  const logic = (error as { FailedLogic?: Record<string, { checks?: unknown; policy?: unknown }> } | null)?.FailedLogic;
  if (!logic) {
    if (isRunLimitTimeout(error) || (typeof error === 'object' && error !== null && 'RunLimit' in error)) {
      return invalid('authorisation exceeded its run limits', describeWasmError(error));
    }
    return invalid('token could not be authorised', describeWasmError(error));
  }
  const detail = logic.Unauthorized ?? logic.NoMatchingPolicy;
  const policyMatched = logic.Unauthorized !== undefined && (logic.Unauthorized.policy as { Allow?: unknown } | undefined)?.Allow !== undefined;
  const checks = failedChecks(detail?.checks);
  const failing = (needle: string) => checks.some((c) => c.rule.includes(needle));
  const code = ((): [CapabilityErrorCode, string] => {
    if (failing('time(')) return ['expired', 'the capability has expired'];
    if (failing('audience(')) return ['invalid_token', 'the capability is not for this audience'];
    if (failing('dpop_jkt(')) {
      return request.dpopJkt === undefined
        ? ['dpop_required', 'the capability is bound to a DPoP key']
        : ['invalid_dpop_proof', 'the DPoP proof is not from the bound key'];
    }
    if (!policyMatched) return ['insufficient_scope', 'the capability does not cover this tool and resource'];
    if (checks.some((c) => !c.rule.includes('input('))) return ['insufficient_scope', 'the request is outside the capability\'s checks'];
    return ['constraint_failed', 'the input is outside the capability\'s constraints'];
  })();
  return new CapabilityError(code[0], code[1], { debug: { biscuit: error } });
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
    throw classifyAuthorizationError(error, request);
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

// ---------------------------------------------------------------------------------------------
// Attenuation (offline, by the holder)

export interface Attenuation {
  /** Only these tools from now on. */
  tools?: string[];
  /** Only resources matching one of these patterns from now on. */
  resources?: string[];
  /** Expire this many seconds from now (never later than the token already does). */
  expires_in?: number;
  /** Argument constraints on every request made with the attenuated token. */
  constraints?: Record<string, ArgumentConstraint>;
  clock?: Clock;
  /** The token and the attenuated token must both be within them (default DEFAULT_BISCUIT_LIMITS). */
  limits?: BiscuitLimits;
}

/** The block an attenuation appends: checks only, never facts or rules. */
export function attenuationBlock(attenuation: Attenuation): Datalog {
  const checks: Datalog[] = [];
  if (attenuation.tools !== undefined) {
    if (attenuation.tools.length === 0) throw new TypeError('tools must name at least one tool');
    checks.push(datalog`check if tool($t), ${new Set(attenuation.tools)}.contains($t);`);
  }
  if (attenuation.resources !== undefined) {
    if (attenuation.resources.length === 0) throw new TypeError('resources must name at least one pattern');
    const alternatives = attenuation.resources.map((pattern) =>
      pattern === ANY_RESOURCE
        ? datalog`resource($r)`
        : pattern.includes('*')
          ? join([datalog`resource($r)`, globConditions(pattern)], 'and')
          : datalog`resource(${pattern})`,
    );
    checks.push(join([datalog`check if `, join(alternatives, 'or'), datalog`;`], 'none'));
  }
  if (attenuation.expires_in !== undefined) {
    if (!Number.isFinite(attenuation.expires_in) || attenuation.expires_in <= 0) throw new TypeError('expires_in must be positive');
    const until = new Date((attenuation.clock ?? systemClock).now() + attenuation.expires_in * 1000);
    checks.push(datalog`check if time($t), $t < ${until};`);
  }
  for (const [key, c] of Object.entries(attenuation.constraints ?? {})) {
    checks.push(join([datalog`check if `, constraintBody(key, c), datalog`;`], 'none'));
  }
  if (checks.length === 0) throw new TypeError('an attenuation adds at least one restriction');
  return join(checks, 'statement');
}

/** Append a block that only adds checks. The root key proves the token before it is extended. */
export function attenuateBiscuit(token: string, rootPublicKey: string | RootKeyResolver, attenuation: Attenuation): string {
  const resolver: RootKeyResolver = typeof rootPublicKey === 'function' ? rootPublicKey : () => rootPublicKey;
  const code = attenuationBlock(attenuation);
  const limits = attenuation.limits ?? DEFAULT_BISCUIT_LIMITS;
  const opened = openBiscuit(token, resolver, { limits });
  try {
    // A token nobody would accept is refused here, where the holder can still act on it.
    if (opened.facts.revocation_ids.length >= limits.maxBlocks) {
      throw new CapabilityError('invalid_token', `an attenuated token would have more than ${limits.maxBlocks} blocks`);
    }
    const block = new BlockBuilder();
    addTo(block, code);
    const attenuated = opened.biscuit.appendBlock(block);
    let extended: string;
    try {
      extended = attenuated.toBase64();
    } finally {
      attenuated.free();
    }
    if (extended.length > limits.maxBytes) throw new CapabilityError('invalid_token', `an attenuated token would be larger than ${limits.maxBytes} bytes`);
    return extended;
  } catch (error) {
    if (error instanceof CapabilityError || error instanceof TypeError) throw error;
    throw invalid('token could not be attenuated', describeWasmError(error));
  } finally {
    opened.biscuit.free();
  }
}

// ---------------------------------------------------------------------------------------------
// Warm-up: the first evaluations after load are slow enough to hit the 1 ms limit; pay that here.

function warmUp(): void {
  const pair = new KeyPair(SignatureAlgorithm.Ed25519);
  const seed = new Uint8Array(32);
  pair.getPrivateKey().toBytes(seed);
  const publicKey = new Uint8Array(32);
  pair.getPublicKey().toBytes(publicKey);
  const publicHex = Buffer.from(publicKey).toString('hex');
  pair.free();
  const now = Date.now();
  const minted = mintBiscuitCapability(
    {
      iss: 'https://warm.up', aud: 'https://warm.up/rs', sub: 'usr_warm', principal: 'user', org_id: 'org_warm',
      client_id: 'agt_warm', authorization_details: [{ type: TOOL_ACCESS, tools: ['warm.up'], resources: ['w:*'], constraints: { n: { max: 1 } } }],
      scope: 'tool:warm.up', auth_event_id: 'grt_warm', jti: 'cap_warm', iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 60,
    },
    { kid: 0, privateKey: Buffer.from(seed).toString('hex'), publicKey: '' },
  );
  for (let i = 0; i < 20; i++) {
    try {
      authorizeBiscuit(minted.token, { rootKey: () => publicHex, now, tool: 'warm.up', resource: 'w:1', audience: 'https://warm.up/rs', input: { n: 1 } });
    } catch {
      // Only warming; the real calls report their own errors.
    }
  }
}
warmUp();

// ---------------------------------------------------------------------------------------------
// Any Biscuit, any authorizer: for conformance tests against the specification's samples. The
// authorizer source is trusted program text (never built from request values).

export interface RawAuthorization {
  /** Index of the matching allow policy. */
  policy: number;
  revocation_ids: string[];
}

/** The top-level class of a biscuit-wasm error (`Format`, `FailedLogic`, `Execution`, …), if any. */
export function biscuitErrorClass(error: unknown): string | undefined {
  const raw = error instanceof CapabilityError ? (error.debug?.biscuit as unknown) : error;
  if (raw && typeof raw === 'object' && !(raw instanceof Error)) return Object.keys(raw)[0];
  return undefined;
}

export function authorizeRawBiscuit(token: Uint8Array, rootPublicKey: string, authorizerSource: string): RawAuthorization {
  let biscuit: Biscuit;
  try {
    biscuit = Biscuit.fromBytes(token, publicKeyFromHex(rootPublicKey));
  } catch (error) {
    throw invalid('token signature or format is invalid', describeWasmError(error));
  }
  try {
    const revocationIds = biscuit.getRevocationIdentifiers().map(String);
    const policy = withTimeoutRetry(() => {
      const builder = new AuthorizerBuilder();
      builder.addCode(authorizerSource);
      const authorizer = builder.buildAuthenticated(biscuit);
      try {
        return authorizer.authorizeWithLimits(RUN_LIMITS);
      } finally {
        authorizer.free();
      }
    });
    return { policy, revocation_ids: revocationIds };
  } catch (error) {
    if (error instanceof CapabilityError) throw error;
    throw classifyAuthorizationError(error, {});
  } finally {
    biscuit.free();
  }
}
