import type { KeyObject } from 'node:crypto';

// Where a verifying party gets the issuer's public keys and what it has revoked. A remote verifier
// reads them over HTTP (the verifier library's JWKS fetcher and feed follower); Writ's own process
// reads them from its key manager and its store.

/** The issuer's trusted public keys for both formats. */
export interface KeySource {
  /** The Ed25519 public key a JWT `kid` names; undefined for a key this source does not trust. */
  jwtKey(kid: string): KeyObject | undefined;
  /** The hex Ed25519 public key a Biscuit root key id names; undefined when unknown or absent. */
  biscuitRootKey(id: number | undefined): string | undefined;
  /**
   * Called once when a token names a key id the source does not know. Resolves true when the keys
   * may have changed, so the lookup is worth a second try. A source that is always current omits it.
   */
  refresh?(): Promise<boolean>;
}

/** The kinds of identifiers a revocation names (the revocation feed's `type`). */
export type RevocationType = 'jti' | 'biscuit_revocation_id' | 'auth_event_id';

/** What the issuer has revoked: a capability's jti, a Biscuit block's revocation id, or a grant. */
export interface RevocationSource {
  isRevoked(type: RevocationType, id: string): boolean | Promise<boolean>;
}

/** The key manager's view the exchange, introspection and the executor verify against. */
export interface IssuerKeys {
  jwtVerificationKey(kid: string): KeyObject | undefined;
  biscuitRootKeyById(kid: number): { publicKey: string } | undefined;
}

/**
 * The issuer's own keys as a KeySource: read on every lookup, so a rotation or a retirement is
 * seen at once. A Biscuit that names no root key id is not trusted, as at a remote verifier.
 */
export function keySourceOf(keys: IssuerKeys): KeySource {
  return {
    jwtKey: (kid) => keys.jwtVerificationKey(kid),
    biscuitRootKey: (id) => (id === undefined ? undefined : keys.biscuitRootKeyById(id)?.publicKey),
  };
}
