// Single sign-on and cross-app access per org: the org's upstream OpenID provider, the link from
// an identity at that provider to a Writ user, and the authorization servers Writ may issue
// identity assertions (ID-JAG) for. Several rooms read it (sso/, as/ for sign-in, exchange/ for
// ID-JAG issuance through the composition root), so the port stays here.
//
// Every tenant-scoped method takes `org_id` first. The one lookup without it is home-realm
// discovery by email domain, where the domain is the protocol's entry point (as a client_id is
// for client authentication); the record it returns names the org every later step is bound to.

export type IdpClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

export interface IdentityProviderRecord {
  org_id: string;
  /** The provider's issuer identifier, exactly as its discovery document states it. */
  issuer: string;
  client_id: string;
  token_endpoint_auth_method: IdpClientAuthMethod;
  /** The client secret, sealed with the org's data key (client_secret_*). */
  sealed_client_secret?: string | undefined;
  /** The private JWK for private_key_jwt, sealed with the org's data key. */
  sealed_private_jwk?: string | undefined;
  /** Its public half, shown to the admin to register at the provider. */
  public_jwk?: Record<string, unknown> | undefined;
  scopes: string[];
  /** Which ID token (or userinfo) claim carries each Writ field. */
  claims: { username: string; email: string; display_name: string; roles: string };
  /** Values of the roles claim that make a user an admin of the org; everyone else is a member. */
  admin_values: string[];
  /** Email domains whose users this provider signs in (home-realm discovery); also the only domains it may sign in. */
  domains: string[];
  /** When false, users of this org sign in through the provider only. */
  local_passwords: boolean;
  /** Seconds since the provider last authenticated the user, at most, for consent to an agent. */
  sensitive_max_age: number;
  /** Accept Identity Assertion JWT Authorization Grants (ID-JAG) this provider signs. */
  accept_id_jag: boolean;
  created_at: string;
  updated_at: string;
}

export interface IdentityLink {
  org_id: string;
  issuer: string;
  /** The `sub` at the provider. */
  subject: string;
  user_id: string;
  display_name?: string | undefined;
  created_at: string;
}

/** An authorization server Writ issues ID-JAGs for, as the identity provider of this org's users. */
export interface CrossAppTarget {
  /** The other authorization server's issuer identifier: the ID-JAG's `aud`. */
  audience: string;
  /** Writ agent client_id → that agent's client_id at the other server: the ID-JAG's `client_id`. */
  clients: Record<string, string>;
  /** Scopes that may be asked for there; absent means none may be named. */
  scopes: string[];
  /** Resource indicators that may be named there (RFC 8707); absent means none. */
  resources: string[];
  /** Lifetime of an issued ID-JAG, seconds. */
  ttl: number;
}

export interface CrossAppPolicy {
  org_id: string;
  targets: CrossAppTarget[];
  updated_at: string;
}

export interface SsoStore {
  /**
   * Inserts or replaces the org's provider (keeping `created_at`) and claims its domains. Throws
   * `conflict`, changing nothing, when a domain is another org's.
   */
  putIdentityProvider(org_id: string, idp: IdentityProviderRecord): Promise<void>;
  getIdentityProvider(org_id: string): Promise<IdentityProviderRecord | undefined>;
  /** Removes the provider, its domains and every identity link of the org. */
  deleteIdentityProvider(org_id: string): Promise<boolean>;
  /** Home-realm discovery: the org that claimed this (lower-case) email domain. */
  orgForDomain(domain: string): Promise<string | undefined>;

  getLink(org_id: string, issuer: string, subject: string): Promise<IdentityLink | undefined>;
  /** Throws `conflict` when (org, issuer, subject) is linked already. */
  createLink(org_id: string, link: IdentityLink): Promise<void>;
  /** Removes every identity link to the user (when the user is deleted); answers how many there were. */
  deleteLinksOf(org_id: string, user_id: string): Promise<number>;

  putCrossAppPolicy(org_id: string, policy: CrossAppPolicy): Promise<void>;
  getCrossAppPolicy(org_id: string): Promise<CrossAppPolicy | undefined>;
}
