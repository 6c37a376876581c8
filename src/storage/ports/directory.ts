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
  /** `scrypt$N$r$p$salt$hash`, never leaves the store except to the password check. */
  password_hash: string;
  created_at: string;
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
  /** The agent's ceiling: the tools it may ever be granted. */
  tools: string[];
  created_at: string;
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
  getUser(org_id: string, user_id: string): Promise<UserRecord | undefined>;
  findUserByUsername(org_id: string, username: string): Promise<UserRecord | undefined>;
  listUsers(org_id: string): Promise<UserRecord[]>;

  getThrottle(org_id: string, username: string): Promise<SignInThrottle | undefined>;
  putThrottle(org_id: string, username: string, throttle: SignInThrottle | undefined): Promise<void>;

  createAgent(org_id: string, agent: AgentRecord): Promise<void>;
  getAgent(org_id: string, client_id: string): Promise<AgentRecord | undefined>;
  listAgents(org_id: string): Promise<AgentRecord[]>;
  deleteAgent(org_id: string, client_id: string): Promise<boolean>;
  /**
   * The one lookup by id alone: OAuth client authentication, where the client_id is the
   * protocol's entry point. The record it returns carries the org every later step is bound to.
   */
  findAgentForClientAuthentication(client_id: string): Promise<AgentRecord | undefined>;

  /** Throws `conflict` when the identifier is taken. */
  createResourceServer(rs: ResourceServerRecord): Promise<void>;
  getResourceServer(identifier: string): Promise<ResourceServerRecord | undefined>;
  listResourceServers(): Promise<ResourceServerRecord[]>;
}
