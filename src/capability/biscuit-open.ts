import { createHash } from 'node:crypto';
import type { Authorizer, AuthorizerBuilder, Biscuit, Rule } from '@biscuit-auth/biscuit-wasm';
import { TOOL_ACCESS, type ToolAccessDetail } from '../rights/rights.ts';
import { ANY_RESOURCE } from './access.ts';
import { invalidBiscuit as invalid } from './biscuit-errors.ts';
import { biscuitWasm, describeWasmError, HEX_KEY, isRunLimitError, publicKeyFromHex, RUN_LIMITS, unknownRootKeyHex, withTimeoutRetry, type RootKeyResolver } from './biscuit-runtime.ts';
import { BoundedMap } from './bounded-map.ts';
import { DEFAULT_BISCUIT_LIMITS, readBiscuitEnvelope, type BiscuitEnvelope, type BiscuitLimits } from './envelope.ts';
import { CapabilityError } from './errors.ts';
import type { VerifiedCapability } from './verified.ts';

// Opening a Biscuit capability: the size limits and the variant budget before any parsing, then
// every signature against the root key its id names, then the authority block's facts, read once
// per authority block and kept.

/**
 * What the authority block says, read once per token: the fields of a verified capability as its
 * Datalog states them, with the raw `right(tool, resource)` facts the authoriser matches and the
 * root key id that verified them. `verifiedFromFacts` makes it the verified capability.
 */
export type BiscuitFacts = Omit<VerifiedCapability, 'format' | 'rights'> & {
  rights: Array<{ tool: string; resource: string }>;
  authorization_details: ToolAccessDetail[];
  root_key_id: number | undefined;
};

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

// The queries that read the authority facts, parsed once on first use (biscuit-wasm runs a query
// from a reference, so one parsed rule serves every token).
const QUERIES = {
  base: 'q($org, $client, $event, $jti, $iss, $aud, $iat, $exp) <- org($org), client($client), auth_event($event), capability($jti), issuer($iss), intended_audience($aud), issued_at($iat), expires($exp)',
  principal: 'q($p) <- principal($p)',
  user: 'q($u) <- user($u)',
  agent: 'q($a, $i) <- agent($a, $i)',
  right: 'q($t, $r) <- right($t, $r)',
  parent: 'q($p) <- parent_capability($p)',
  jkt: 'q($j) <- cnf_jkt($j)',
  singleUse: 'q($s) <- single_use($s)',
  constraint: 'q($t, $k, $op, $v) <- constraint($t, $k, $op, $v)',
} as const;
let parsedQueries: Record<keyof typeof QUERIES, Rule> | undefined;

function query(authorizer: Authorizer, name: keyof typeof QUERIES): unknown[][] {
  parsedQueries ??= Object.fromEntries(Object.entries(QUERIES).map(([key, source]) => [key, biscuitWasm().Rule.fromString(source)])) as Record<keyof typeof QUERIES, Rule>;
  const rule = parsedQueries[name];
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

function readFacts(authorizer: Authorizer, rootKeyId: number | undefined): AuthorityFacts {
  // Queries run in the authorizer's scope, which trusts the authority block (and the authorizer,
  // which states none of these predicates) only: facts an appended block states are invisible
  // here, as they are to the allow policy.
  const base = one(
    query(authorizer, 'base'),
    (r) => ({ org_id: str(r[0]), client_id: str(r[1]), auth_event_id: str(r[2]), jti: str(r[3]), iss: str(r[4]), aud: str(r[5]), iat: seconds(r[6]), exp: seconds(r[7]) }),
  );
  const principal = one(query(authorizer, 'principal'), (r) => r[0]);
  if (principal !== 'user' && principal !== 'org') throw invalid('malformed capability facts');
  const sub = principal === 'user' ? one(query(authorizer, 'user'), (r) => str(r[0])) : base.org_id;
  const agents = query(authorizer, 'agent')
    .map((r) => ({ agent: str(r[0]), position: Number(r[1]) }))
    .sort((a, b) => a.position - b.position);
  if (agents.length === 0 || agents.some((a, i) => a.position !== i)) throw invalid('malformed capability facts');
  const rights = query(authorizer, 'right').map((r) => ({ tool: str(r[0]), resource: str(r[1]) }));
  if (rights.length === 0) throw invalid('malformed capability facts');
  const parent = optional(query(authorizer, 'parent'), (r) => str(r[0]));
  const jkt = optional(query(authorizer, 'jkt'), (r) => str(r[0]));
  const singleUse = optional(query(authorizer, 'singleUse'), (r) => r[0] === true);
  const constraints = query(authorizer, 'constraint');

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

/**
 * The variant budget for a token with appended blocks: refuses early a variant over
 * `limits.maxVariants`; `accept()` once the whole chain has verified. Kept in the caller's thread
 * when tokens are opened on workers (a worker's memory ends with it).
 */
export function attenuatedVariant(token: string, envelope: BiscuitEnvelope, limits: BiscuitLimits): { accept(): void } {
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
  /**
   * An evaluation to run in the authorizer the facts are read from, so one evaluation serves both
   * (`openAndAuthorizeBiscuit`): `builder` makes the authorizer's builder, `run` gets the built
   * authorizer before the facts are read and reports its own outcome. It runs even when the facts
   * come from the cache.
   */
  evaluate?: { builder(): AuthorizerBuilder; run(authorizer: Authorizer): void };
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
  let rootKeyHex = '';
  let known = true;
  const { AuthorizerBuilder, Biscuit } = biscuitWasm();
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
        hex = unknownRootKeyHex();
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
    if (authority === undefined || options.evaluate) {
      const authorizer = (options.evaluate?.builder() ?? new AuthorizerBuilder()).buildAuthenticated(biscuit);
      try {
        options.evaluate?.run(authorizer);
        if (authority === undefined) {
          authorityFactsReads++;
          authority = readFacts(authorizer, rootKeyId);
          authorityFacts.set(key, authority);
        }
      } finally {
        authorizer.free();
      }
    }
    variant?.accept();
    // Callers own what they are given; the cached copy stays as read.
    return { biscuit, facts: { ...structuredClone(authority), revocation_ids: revocationIds } };
  } catch (error) {
    biscuit.free();
    if (error instanceof CapabilityError || error instanceof TypeError) throw error;
    // A hostile block's rules run while the authority facts are read: say that the limits ended it.
    if (isRunLimitError(error)) throw invalid('authorisation exceeded its run limits', describeWasmError(error));
    throw invalid('token could not be read', describeWasmError(error));
  }
}
