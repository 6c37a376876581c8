// The SCIM aggregate: each org's provisioning bearer token, kept as a digest only.

export interface ScimTokenRecord {
  org_id: string;
  /** SHA-256 of the token's secret part; the token itself is shown once, at rotation. */
  digest: string;
  created_at: string;
}

export interface ScimStore {
  /** Replaces the org's token: the previous one stops working at once. */
  putToken(record: ScimTokenRecord): Promise<void>;
  getToken(org_id: string): Promise<ScimTokenRecord | undefined>;
  deleteToken(org_id: string): Promise<boolean>;
}
