// Claims that must be made once across every process over the store, then expire: DPoP proof ids
// (RFC 9449 §11.1) at the executor and the token endpoint. Not a tenant's record: a key is a
// proof key's thumbprint with the proof's id, unique whoever presents it.
export interface ReplayStore {
  /**
   * Claim `key` until `expiresAt`. True for exactly one caller while the claim lasts, whichever
   * process or handle it comes from; false while an unexpired claim exists. An expired claim
   * may be claimed again.
   */
  claimOnce(key: string, expiresAt: Date): Promise<boolean>;
}
