// Writ's own signing keys, stored encrypted with the master key.
export interface SigningKeyRecord {
  kid: string;
  /** `EdDSA` for Writ's tokens, `RS256` where OpenID Connect requires it, `biscuit` for Biscuit roots. */
  use: 'EdDSA' | 'RS256' | 'biscuit';
  /** AES-256-GCM sealed private key material. */
  sealed_private: string;
  public_jwk: Record<string, unknown>;
  created_at: string;
  /** When a newer key took over signing; the key stays published until `retire_after`. */
  superseded_at?: string | undefined;
  retire_after?: string | undefined;
}

export interface KeyStore {
  putKey(key: SigningKeyRecord): Promise<void>;
  listKeys(): Promise<SigningKeyRecord[]>;
  /** `sealed_private` changes only when the master key rotates (the same key, sealed anew). */
  updateKey(kid: string, patch: Partial<Pick<SigningKeyRecord, 'superseded_at' | 'retire_after' | 'sealed_private'>>): Promise<void>;
}
