import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { UNEXPECTED, WritError } from '../errors/index.ts';

// AES-256-GCM with associated data, a versioned master key ring and envelope encryption.
//
// Sealed values are self-describing: `v1.<keyVersion>.<iv>.<tag>.<ciphertext>` (base64url parts).
// The key version picks the key from a ring, so rotation needs no downtime: encrypt with the
// current key, decrypt with any key still in the ring. The associated data is never stored in
// the sealed value; the caller rebuilds it from where the value lives (org, account, purpose),
// so a value copied to another row or org fails authentication instead of decrypting.

const FORMAT = 'v1';
const IV_BYTES = 12; // NIST SP 800-38D §8.2: 96-bit IVs, random per message
const TAG_BYTES = 16;
export const KEY_BYTES = 32;

export type VaultCryptoErrorCode = 'malformed' | 'unknown_key' | 'decrypt_failed' | 'invalid_key';

/** Never carries plaintext, key material or the sealed value; a client only learns that the server failed. */
export class VaultCryptoError extends WritError {
  declare readonly reason: VaultCryptoErrorCode;
  constructor(reason: VaultCryptoErrorCode, message: string) {
    super('server_error', UNEXPECTED, { message, reason });
    this.name = 'VaultCryptoError';
  }
}

/** Versioned symmetric keys: one current key to seal with, all of them to open with. */
export interface KeyRing {
  readonly current: number;
  key(version: number): Buffer | undefined;
  versions(): number[];
}

export function createKeyRing(entries: ReadonlyArray<{ version: number; key: Uint8Array }>, current?: number): KeyRing {
  if (entries.length === 0) throw new VaultCryptoError('invalid_key', 'a key ring needs at least one key');
  const keys = new Map<number, Buffer>();
  for (const { version, key } of entries) {
    if (!Number.isSafeInteger(version) || version < 1) throw new VaultCryptoError('invalid_key', `key version must be a positive integer, got ${version}`);
    if (key.length !== KEY_BYTES) throw new VaultCryptoError('invalid_key', `key v${version} must be ${KEY_BYTES} bytes, got ${key.length}`);
    if (keys.has(version)) throw new VaultCryptoError('invalid_key', `key v${version} appears twice`);
    keys.set(version, Buffer.from(key));
  }
  const chosen = current ?? Math.max(...keys.keys());
  if (!keys.has(chosen)) throw new VaultCryptoError('invalid_key', `current key v${chosen} is not in the ring`);
  return {
    current: chosen,
    key: (version) => keys.get(version),
    versions: () => [...keys.keys()].sort((a, b) => a - b),
  };
}

/**
 * Parses `WRIT_MASTER_KEY`: comma-separated `v<N>:<base64url 32 bytes>` entries (newest first),
 * or one bare base64url key, which is version 1. The highest version seals.
 */
export function parseMasterKeyRing(text: string): KeyRing {
  const entries = text.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
    const m = /^v(\d{1,9}):([A-Za-z0-9_-]+={0,2})$/.exec(entry);
    if (!m && !entry.includes(':')) return { version: 1, key: Buffer.from(entry, 'base64url') };
    if (!m) throw new VaultCryptoError('invalid_key', 'WRIT_MASTER_KEY entries must look like v<N>:<base64url 32 bytes>');
    return { version: Number(m[1]), key: Buffer.from(m[2]!, 'base64url') };
  });
  return createKeyRing(entries);
}

/** A fresh random 256-bit key. */
export function generateKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Seals `plaintext` with the ring's current key, binding it to `aad`. */
export function seal(ring: KeyRing, plaintext: string | Uint8Array, aad: string): string {
  return sealWithKey(ring.current, ring.key(ring.current)!, plaintext, aad);
}

/** Opens a value sealed with any key in the ring; `aad` must be exactly what sealing used. */
export function open(ring: KeyRing, sealed: string, aad: string): Buffer {
  const parts = parseSealed(sealed);
  const key = ring.key(parts.version);
  if (!key) throw new VaultCryptoError('unknown_key', `sealed with key v${parts.version}, which is not in the ring`);
  return openParts(key, parts, aad);
}

/** The key version a sealed value names, without opening it. */
export function sealedKeyVersion(sealed: string): number {
  return parseSealed(sealed).version;
}

export function sealWithKey(version: number, key: Uint8Array, plaintext: string | Uint8Array, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return [FORMAT, String(version), iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

export function openWithKey(key: Uint8Array, sealed: string, aad: string): Buffer {
  return openParts(key, parseSealed(sealed), aad);
}

interface SealedParts { version: number; iv: Buffer; tag: Buffer; ct: Buffer }

const B64URL = /^[A-Za-z0-9_-]*$/;

function parseSealed(sealed: string): SealedParts {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== FORMAT) throw new VaultCryptoError('malformed', 'not a v1 sealed value');
  const [, v, iv, tag, ct] = parts as [string, string, string, string, string];
  if (!/^[1-9]\d{0,8}$/.test(v) || ![iv, tag, ct].every((p) => B64URL.test(p))) throw new VaultCryptoError('malformed', 'not a v1 sealed value');
  const parsed = { version: Number(v), iv: Buffer.from(iv, 'base64url'), tag: Buffer.from(tag, 'base64url'), ct: Buffer.from(ct, 'base64url') };
  if (parsed.iv.length !== IV_BYTES || parsed.tag.length !== TAG_BYTES) throw new VaultCryptoError('malformed', 'not a v1 sealed value');
  return parsed;
}

function openParts(key: Uint8Array, parts: SealedParts, aad: string): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(parts.tag);
    return Buffer.concat([decipher.update(parts.ct), decipher.final()]);
  } catch {
    // Wrong key, wrong associated data or a tampered value: GCM cannot tell them apart, and
    // neither should an attacker.
    throw new VaultCryptoError('decrypt_failed', 'sealed value failed authentication');
  }
}

/** Associated data: a JSON array, so no choice of ids can make two contexts collide. */
export function associatedData(purpose: string, ...context: Array<string | number>): string {
  return JSON.stringify(['writ', purpose, ...context]);
}

// Envelope encryption: each org's credentials are sealed with the org's own data key; the data
// key is stored wrapped by a KeyProvider. Deleting the wrapped key shreds the org's credentials.

/** Wraps and unwraps data keys. The local provider uses the master key ring; a KMS can stand in. */
export interface KeyProvider {
  /** The master key version new wrappings use. */
  readonly currentVersion: number;
  wrapDataKey(dataKey: Uint8Array, org_id: string): Promise<{ wrapped: string; master_version: number }>;
  unwrapDataKey(wrapped: string, org_id: string): Promise<Buffer>;
}

export class LocalKeyProvider implements KeyProvider {
  readonly #ring: KeyRing;
  constructor(ring: KeyRing) { this.#ring = ring; }

  get currentVersion() { return this.#ring.current; }

  async wrapDataKey(dataKey: Uint8Array, org_id: string) {
    return { wrapped: seal(this.#ring, dataKey, associatedData('data-key', org_id)), master_version: this.#ring.current };
  }

  async unwrapDataKey(wrapped: string, org_id: string) {
    const key = open(this.#ring, wrapped, associatedData('data-key', org_id));
    if (key.length !== KEY_BYTES) throw new VaultCryptoError('invalid_key', 'unwrapped data key has the wrong length');
    return key;
  }
}

/** The associated data of a credential: org, connected account and data key version. */
export function credentialAad(org_id: string, account_id: string, data_key_version: number): string {
  return associatedData('credential', org_id, account_id, data_key_version);
}
