// RFC 9449 DPoP proofs: one key pair per client, a fresh proof per request.

import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

export interface DpopKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function createDpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const { kty, crv, x } = await exportJWK(publicKey);
  return { privateKey, publicJwk: { kty: kty!, crv: crv!, x: x! } };
}

export interface ProofRequest {
  /** RFC 9449 §4.2: the HTTP method and the target URI without query and fragment. */
  htm: string;
  htu: string;
  /** §4.2: when presenting a DPoP-bound access token, its SHA-256 hash. */
  accessToken?: string | undefined;
  /** §8: the server-provided nonce, when it asked for one. */
  nonce?: string | undefined;
}

export async function dpopProof(key: DpopKey, req: ProofRequest): Promise<string> {
  const url = new URL(req.htu);
  const htu = `${url.origin}${url.pathname}`;
  return new SignJWT({
    htm: req.htm.toUpperCase(),
    htu,
    jti: randomUUID(),
    ...(req.accessToken ? { ath: createHash('sha256').update(req.accessToken).digest('base64url') } : {}),
    ...(req.nonce ? { nonce: req.nonce } : {}),
  })
    .setProtectedHeader({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: key.publicJwk })
    .setIssuedAt()
    .sign(key.privateKey);
}
