import type { Clock } from '../core/clock.ts';
import { openAndAuthorizeBiscuit, type BiscuitRequest } from './biscuit-authorise.ts';
import { loadBiscuit } from './biscuit-runtime.ts';
import { attenuatedVariant, openBiscuit, UnknownRootKeyError, type OpenedBiscuit } from './biscuit-open.ts';
import type { BiscuitPool } from './biscuit-pool.ts';
import { DEFAULT_BISCUIT_LIMITS, readBiscuitEnvelope, type BiscuitLimits } from './envelope.ts';
import { CapabilityError } from './errors.ts';
import { jwtKeyId, verifyJwtCapability } from './jwt.ts';
import type { KeySource, RevocationSource } from './sources.ts';
import { verifiedFromClaims, verifiedFromFacts, type VerifiedCapability } from './verified.ts';

// One verification of a capability, in either format, for every party that takes one: the
// exchange (a subject token), introspection, and the verifier library (and so the executor).
// Each says which audiences it accepts; the checks and their refusals are the same for all.

/** The audiences a verifying party accepts: a fixed list, or a rule that may depend on the org. */
export type AcceptedAudiences = readonly string[] | ((aud: string, org_id: string) => boolean | Promise<boolean>);

export interface VerifyCapabilityOptions {
  /** The issuer, exactly as the tokens name it. */
  issuer: string;
  audiences: AcceptedAudiences;
  keys: KeySource;
  clock: Clock;
  /** Checked when given: each of the capability's identifiers, and its grant. */
  revocations?: RevocationSource;
  /** Largest Biscuit accepted (default DEFAULT_BISCUIT_LIMITS). */
  limits?: BiscuitLimits;
  /** Leeway for the time claims, in seconds (default 0). */
  clockToleranceSec?: number;
  /** The format the token was declared as (RFC 8693 §2.1 `subject_token_type`); another is refused. */
  format?: VerifiedCapability['format'];
  /**
   * Open Biscuits on these worker threads instead of this thread's biscuit-wasm instance (whose
   * leaked memory slows it and never comes back); nothing wasm is then kept open here.
   */
  biscuitWorkers?: Pick<BiscuitPool, 'open'>;
}

/** A capability checked for everything but time and revocation, with its Biscuit kept open for authorisation. */
export interface OpenedCapability {
  capability: VerifiedCapability;
  /** The opened Biscuit; whoever holds it frees it. */
  biscuit?: OpenedBiscuit;
  /**
   * For a Biscuit opened with a request to authorise (`openCapability`'s `authorise`), the outcome
   * of that authorisation, decided in the same evaluation that read the token's facts.
   */
  authorised?: { refusal?: Error };
}

const MAX_JWT_LENGTH = 64 * 1024;

const invalid = (description: string) => new CapabilityError('invalid_token', description);

/** A compact JWS has two dots; a Biscuit is one base64url string. Size is refused before any work. */
export function capabilityFormat(token: unknown, limits: BiscuitLimits = DEFAULT_BISCUIT_LIMITS): VerifiedCapability['format'] {
  if (typeof token !== 'string' || token.length === 0) throw invalid('malformed token');
  const format = token.includes('.') ? 'jwt' : 'biscuit';
  const max = format === 'jwt' ? MAX_JWT_LENGTH : limits.maxBytes;
  if (token.length > max) throw invalid(`the token is larger than ${max} bytes`);
  return format;
}

async function openJwt(token: string, options: VerifyCapabilityOptions): Promise<VerifiedCapability> {
  const kid = jwtKeyId(token);
  if (kid !== undefined && !options.keys.jwtKey(kid)) await options.keys.refresh?.();
  const claims = await verifyJwtCapability(token, {
    issuer: options.issuer,
    keys: (id) => options.keys.jwtKey(id),
    clock: options.clock,
    ...(options.clockToleranceSec !== undefined && { clockToleranceSec: options.clockToleranceSec }),
    // Expiry is ensureCurrent's, for both formats alike.
    skipExpiry: true,
  });
  return verifiedFromClaims(claims);
}

/**
 * A Biscuit opened (and `authorise` decided) on the verifying party's worker threads: the root key
 * is resolved and the variant budget kept here, the wasm work done there.
 */
