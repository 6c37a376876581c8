import { sign, verify, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { capabilityClaimsSchema, type CapabilityClaims } from './claims.ts';
import { CapabilityError } from './errors.ts';

// RFC 9068 JWT access tokens, EdDSA only. Verification is a strict, hand-written compact JWS
// (RFC 7515 §7.1) parser over node:crypto with cached KeyObjects: no algorithm negotiation, no key
// from the token itself, and no general-purpose JOSE machinery on the hot path.

export const JWT_TYP = 'at+jwt';
const MAX_TOKEN_LENGTH = 16 * 1024;
const B64URL = /^[A-Za-z0-9_-]+$/;

export interface JwtSigningKey {
  kid: string;
  privateKey: KeyObject;
}

export interface JwtVerifyOptions {
  issuer: string;
  audience: string;
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

export interface CompactJws {
  header: Record<string, unknown>;
  /** The raw payload segment, decoded only after the signature checks out. */
  payloadSegment: string;
  signingInput: string;
  signature: Buffer;
}

/** Split and check the shape of a compact JWS. Nothing in the result is trusted yet. */
export function parseCompactJws(token: string): CompactJws {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalid('malformed token');
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) !== -1) throw invalid('malformed token');
  const header = decodeJsonObject(token.slice(0, first));
  const signature = decodeSegment(token.slice(second + 1));
  return { header, payloadSegment: token.slice(first + 1, second), signingInput: token.slice(0, second), signature };
}

/** The `kid` a JWT claims to be signed with, or undefined when the token is not a well-formed JWS. */
export function jwtKeyId(token: string): string | undefined {
  try {
    const { header } = parseCompactJws(token);
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 9068 §2.1 / RFC 8725 §3.1: one algorithm, our typ, a known key id and nothing critical. */
function checkHeader(header: Record<string, unknown>): string {
  if (header.alg !== 'EdDSA') throw invalid('unsupported algorithm');
  // RFC 9068 §4: typ is "at+jwt" (the "application/" prefix may be present).
  if (typeof header.typ !== 'string' || !/^(application\/)?at\+jwt$/i.test(header.typ)) throw invalid('not an access token');
  // RFC 7515 §4.1.11: we understand no extension, so any `crit` is fatal.
  if ('crit' in header) throw invalid('unsupported critical header');
  if (typeof header.kid !== 'string' || header.kid.length === 0) throw invalid('missing key id');
  // jku, x5u, jwk and x5c are ignored on purpose: keys come only from the issuer's published set.
  return header.kid;
}

export function verifyJwtCapability(token: string, options: JwtVerifyOptions): CapabilityClaims {
  const jws = parseCompactJws(token);
  const kid = checkHeader(jws.header);
  const key = options.keys(kid);
  if (!key) throw invalid('unknown key id');
  if (key.asymmetricKeyType !== 'ed25519') throw invalid('unsupported key');
  if (jws.signature.length !== 64 || !verify(null, Buffer.from(jws.signingInput), key, jws.signature)) {
    throw invalid('signature verification failed');
  }
  const parsed = capabilityClaimsSchema.safeParse(decodeJsonObject(jws.payloadSegment));
  if (!parsed.success) throw invalid('malformed claims');
  const claims = parsed.data;
  if (claims.iss !== options.issuer) throw invalid('unexpected issuer');
  if (claims.aud !== options.audience) throw invalid('unexpected audience');
  const now = options.clock.now() / 1000;
  const leeway = options.clockToleranceSec ?? 0;
  // RFC 7519 §4.1.4/§4.1.5: exp and nbf with leeway; a token issued in the future is not valid yet.
  if (claims.nbf !== undefined && claims.nbf > now + leeway) throw invalid('token not valid yet');
  if (claims.iat > now + leeway) throw invalid('token issued in the future');
  if (!options.skipExpiry && claims.exp <= now - leeway) throw new CapabilityError('expired', 'the capability has expired');
  const { nbf: _nbf, ...rest } = claims;
  return rest;
}
