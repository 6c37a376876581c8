// The vault's storage: per-org data keys (wrapped by the master key), connected accounts with
// their sealed credentials and refresh leases. Org-registered connectors, whose client secrets
// the vault seals, are their own port (connectors/org-connector-store.ts). Every tenant method
// takes `org_id` first; an account id or a user id alone finds nothing.
//
// Declared here, not in vault/: vault/ owns the records, but console/ lists accounts, connect/ names
// their owners and ops/ observes lease contention through this port.
//
// Atomic steps are single calls so every adapter can implement them with one statement:
// `swapCredential` is a compare-and-swap on `credential_version`, `acquireLease` is an
// insert-or-take-over-if-expired.

export type AccountOwner = { kind: 'user'; user_id: string } | { kind: 'org' };

export type AccountStatus = 'pending' | 'active' | 'expired' | 'revoked' | 'error';

export const ACCOUNT_STATUSES: readonly AccountStatus[] = ['pending', 'active', 'expired', 'revoked', 'error'];

export interface ConnectedAccountRecord {
  id: string;
  org_id: string;
  owner: AccountOwner;
  /** Connector name, e.g. `gmail` or an org connector's name. */
  connector: string;
  status: AccountStatus;
  /** Provider scopes granted to the credential. */
  scopes: string[];
  /** When the current access token stops working (ISO 8601); absent for tokens that never expire. */
  expires_at?: string | undefined;
  created_at: string;
  updated_at: string;
  /** Bumped by every credential write; the compare-and-swap guard for refresh. */
  credential_version: number;
  /** `oauth2` or `api_key` once a credential is stored. */
  credential_type?: 'oauth2' | 'api_key' | undefined;
  /** Last four characters of an API key, for people to recognise it. */
  api_key_hint?: string | undefined;
  /** The sealed credential. Only the vault service opens it; never in a response or a log. */
  sealed_credential?: string | undefined;
  /** Sealed state of an unfinished connect (state, PKCE verifier, redirect URI). */
  sealed_connect?: string | undefined;
  /** No refresh attempt before this instant (ISO 8601), after a failure. */
  cooldown_until?: string | undefined;
  /** Short, secret-free description of the last failure. */
  last_error?: string | undefined;
}

export interface AccountFilter {
  owner?: AccountOwner;
  connector?: string;
  status?: AccountStatus;
}

/** Fields that change without touching the credential. `null` clears an optional field. */
export interface AccountPatch {
  status?: AccountStatus;
  scopes?: string[];
  sealed_connect?: string | null;
  cooldown_until?: string | null;
  last_error?: string | null;
  updated_at: string;
}

/** A credential write: replaces the sealed credential and bumps `credential_version`. */
export interface CredentialWrite {
  sealed_credential: string;
  credential_type: 'oauth2' | 'api_key';
  api_key_hint?: string | undefined;
  status: AccountStatus;
  scopes: string[];
  expires_at?: string | undefined;
  updated_at: string;
}

export interface DataKeyRecord {
  org_id: string;
  /** Generation of the org's data key; part of every credential's associated data. */
  version: number;
  /** The data key wrapped by the key provider (self-describing, names its master key version). */
  wrapped: string;
  /** Master key version that wrapped it, so rotation can find what is left to re-wrap. */
  master_version: number;
  created_at: string;
  rewrapped_at?: string | undefined;
}

export interface VaultStore {
  // Data keys
  getDataKey(org_id: string): Promise<DataKeyRecord | undefined>;
  /** Inserts unless the org already has a key; returns the key that is stored either way. */
  putDataKeyIfAbsent(key: DataKeyRecord): Promise<DataKeyRecord>;
  /** Replaces the wrapping if it is still `expected_wrapped`; false when someone else changed it. */
  rewrapDataKey(org_id: string, expected_wrapped: string, next: { wrapped: string; master_version: number; rewrapped_at: string }): Promise<boolean>;
  /** Operator-level: data keys not wrapped by `master_version`, in org id order, after `after`. */
  listDataKeysToRewrap(master_version: number, options: { after?: string; limit: number }): Promise<DataKeyRecord[]>;
  countDataKeysToRewrap(master_version: number): Promise<number>;
  /** Crypto-shredding: the org's credentials cannot be opened once this key is gone. */
  deleteDataKey(org_id: string): Promise<boolean>;

  // Connected accounts
  createAccount(org_id: string, account: ConnectedAccountRecord): Promise<void>;
  getAccount(org_id: string, account_id: string): Promise<ConnectedAccountRecord | undefined>;
  listAccounts(org_id: string, filter?: AccountFilter): Promise<ConnectedAccountRecord[]>;
  /** Returns the updated record, or undefined when there is no such account. */
  updateAccount(org_id: string, account_id: string, patch: AccountPatch): Promise<ConnectedAccountRecord | undefined>;
  /**
   * Compare-and-swap: writes the credential only if `credential_version` is still
   * `expected_version`, bumping it by one and clearing cooldown and last error. Returns the new
   * record, or undefined when the version moved (or the account is gone).
   */
  swapCredential(org_id: string, account_id: string, expected_version: number, write: CredentialWrite): Promise<ConnectedAccountRecord | undefined>;
  /** Status change guarded by the credential version (e.g. mark revoked only if nobody refreshed since). */
  setStatusIfVersion(org_id: string, account_id: string, expected_version: number, patch: AccountPatch): Promise<boolean>;
  deleteAccount(org_id: string, account_id: string): Promise<boolean>;

  // Refresh leases: one holder per (org, account) across every process.
  /** Takes the lease if free, expired, or already held by `owner`. `now` and `ttl_ms` in ms. */
  acquireLease(org_id: string, account_id: string, owner: string, ttl_ms: number, now: number): Promise<boolean>;
  /** Releases only a lease held by `owner`. */
  releaseLease(org_id: string, account_id: string, owner: string): Promise<void>;

  /** Removes every vault record of the org: data key, accounts, leases. */
  deleteOrg(org_id: string): Promise<void>;
}
