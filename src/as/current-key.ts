import { createPublicKey, sign, type KeyObject } from 'node:crypto';
import { ExternalSigningKey } from 'oidc-provider';

// oidc-provider signs the JWT access tokens of registered resource servers (third-party MCP
// servers) with a key from the keystore it was built with. Writ's EdDSA key rotates while the
// server runs (keys/manager.ts): this key stands in oidc-provider's keystore for "the key that
// signs capabilities now", so a token issued after a rotation carries the new kid and verifies
// through the published JWKS at once.

export interface CurrentKeyPair { kid: string; privateKey: KeyObject }

export class CurrentSigningKey extends ExternalSigningKey {
  readonly #current: () => CurrentKeyPair;
  /** The key whose kid was read last: oidc-provider reads the kid for the header, then signs. */
  #named: CurrentKeyPair | undefined;

  constructor(current: () => CurrentKeyPair) {
    super();
    this.#current = current;
  }

  override get alg(): string { return 'EdDSA'; }

  override set alg(_value: string | undefined) { /* always EdDSA */ }

  override get kid(): string {
    this.#named = this.#current();
    return this.#named.kid;
  }

  override set kid(_value: string | undefined) { /* the key manager names the key */ }

  override get x(): string | undefined {
    return (this.keyObject().export({ format: 'jwk' }) as { x?: string }).x;
  }

  override keyObject(): KeyObject {
    return createPublicKey(this.#current().privateKey);
  }

  override async sign(data: Uint8Array): Promise<Uint8Array> {
    return sign(null, data, (this.#named ?? this.#current()).privateKey);
  }
}

/**
 * The provider's keystore: the RS256 keys as they are (OpenID Connect ID tokens), and in place of
 * the EdDSA keys Writ started with, the one that follows the key manager.
 */
export function providerKeystore(jwks: { keys: Array<Record<string, unknown>> }, current: () => CurrentKeyPair): { keys: unknown[] } {
  return { keys: [...jwks.keys.filter((k) => k.alg !== 'EdDSA'), new CurrentSigningKey(current)] };
}
