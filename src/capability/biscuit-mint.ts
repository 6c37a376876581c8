import type { ArgumentConstraint } from '../rights/rights.ts';
import { ANY_RESOURCE } from './access.ts';
import { authorityConstraintChecks, globParts, integerBound, leadingAuthorityChecks, sameTypeSet } from './biscuit-checks.ts';
import { biscuitWasm } from './biscuit-runtime.ts';
import { actorChain, capabilityClaimsSchema, type CapabilityClaims } from './claims.ts';
import { addStatements, datalog, join, type Datalog, type Term } from './datalog.ts';
import type { BiscuitRootKey } from './keys.ts';

// Minting a Biscuit capability. The authority block states Writ's claims as facts and guards them
// with checks; the whole vocabulary is documented in docs/capability-tokens.md; keep the two in step.

export const BISCUIT_TOKEN_TYPE = 'urn:writ:params:oauth:token-type:biscuit';

const starCount = (pattern: string): number => pattern.split('*').length - 1;

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
  return join(authorityStatements(claims), 'statement');
}

/** The authority block's statements, one fact or check each, in order. */
function authorityStatements(claims: CapabilityClaims): Datalog[] {
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

  // Checks, in the order `writCheckKind` recognises them by.
  parts.push(...leadingAuthorityChecks(claims).map((check) => check.code));
  parts.push(...authorityConstraintChecks(claims.authorization_details));
  return parts;
}

export interface MintedBiscuit {
  token: string;
  /** Hex revocation ids, one per block; record them against the Grant. */
  revocation_ids: string[];
}

export function mintBiscuitCapability(claims: CapabilityClaims, rootKey: BiscuitRootKey): MintedBiscuit {
  const parsed = capabilityClaimsSchema.safeParse(claims);
  if (!parsed.success) throw new TypeError(`invalid capability claims: ${parsed.error.issues[0]?.path.join('.')}`);
  const { BiscuitBuilder, PrivateKey, SignatureAlgorithm } = biscuitWasm();
  const builder = new BiscuitBuilder();
  addStatements(builder, authorityStatements(claims));
  builder.setRootKeyId(rootKey.kid);
  const privateKey = PrivateKey.fromBytes(Buffer.from(rootKey.privateKey, 'hex'), SignatureAlgorithm.Ed25519);
  const token = builder.build(privateKey);
  try {
    return { token: token.toBase64(), revocation_ids: token.getRevocationIdentifiers().map(String) };
  } finally {
    token.free();
  }
}
