import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';

// Key material for both capability formats, with plain-string forms so the server can store them
// encrypted and load them back. Nothing here touches storage.

export interface JwtKeyPair {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The public half as it appears in the JWKS (RFC 7517 / RFC 8037). */
  publicJwk: PublicJwk;
}

export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

export interface BiscuitRootKey {
  /** Biscuit root key ids are unsigned 32-bit integers (stored in the token as `root_key_id`). */
  kid: number;
  /** 32-byte Ed25519 seed, hex. */
  privateKey: string;
  /** 32-byte Ed25519 public key, hex. */
  publicKey: string;
}

const B64URL_32 = /^[A-Za-z0-9_-]{43}$/;
const HEX_32 = /^[0-9a-f]{64}$/;

function jwtKeyPairFrom(kid: string, privateKey: KeyObject): JwtKeyPair {
  const publicKey = createPublicKey(privateKey);
  const jwk = publicKey.export({ format: 'jwk' });
  return { kid, privateKey, publicKey, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x!, kid, alg: 'EdDSA', use: 'sig' } };
}

export function generateJwtKey(kid: string): JwtKeyPair {
  if (kid.length === 0) throw new TypeError('kid must not be empty');
  return jwtKeyPairFrom(kid, generateKeyPairSync('ed25519').privateKey);
}

/** `{"kid","d","x"}` as JSON: the private JWK fields needed to rebuild the pair. */
export function serializeJwtKey(key: JwtKeyPair): string {
  const jwk = key.privateKey.export({ format: 'jwk' });
  return JSON.stringify({ kid: key.kid, kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d });
}

const storedJwtKey = z.strictObject({
  kid: z.string().min(1),
  kty: z.literal('OKP'),
  crv: z.literal('Ed25519'),
  x: z.string().regex(B64URL_32),
  d: z.string().regex(B64URL_32),
});

export function parseJwtKey(serialized: string): JwtKeyPair {
  const parsed = storedJwtKey.safeParse(JSON.parse(serialized));
  if (!parsed.success) throw new TypeError('not a serialised Ed25519 JWT key');
  const { kid, ...jwk } = parsed.data;
  const pair = jwtKeyPairFrom(kid, createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }));
  if (pair.publicJwk.x !== jwk.x) throw new TypeError('serialised key halves do not match');
  return pair;
}

/** Import one JWKS entry as a verification key; undefined for anything but a public Ed25519 key. */
export function importPublicJwk(jwk: unknown): { kid: string; key: KeyObject } | undefined {
  if (jwk === null || typeof jwk !== 'object') return undefined;
  const { kty, crv, x, kid, d, use, alg } = jwk as Record<string, unknown>;
  if (kty !== 'OKP' || crv !== 'Ed25519' || typeof x !== 'string' || !B64URL_32.test(x)) return undefined;
  if (typeof kid !== 'string' || kid.length === 0 || d !== undefined) return undefined;
  if (use !== undefined && use !== 'sig') return undefined;
  if (alg !== undefined && alg !== 'EdDSA' && alg !== 'Ed25519') return undefined;
  return { kid, key: createPublicKey({ key: { kty, crv, x }, format: 'jwk' }) };
}

export function generateBiscuitRootKey(kid: number): BiscuitRootKey {
  if (!Number.isInteger(kid) || kid < 0 || kid > 0xffffffff) throw new TypeError('a Biscuit root key id is a u32');
  const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
  return {
    kid,
    privateKey: Buffer.from(jwk.d!, 'base64url').toString('hex'),
    publicKey: Buffer.from(jwk.x!, 'base64url').toString('hex'),
  };
}

export function serializeBiscuitRootKey(key: BiscuitRootKey): string {
  return JSON.stringify({ kid: key.kid, private_key: key.privateKey, public_key: key.publicKey });
}

const storedBiscuitKey = z.strictObject({
  kid: z.number().int().min(0).max(0xffffffff),
  private_key: z.string().regex(HEX_32),
  public_key: z.string().regex(HEX_32),
});

export function parseBiscuitRootKey(serialized: string): BiscuitRootKey {
  const parsed = storedBiscuitKey.safeParse(JSON.parse(serialized));
  if (!parsed.success) throw new TypeError('not a serialised Biscuit root key');
  const derived = createPublicKey(
    createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: Buffer.from(parsed.data.private_key, 'hex').toString('base64url'),
        x: Buffer.from(parsed.data.public_key, 'hex').toString('base64url') },
      format: 'jwk',
    }),
  ).export({ format: 'jwk' });
  if (Buffer.from(derived.x!, 'base64url').toString('hex') !== parsed.data.public_key) {
    throw new TypeError('serialised key halves do not match');
  }
  return { kid: parsed.data.kid, privateKey: parsed.data.private_key, publicKey: parsed.data.public_key };
}
