import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import {
  generateBiscuitRootKey, generateJwtKey, parseBiscuitRootKey, parseJwtKey, serializeBiscuitRootKey,
  serializeJwtKey, type BiscuitRootKey, type JwtKeyPair,
} from '../capability/keys.ts';
import type { Clock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import type { KeyStore, SigningKeyRecord } from '../storage/ports/keys.ts';

/** Seals key material with the master key; the composition root provides the vault's AEAD. */
export interface Sealer {
  seal(plaintext: string, aad: string): string;
  open(sealed: string, aad: string): string;
}

// How long a superseded key stays published: longer than anything it can have signed lives.
// Capabilities live ≤ 10 minutes, ID tokens 1 hour.
const RETIRE_AFTER_MS: Record<SigningKeyRecord['use'], number> = {
  EdDSA: 30 * 60_000,
  biscuit: 30 * 60_000,
  RS256: 2 * 3600_000,
};

interface LoadedKeys {
  eddsa: JwtKeyPair[];
  rs256: Array<{ kid: string; privateJwk: Record<string, unknown> }>;
  biscuit: BiscuitRootKey[];
}

/**
 * Writ's signing keys: generated on first start, sealed at rest with the master key, rotated
 * through the admin API. The first key of each kind signs; the others only verify until retired.
 */
export class KeyManager {
  readonly #store: KeyStore;
  readonly #sealer: Sealer;
  readonly #clock: Clock;
  #keys: LoadedKeys = { eddsa: [], rs256: [], biscuit: [] };
  /** kid → when a superseded key stops verifying and leaves the published sets (ms). */
  #retireAt = new Map<string, number>();
  #listeners: Array<() => void> = [];

  constructor(store: KeyStore, sealer: Sealer, clock: Clock) {
    this.#store = store;
    this.#sealer = sealer;
    this.#clock = clock;
  }

  /** Loads the keys, generating any kind that has none yet. */
  async init(): Promise<void> {
    const records = await this.#store.listKeys();
    for (const use of ['EdDSA', 'RS256', 'biscuit'] as const) {
      if (!records.some((r) => r.use === use)) await this.#generate(use, records);
    }
    await this.reload();
  }

  /** Re-reads keys from the store (another process may have rotated). */
  async reload(): Promise<void> {
    const now = this.#clock.now();
    const live = (await this.#store.listKeys())
      .filter((r) => !r.retire_after || Date.parse(r.retire_after) > now)
      // newest first: the current signing key leads
      .sort((a, b) => (a.superseded_at ? 1 : 0) - (b.superseded_at ? 1 : 0) || b.created_at.localeCompare(a.created_at));
    this.#retireAt = new Map(live.filter((r) => r.retire_after).map((r) => [r.kid, Date.parse(r.retire_after!)]));
    const open = (r: SigningKeyRecord) => this.#sealer.open(r.sealed_private, `writ:signing-key:${r.kid}`);
    this.#keys = {
      eddsa: live.filter((r) => r.use === 'EdDSA').map((r) => parseJwtKey(open(r))),
      rs256: live.filter((r) => r.use === 'RS256').map((r) => ({ kid: r.kid, privateJwk: JSON.parse(open(r)) as Record<string, unknown> })),
      biscuit: live.filter((r) => r.use === 'biscuit').map((r) => parseBiscuitRootKey(open(r))),
    };
    for (const listener of this.#listeners) listener();
  }

  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  async #generate(use: SigningKeyRecord['use'], existing: SigningKeyRecord[]): Promise<SigningKeyRecord> {
    const created_at = new Date(this.#clock.now()).toISOString();
    let kid: string;
    let material: string;
    let public_jwk: Record<string, unknown>;
    if (use === 'EdDSA') {
      kid = newId('key');
      const pair = generateJwtKey(kid);
      material = serializeJwtKey(pair);
      public_jwk = { ...pair.publicJwk };
    } else if (use === 'RS256') {
      kid = newId('key');
      const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const jwk = privateKey.export({ format: 'jwk' }) as Record<string, unknown>;
      material = JSON.stringify({ ...jwk, kid, alg: 'RS256', use: 'sig' });
      public_jwk = { kty: 'RSA', n: jwk.n, e: jwk.e, kid, alg: 'RS256', use: 'sig' };
    } else {
      // Biscuit root key ids are integers; they only need to be unique within this deployment.
      const next = existing.filter((r) => r.use === 'biscuit').length + 1;
      const root = generateBiscuitRootKey(next);
      kid = String(root.kid);
      material = serializeBiscuitRootKey(root);
      public_jwk = { kid: root.kid, algorithm: 'ed25519', public_key: root.publicKey };
    }
    const record: SigningKeyRecord = { kid, use, sealed_private: this.#sealer.seal(material, `writ:signing-key:${kid}`), public_jwk, created_at };
    await this.#store.putKey(record);
    return record;
  }

  /** Seals every stored key anew under the master key's current version (after it rotated). */
  async reseal(): Promise<number> {
    let count = 0;
    for (const record of await this.#store.listKeys()) {
      const aad = `writ:signing-key:${record.kid}`;
      await this.#store.updateKey(record.kid, { sealed_private: this.#sealer.seal(this.#sealer.open(record.sealed_private, aad), aad) });
      count++;
    }
    return count;
  }

  /** A new key of every kind takes over signing; the old ones stay published until retired. */
  async rotate(): Promise<{ kids: string[] }> {
    const records = await this.#store.listKeys();
    const at = new Date(this.#clock.now()).toISOString();
    const kids: string[] = [];
    for (const use of ['EdDSA', 'RS256', 'biscuit'] as const) {
      for (const old of records.filter((r) => r.use === use && !r.superseded_at)) {
        await this.#store.updateKey(old.kid, {
          superseded_at: at,
          retire_after: new Date(this.#clock.now() + RETIRE_AFTER_MS[use]).toISOString(),
        });
      }
      kids.push((await this.#generate(use, records)).kid);
    }
    await this.reload();
    return { kids };
  }

  /** The key that signs JWT capabilities now. */
  get capabilitySigningKey(): JwtKeyPair {
    const key = this.#keys.eddsa[0];
    if (!key) throw new Error('keys not initialised');
    return key;
  }

  /** The Biscuit root key that signs now. */
  get biscuitRootKey(): BiscuitRootKey {
    const key = this.#keys.biscuit[0];
    if (!key) throw new Error('keys not initialised');
    return key;
  }

  /** A superseded key counts only until its retire time, read against the clock on every use. */
  #live<K extends { kid: string | number }>(keys: K[]): K[] {
    const now = this.#clock.now();
    return keys.filter((k) => (this.#retireAt.get(String(k.kid)) ?? Infinity) > now);
  }

  jwtVerificationKey(kid: string): KeyObject | undefined {
    return this.#live(this.#keys.eddsa).find((k) => k.kid === kid)?.publicKey;
  }

  biscuitRootKeyById(kid: number | undefined): BiscuitRootKey | undefined {
    return kid === undefined ? this.#keys.biscuit[0] : this.#live(this.#keys.biscuit).find((k) => k.kid === kid);
  }

  /** Private JWKS for oidc-provider (RS256 for OpenID Connect, EdDSA for Writ's tokens). */
  get providerJwks(): { keys: Array<Record<string, unknown>> } {
    return {
      keys: [
        ...this.#keys.rs256.map((k) => k.privateJwk),
        ...this.#keys.eddsa.map((k) => ({ ...(k.privateKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: k.kid, alg: 'EdDSA', use: 'sig' })),
      ],
    };
  }

  /** Public JWKS, every key still published. */
  get publicJwks(): { keys: Array<Record<string, unknown>> } {
    return {
      keys: [
        ...this.#live(this.#keys.eddsa).map((k) => ({ ...k.publicJwk })),
        ...this.#live(this.#keys.rs256).map(({ privateJwk: { kty, n, e, kid } }) => ({ kty, n, e, kid, alg: 'RS256', use: 'sig' })),
      ],
    };
  }

  /** `biscuit_public_keys` for the authorization server metadata. */
  get biscuitPublicKeys(): Array<{ kid: number; algorithm: 'ed25519'; public_key: string }> {
    return this.#live(this.#keys.biscuit).map((k) => ({ kid: k.kid, algorithm: 'ed25519' as const, public_key: k.publicKey }));
  }
}

