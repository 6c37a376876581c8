// Every capability Writ issues: recorded once, spent once if single-use, revoked with its grant.
// The feed that publishes revocations is its own port (revocation-feed.ts).
//
// Declared here, not beside a consumer: exchange/ records, as/ introspects, executor/ spends and
// revocation/ publishes capabilities.

export interface CapabilityRecord {
  jti: string;
  org_id: string;
  /** The grant (authorization event) it derives from; revoking the grant revokes it. */
  auth_event_id: string;
  parent_jti?: string | undefined;
  client_id: string;
  format: 'jwt' | 'biscuit';
  /** Biscuit revocation ids (hex), one per block of the token as issued. */
  revocation_ids: string[];
  single_use: boolean;
  /** Epoch seconds. */
  exp: number;
  created_at: string;
  spent_at?: string | undefined;
  revoked_at?: string | undefined;
}

export interface CapabilityStore {
  recordCapability(org_id: string, record: CapabilityRecord): Promise<void>;
  getCapability(org_id: string, jti: string): Promise<CapabilityRecord | undefined>;
  /**
   * Spends a single-use capability: true for exactly one caller however many race, false for
   * every other (already spent, revoked, or unknown).
   */
  spendCapability(org_id: string, jti: string, at: string): Promise<boolean>;
  /**
   * Gives back a spend that reached nothing (the provider was never contacted): true when the
   * capability was spent at exactly `spent_at` and is live again, false otherwise (another spend,
   * a revocation, or nothing to give back).
   */
  releaseCapability(org_id: string, jti: string, spent_at: string): Promise<boolean>;
  /** Marks every live capability of these grants revoked and returns them. */
  revokeCapabilitiesOfGrants(org_id: string, grant_ids: string[], at: string): Promise<CapabilityRecord[]>;
}
