// Audit evidence: per-org checkpoint signing keys and signed checkpoints of the audit chain
// (aggregate `audit_checkpoints`), and per-org SIEM streams with their delivery cursor (`siem`).

export interface CheckpointKeyRecord {
  org_id: string;
  kid: string;
  /** The Ed25519 public key as a JWK (`kty: OKP`, `crv: Ed25519`, `x`). */
  public_jwk: Record<string, string>;
  /** The private key, sealed under the master key with the org and kid as associated data. */
  sealed_private_key: string;
  created_at: string;
}

/** A signed statement "org O's audit chain had head H at sequence S at time T". */
export interface CheckpointRecord {
  org_id: string;
  seq: number;
  head_hash: string;
  at: string;
  kid: string;
  /** Ed25519 over the canonical JSON of `{ org_id, seq, head_hash, at, kid }`, base64url. */
  signature: string;
}

export interface CheckpointStore {
  /** Stores the org's key unless it already has one; returns the key in force (the first writer's). */
  createKeyIfAbsent(key: CheckpointKeyRecord): Promise<CheckpointKeyRecord>;
  listKeys(org_id: string): Promise<CheckpointKeyRecord[]>;
  /** False when a checkpoint at that sequence already exists (another process signed it). */
  appendCheckpoint(checkpoint: CheckpointRecord): Promise<boolean>;
  /** Oldest first. */
  listCheckpoints(org_id: string, options?: { after_seq?: number; limit?: number }): Promise<CheckpointRecord[]>;
  latestCheckpoint(org_id: string): Promise<CheckpointRecord | undefined>;
}

export interface SiemStreamRecord {
  org_id: string;
  /** HTTPS endpoint receiving the org's events as OCSF, in order. */
  url: string;
  /** The sequence of the last event the receiver acknowledged (2xx). */
  cursor: number;
  /** Consecutive failed deliveries since the last success. */
  failures: number;
  /** Epoch ms before which no delivery is tried (backoff after a failure). */
  next_attempt_at: number;
  last_error?: string | undefined;
  last_delivered_at?: string | undefined;
  /** Which process is delivering, until when (epoch ms): one deliverer per org at a time keeps the order. */
  lease_owner?: string | undefined;
  lease_until?: number | undefined;
  created_at: string;
  updated_at: string;
}

export type SiemStreamChanges = Partial<Pick<SiemStreamRecord, 'cursor' | 'failures' | 'next_attempt_at' | 'last_error' | 'last_delivered_at' | 'updated_at'>>;

export interface SiemStore {
  /** Creates or replaces the org's stream (its cursor and failures as given). */
  putStream(stream: SiemStreamRecord): Promise<void>;
  getStream(org_id: string): Promise<SiemStreamRecord | undefined>;
  deleteStream(org_id: string): Promise<boolean>;
  /** Streams whose next attempt is due at `now` (epoch ms). */
  listDue(now: number, limit: number): Promise<SiemStreamRecord[]>;
  /** Takes the stream's lease if free, expired or already held by `owner`. */
  claim(org_id: string, owner: string, until: number, now: number): Promise<boolean>;
  /** Applies changes while `owner` holds the lease (false otherwise), releasing it when `release`. */
  update(org_id: string, owner: string, changes: SiemStreamChanges, release: boolean): Promise<boolean>;
}
