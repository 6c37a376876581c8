// Orgs, users and agents: the identities every other record hangs from.
// Every tenant-scoped method takes `org_id` first; nothing is found by a user or agent id alone.

export interface OrgRecord {
  id: string;
  name: string;
  created_at: string;
}

export type Role = 'member' | 'admin';

export interface UserRecord {
  id: string;
  org_id: string;
  username: string;
  email?: string | undefined;
  roles: Role[];
  /** `scrypt$N$r$p$salt$hash`, never leaves the store except to the password check; empty for no local password. */
  password_hash: string;
  display_name?: string | undefined;
  /** The provisioning client's own id for this user (SCIM `externalId`). */
  external_id?: string | undefined;
  /** Set while the user is disabled: no sign-in, no session, no consent; cleared on re-enable. */
  disabled_at?: string | undefined;
  created_at: string;
  updated_at?: string | undefined;
}

/** Fields a lifecycle update may change; `null` clears an optional one. */
export interface UserChanges {
  username?: string;
  email?: string | null;
  roles?: Role[];
  password_hash?: string;
  display_name?: string | null;
  external_id?: string | null;
  disabled_at?: string | null;
}

/** A set of users of one org (SCIM Groups), for policy and approvals. */
export interface GroupRecord {
  id: string;
  org_id: string;
  display_name: string;
  external_id?: string | undefined;
  /** User ids, each a user of the same org. */
  members: string[];
  created_at: string;
  updated_at: string;
}

export interface GroupChanges {
  display_name?: string;
  external_id?: string | null;
  members?: string[];
}

/** Lookups leave disabled users and agents out unless asked: every authentication path is refused by default. */
export interface LookupOptions {
  includeDisabled?: boolean;
}

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

export interface AgentRecord {
  client_id: string;
  org_id: string;
  name: string;
  redirect_uris: string[];
  token_endpoint_auth_method: ClientAuthMethod;
  /** SHA-256 of the client secret; the secret itself is shown once at creation. */
  client_secret_digest?: string | undefined;
  /** Public JWK Set for `private_key_jwt`. */
  jwks?: { keys: Record<string, unknown>[] } | undefined;
  /** Where the agent publishes its JWK Set instead (`private_key_jwt`); exclusive with `jwks`. */
  jwks_uri?: string | undefined;
  /** A rotated-out secret's digest, still accepted until `expires_at` (the overlap window). */
  previous_secret?: { digest: string; expires_at: string } | undefined;
  /** Rotated-out public keys, still accepted until `expires_at`. */
  previous_jwks?: { keys: Record<string, unknown>[]; expires_at: string } | undefined;
  /** The agent's ceiling: the tools it may ever be granted. */
  tools: string[];
  /** Set while the agent is disabled: no client authentication, no exchange; cleared on re-enable. */
  disabled_at?: string | undefined;
  created_at: string;
  updated_at?: string | undefined;
}

/** Fields a lifecycle update may change; `null` clears an optional one. */
export interface AgentChanges {
  name?: string;
  redirect_uris?: string[];
  tools?: string[];
  token_endpoint_auth_method?: ClientAuthMethod;
  client_secret_digest?: string | null;
  jwks?: { keys: Record<string, unknown>[] } | null;
  jwks_uri?: string | null;
  previous_secret?: { digest: string; expires_at: string } | null;
  previous_jwks?: { keys: Record<string, unknown>[]; expires_at: string } | null;
  disabled_at?: string | null;
}

export interface SignInThrottle {
  failures: number;
  /** Epoch ms until which sign-in is refused. */
  locked_until: number;
  last_failure_at: number;
}

/** A downstream service that may be named as a token-exchange audience. */
export interface ResourceServerRecord {
  /** The exact resource identifier (RFC 8707), e.g. `https://billing.example/api`. */
  identifier: string;
  name: string;
  /** Restricts it to one org's capabilities; absent means any org's. */
  org_id?: string | undefined;
  created_at: string;
}

export interface DirectoryStore {
  createOrg(org: OrgRecord): Promise<void>;
  getOrg(org_id: string): Promise<OrgRecord | undefined>;
  listOrgs(): Promise<OrgRecord[]>;

  /** Throws `conflict` when the username is taken in this org. */
  createUser(org_id: string, user: UserRecord): Promise<void>;
  getUser(org_id: string, user_id: string, options?: LookupOptions): Promise<UserRecord | undefined>;
  findUserByUsername(org_id: string, username: string, options?: LookupOptions): Promise<UserRecord | undefined>;
  /** Every user of the org, disabled ones included. */
  listUsers(org_id: string): Promise<UserRecord[]>;
  /** Applies the changes and returns the user (disabled or not); undefined when absent; `conflict` on a taken username. */
  updateUser(org_id: string, user_id: string, changes: UserChanges, at: string): Promise<UserRecord | undefined>;
  /** Removes the user and their group memberships. */
  deleteUser(org_id: string, user_id: string): Promise<boolean>;

  /** Throws `conflict` when the display name is taken in this org. */
  createGroup(org_id: string, group: GroupRecord): Promise<void>;
  getGroup(org_id: string, group_id: string): Promise<GroupRecord | undefined>;
  listGroups(org_id: string): Promise<GroupRecord[]>;
  /** The groups a user is a member of: what policy and approvals ask. */
  listGroupsOfUser(org_id: string, user_id: string): Promise<GroupRecord[]>;
  updateGroup(org_id: string, group_id: string, changes: GroupChanges, at: string): Promise<GroupRecord | undefined>;
  deleteGroup(org_id: string, group_id: string): Promise<boolean>;

  getThrottle(org_id: string, username: string): Promise<SignInThrottle | undefined>;
  putThrottle(org_id: string, username: string, throttle: SignInThrottle | undefined): Promise<void>;

  createAgent(org_id: string, agent: AgentRecord): Promise<void>;
  getAgent(org_id: string, client_id: string, options?: LookupOptions): Promise<AgentRecord | undefined>;
  /** Every agent of the org, disabled ones included. */
  listAgents(org_id: string): Promise<AgentRecord[]>;
  updateAgent(org_id: string, client_id: string, changes: AgentChanges, at: string): Promise<AgentRecord | undefined>;
  deleteAgent(org_id: string, client_id: string): Promise<boolean>;
  /**
   * The one lookup by id alone: OAuth client authentication, where the client_id is the
   * protocol's entry point. The record it returns carries the org every later step is bound to.
   * A disabled agent is not found.
   */
  findAgentForClientAuthentication(client_id: string): Promise<AgentRecord | undefined>;

  /** Throws `conflict` when the identifier is taken. */
  createResourceServer(rs: ResourceServerRecord): Promise<void>;
  getResourceServer(identifier: string): Promise<ResourceServerRecord | undefined>;
  listResourceServers(): Promise<ResourceServerRecord[]>;
}