export async function openBiscuitInWorkers(
  token: string, options: VerifyCapabilityOptions & { biscuitWorkers: Pick<BiscuitPool, 'open'> }, authorise?: BiscuitRequest,
): Promise<{ capability: VerifiedCapability; refusal?: Error }> {
  const limits = options.limits ?? DEFAULT_BISCUIT_LIMITS;
  const envelope = readBiscuitEnvelope(token, limits);
  const variant = envelope.blocks > 1 ? attenuatedVariant(token, envelope, limits) : undefined;
  let rootKey = options.keys.biscuitRootKey(envelope.rootKeyId);
  if (rootKey === undefined && (await options.keys.refresh?.())) rootKey = options.keys.biscuitRootKey(envelope.rootKeyId);
  if (rootKey === undefined) throw new UnknownRootKeyError(envelope.rootKeyId);
  const { facts, refusal } = await options.biscuitWorkers.open(token, rootKey, limits, authorise);
  variant?.accept();
  if (facts.iss !== options.issuer) throw invalid('unexpected issuer');
  return { capability: verifiedFromFacts(facts), ...(refusal && { refusal: new CapabilityError(refusal.code, refusal.description) }) };
}

async function openBiscuitCapability(token: string, options: VerifyCapabilityOptions, limits: BiscuitLimits, authorise?: BiscuitRequest): Promise<OpenedCapability> {
  if (options.biscuitWorkers) {
    const { capability, refusal } = await openBiscuitInWorkers(token, { ...options, biscuitWorkers: options.biscuitWorkers }, authorise);
    return { capability, ...(authorise && { authorised: refusal ? { refusal } : {} }) };
  }
  await loadBiscuit();
  const rootKey = (id: number | undefined) => options.keys.biscuitRootKey(id);
  const open = (): { opened: OpenedBiscuit; refusal?: Error } =>
    authorise ? openAndAuthorizeBiscuit(token, rootKey, authorise, { limits }) : { opened: openBiscuit(token, rootKey, { limits }) };
  let result: ReturnType<typeof open>;
  try {
    result = open();
  } catch (error) {
    if (!(error instanceof UnknownRootKeyError) || !(await options.keys.refresh?.())) throw error;
    result = open();
  }
  const { opened } = result;
  if (opened.facts.iss !== options.issuer) {
    opened.biscuit.free();
    throw invalid('unexpected issuer');
  }
  return {
    capability: verifiedFromFacts(opened.facts),
    biscuit: opened,
    ...(authorise && { authorised: result.refusal ? { refusal: result.refusal } : {} }),
  };
}

/** RFC 7519 §4.1.3: a token whose audience is not one the recipient accepts is rejected. */
async function checkAudience(capability: VerifiedCapability, audiences: AcceptedAudiences): Promise<void> {
  const accepted = typeof audiences === 'function' ? await audiences(capability.aud, capability.org_id) : audiences.includes(capability.aud);
  if (!accepted) throw invalid('unexpected audience');
}

/**
 * Format, size, signature against the issuer's keys, issuer and audience: everything that never
 * changes. `authorise`, when given, is a request a Biscuit is authorised for in the same evaluation
 * that reads its facts (its outcome in `authorised`; a JWT ignores it).
 */
export async function openCapability(token: string, options: VerifyCapabilityOptions, authorise?: BiscuitRequest): Promise<OpenedCapability> {
  const limits = options.limits ?? DEFAULT_BISCUIT_LIMITS;
  const format = capabilityFormat(token, limits);
  if (options.format !== undefined && options.format !== format) throw invalid(`the token is not a ${options.format === 'jwt' ? 'JWT' : 'Biscuit'}`);
  const opened = format === 'jwt' ? { capability: await openJwt(token, options) } : await openBiscuitCapability(token, options, limits, authorise);
  try {
    await checkAudience(opened.capability, options.audiences);
  } catch (error) {
    opened.biscuit?.biscuit.free();
    throw error;
  }
  return opened;
}

async function anyRevoked(capability: VerifiedCapability, source: RevocationSource): Promise<boolean> {
  const answers = [
    source.isRevoked('jti', capability.jti),
    source.isRevoked('auth_event_id', capability.auth_event_id),
    ...capability.revocation_ids.map((id) => source.isRevoked('biscuit_revocation_id', id)),
  ];
  return (await Promise.all(answers)).some(Boolean);
}

/** What changes with time: expiry (RFC 7519 §4.1.4), then revocation when a source is given. */
export async function ensureCurrent(
  capability: VerifiedCapability,
  options: Pick<VerifyCapabilityOptions, 'clock' | 'clockToleranceSec' | 'revocations'>,
): Promise<void> {
  if (capability.exp * 1000 <= options.clock.now() - (options.clockToleranceSec ?? 0) * 1000) {
    throw new CapabilityError('expired', 'the capability has expired');
  }
  if (options.revocations && (await anyRevoked(capability, options.revocations))) {
    throw new CapabilityError('revoked', 'the capability has been revoked');
  }
}

/** Verify a capability of either format: the one verification every consumer shares. */
export async function verifyCapability(token: string, options: VerifyCapabilityOptions): Promise<VerifiedCapability> {
  const { capability, biscuit } = await openCapability(token, options);
  biscuit?.biscuit.free();
  await ensureCurrent(capability, options);
  return capability;
}
