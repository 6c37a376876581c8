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
  /**
   * The keys whose kid oidc-provider read lately, by kid: it reads the kid for the header, then
   * signs after a few awaits, and a rotation in between must not sign under another key's kid.
   */
  readonly #named = new Map<string, CurrentKeyPair>();

  constructor(current: () => CurrentKeyPair) {
    super();
    this.#current = current;
  }

  override get alg(): string { return 'EdDSA'; }

  override set alg(_value: string | undefined) { /* always EdDSA */ }

  override get kid(): string {
    const key = this.#current();
    this.#named.delete(key.kid);
    this.#named.set(key.kid, key);
    if (this.#named.size > 4) this.#named.delete(this.#named.keys().next().value!);
    return key.kid;
  }

  override set kid(_value: string | undefined) { /* the key manager names the key */ }

  override get x(): string | undefined {
    return (this.keyObject().export({ format: 'jwk' }) as { x?: string }).x;
  }

  override keyObject(): KeyObject {
    return createPublicKey(this.#current().privateKey);
  }

  /** Signs `<header>.<payload>` with the key the header names. */
  override async sign(data: Uint8Array): Promise<Uint8Array> {
    const header = JSON.parse(Buffer.from(Buffer.from(data).toString('latin1').split('.')[0]!, 'base64url').toString('utf8')) as { kid?: unknown };
    const key = typeof header.kid === 'string' ? this.#named.get(header.kid) : undefined;
    if (!key) throw new Error('no signing key for the kid in the header');
    return sign(null, data, key.privateKey);
  }
}

/**
 * The provider's keystore: the RS256 keys as they are (OpenID Connect ID tokens), and in place of
 * the EdDSA keys Writ started with, the one that follows the key manager.
 */
export function providerKeystore(jwks: { keys: Array<Record<string, unknown>> }, current: () => CurrentKeyPair): { keys: unknown[] } {
  return { keys: [...jwks.keys.filter((k) => k.alg !== 'EdDSA'), new CurrentSigningKey(current)] };
}
