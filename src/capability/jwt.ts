import { sign, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors as jose, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../core/clock.ts';
import { capabilityClaimsSchema, type CapabilityClaims } from './claims.ts';
import { CapabilityError } from './errors.ts';

// RFC 9068 JWT access tokens, EdDSA only. Verification is jose's, held to one algorithm, our `typ`,
// keys looked up by `kid` in memory and the injected clock; the explicit checks around it keep what
// jose leaves open: canonical base64url, no `crit` at all, no key carried in the token.

export const JWT_TYP = 'at+jwt';
const MAX_TOKEN_LENGTH = 16 * 1024;
const B64URL = /^[A-Za-z0-9_-]+$/;

export interface JwtSigningKey {
  kid: string;
  privateKey: KeyObject;
}

export interface JwtVerifyOptions {
  issuer: string;
  /** The one audience accepted; leave it out only when the caller checks the signed `aud` itself. */
  audience?: string;
  /** Resolves a `kid` to a trusted Ed25519 public key; undefined for an unknown kid. */
  keys: (kid: string) => KeyObject | undefined;
  clock: Clock;
  /** Leeway for exp/nbf/iat, in seconds. Default 0. */
  clockToleranceSec?: number;
  /**
   * Leave `exp` to the caller, who checks it right after (the verifier does, so that an expired
   * but genuine capability can be attributed when it is refused). Default false.
   */
  skipExpiry?: boolean;
}

const invalid = (description: string) => new CapabilityError('invalid_token', description);

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function mintJwtCapability(claims: CapabilityClaims, key: JwtSigningKey): string {
  const parsed = capabilityClaimsSchema.safeParse(claims);
  if (!parsed.success) throw new TypeError(`invalid capability claims: ${parsed.error.issues[0]?.path.join('.')}`);
  if (key.privateKey.asymmetricKeyType !== 'ed25519' || key.privateKey.type !== 'private') {
    throw new TypeError('a JWT capability is signed with an Ed25519 private key');
  }
  const signingInput = `${encodeJson({ alg: 'EdDSA', typ: JWT_TYP, kid: key.kid })}.${encodeJson(claims)}`;
  const signature = sign(null, Buffer.from(signingInput), key.privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Decode one base64url segment, refusing padding, foreign characters and non-canonical encodings. */
function decodeSegment(segment: string): Buffer {
  if (segment.length === 0 || !B64URL.test(segment) || segment.length % 4 === 1) throw invalid('malformed token');
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) throw invalid('malformed token');
  return bytes;
}

function decodeJsonObject(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decodeSegment(segment).toString('utf8'));
  } catch (error) {
    if (error instanceof CapabilityError) throw error;
    throw invalid('malformed token');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('malformed token');
  return value as Record<string, unknown>;
}

/** The compact JWS shape (RFC 7515 §7.1) before any crypto: three canonical base64url segments. */
export function checkCompactShape(token: string): void {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalid('malformed token');
  const segments = token.split('.');
  if (segments.length !== 3) throw invalid('malformed token');
  decodeJsonObject(segments[0]!);
  decodeSegment(segments[1]!);
  decodeSegment(segments[2]!);
}

/** The `kid` a JWT claims to be signed with, or undefined when the token is not a well-formed JWS. */
export function jwtKeyId(token: string): string | undefined {
  try {
    checkCompactShape(token);
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 9068 §2.1 / RFC 8725 §3.1: one algorithm, our typ, a known key id and nothing critical. */
function checkHeader(header: Record<string, unknown>): string {
  if (header.alg !== 'EdDSA') throw invalid('unsupported algorithm');
  // RFC 9068 §4: typ is "at+jwt" (the "application/" prefix may be present).
  if (typeof header.typ !== 'string' || !/^(application\/)?at\+jwt$/i.test(header.typ)) throw invalid('not an access token');
  // RFC 7515 §4.1.11: we understand no extension, so any `crit` is fatal (jose would accept b64).
  if ('crit' in header) throw invalid('unsupported critical header');
  // RFC 8725 §3.10: keys come only from the issuer's published set, never from the token.
  for (const carried of ['jwk', 'jku', 'x5u', 'x5c']) if (carried in header) throw invalid('a capability does not carry its key');
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw invalid('missing key id');
  return header.kid;
}

/** jose's refusals, in the words the callers have always seen. */
function refusal(error: unknown): CapabilityError {
  if (error instanceof CapabilityError) return error;
  if (error instanceof jose.JWTExpired) return new CapabilityError('expired', 'the capability has expired');
  if (error instanceof jose.JWSSignatureVerificationFailed) return invalid('signature verification failed');
  if (error instanceof jose.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return invalid('unexpected issuer');
    if (error.claim === 'aud') return invalid('unexpected audience');
    if (error.claim === 'nbf') return invalid('token not valid yet');
    return invalid('malformed claims');
  }
  return invalid('malformed token');
}

export async function verifyJwtCapability(token: string, options: JwtVerifyOptions): Promise<CapabilityClaims> {
  checkCompactShape(token);
  const kid = checkHeader(decodeProtectedHeader(token) as Record<string, unknown>);
  const key = options.keys(kid);
  if (!key) throw invalid('unknown key id');
  if (key.asymmetricKeyType !== 'ed25519') throw invalid('unsupported key');
  const leeway = options.clockToleranceSec ?? 0;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ['EdDSA'],
      typ: JWT_TYP,
      issuer: options.issuer,
      // Absent: the caller decides which audiences it accepts (an org-dependent set at the exchange).
      ...(options.audience !== undefined && { audience: options.audience }),
      currentDate: new Date(options.clock.now()),
      clockTolerance: leeway,
    }));
  } catch (error) {
    // An expired but genuine capability can still be attributed when it is refused (the verifier does).
    if (!(options.skipExpiry && error instanceof jose.JWTExpired)) throw refusal(error);
    payload = error.payload;
  }
  const parsed = capabilityClaimsSchema.safeParse(payload);
  if (!parsed.success) throw invalid('malformed claims');
  const claims = parsed.data;
  // RFC 7519 §4.1.6: a token issued in the future is not valid yet (jose checks iat only for age).
  if (claims.iat > options.clock.now() / 1000 + leeway) throw invalid('token issued in the future');
  const { nbf: _nbf, ...rest } = claims;
  return rest;
}
