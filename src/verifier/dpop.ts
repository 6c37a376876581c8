import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { Clock } from '../core/clock.ts';
import { checkCompactShape } from '../capability/jwt.ts';
import { VerifierError } from './errors.ts';
import type { ReplayStore } from './replay.ts';

// RFC 9449 DPoP proofs: a JWT signed by the holder's key over the request's method and URL, bound
// to the access token by `ath`, checked against the token's `cnf.jkt`.

export interface DpopPresentation {
  /** The `DPoP` request header. */
  proof: string;
  method: string;
  /** The full request URL; query and fragment are ignored (RFC 9449 §4.3 point 9). */
  url: string;
}

export const DPOP_ALGS = ['EdDSA', 'ES256'] as const;
const IAT_WINDOW_SEC = 60;

const bad = (description: string) => new VerifierError('invalid_dpop_proof', description);

/**
 * RFC 7638 JWK SHA-256 thumbprint over the required members in lexicographic order, synchronously,
 * for callers that bind a capability to a key (`cnf.jkt`); proofs are checked with jose's own.
 */
export function jwkThumbprint(jwk: Record<string, unknown>): string {
  let canonical: string;
  if (jwk.kty === 'OKP') canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x });
  else if (jwk.kty === 'EC') canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  else throw bad('unsupported proof key type');
  return createHash('sha256').update(canonical).digest('base64url');
}

/** RFC 9449 §4.2–4.3 points 2–7, as far as jose leaves them to us: a public key of the proof's algorithm. */
function checkProofHeader(header: Record<string, unknown>): void {
  if (header.typ !== 'dpop+jwt') throw bad('proof typ must be dpop+jwt');
  if ('crit' in header) throw bad('unsupported critical header');
  // The key is the embedded `jwk`; a proof that points elsewhere for it is refused.
  if ('jku' in header || 'x5u' in header || 'x5c' in header) throw bad('proof key must be embedded');
  const k = header.jwk;
  if (k === null || typeof k !== 'object' || Array.isArray(k)) throw bad('proof has no public key');
  const jwk = k as Record<string, unknown>;
  // §4.3 point 7: the key must be public; a private member means a leaked key.
  if ('d' in jwk) throw bad('proof key must be public');
  const ok =
    (header.alg === 'EdDSA' && jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && typeof jwk.x === 'string') ||
    (header.alg === 'ES256' && jwk.kty === 'EC' && jwk.crv === 'P-256' && typeof jwk.x === 'string' && typeof jwk.y === 'string');
  if (!ok) throw bad('unsupported proof algorithm');
}

function normalisedUrl(value: string): string {
  try {
    const url = new URL(value);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    throw bad('htu is not a URL');
  }
}

export class DpopChecker {
  readonly #clock: Clock;
  /** Seen proof `jti`s until their iat window closes (RFC 9449 §11.1). */
  readonly #replay: ReplayStore;

  constructor(clock: Clock, replay: ReplayStore) {
    this.#clock = clock;
    this.#replay = replay;
  }

  /** Check a proof presented with `accessToken`; returns the proof key's thumbprint. */
  async check(presentation: DpopPresentation, accessToken: string): Promise<string> {
    let header: Record<string, unknown>;
    try {
      checkCompactShape(presentation.proof);
      header = decodeProtectedHeader(presentation.proof) as Record<string, unknown>;
    } catch {
      throw bad('proof is not a compact JWS');
    }
    checkProofHeader(header);
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(presentation.proof, EmbeddedJWK, {
        algorithms: [...DPOP_ALGS],
        typ: 'dpop+jwt',
        currentDate: new Date(this.#clock.now()),
      }));
    } catch {
      throw bad('proof signature is invalid');
    }
    // §4.3 points 8–11: method, URL, freshness, and the hash of the token it accompanies.
    if (typeof claims.htm !== 'string' || claims.htm !== presentation.method.toUpperCase()) throw bad('htm does not match the request');
    if (typeof claims.htu !== 'string' || normalisedUrl(claims.htu) !== normalisedUrl(presentation.url)) throw bad('htu does not match the request');
    const now = this.#clock.now() / 1000;
    if (typeof claims.iat !== 'number' || Math.abs(claims.iat - now) > IAT_WINDOW_SEC) throw bad('proof is not fresh');
    const ath = createHash('sha256').update(accessToken).digest('base64url');
    if (claims.ath !== ath) throw bad('ath does not match the access token');
    if (typeof claims.jti !== 'string' || claims.jti.length === 0 || claims.jti.length > 256) throw bad('proof has no jti');

    const thumbprint = await calculateJwkThumbprint(header.jwk as JWK, 'sha256');
    // §11.1: a proof is good once, claimed only after everything else about it checked out. Key the
    // claim by key too, so holders cannot collide; keep it while the proof could still be fresh.
    const replayKey = `dpop:${thumbprint}:${claims.jti}`;
    if (!(await this.#replay.claimOnce(replayKey, new Date((claims.iat + IAT_WINDOW_SEC) * 1000)))) throw bad('proof has been used before');
    return thumbprint;
  }
}
