import { createHash } from 'node:crypto';

// Persistence for oidc-provider's models (sessions, interactions, codes, tokens, grants).
// The shape follows oidc-provider's adapter contract; one store serves every model name.

export interface OidcPayload {
  [key: string]: unknown;
  uid?: string;
  userCode?: string;
  grantId?: string;
  consumed?: number;
}

export interface OidcStore {
  upsert(model: string, id: string, payload: OidcPayload, expiresAt: number | undefined): Promise<void>;
  find(model: string, id: string): Promise<OidcPayload | undefined>;
  findByUid(model: string, uid: string): Promise<OidcPayload | undefined>;
  findByUserCode(model: string, userCode: string): Promise<OidcPayload | undefined>;
  consume(model: string, id: string, at: number): Promise<void>;
  destroy(model: string, id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
  /** Ends every oidc-provider session signed in as this account (a user disabled or deleted); returns how many. */
  destroySessionsOf(accountId: string): Promise<number>;
}

// oidc-provider names each token, code and request by its value: the model's id is the bearer
// secret itself. Those models are stored under a digest of the id, so a copy of the store (a
// backup, a stolen file) yields no usable token. The id is 256 random bits, so a plain SHA-256
// is enough and needs no key, which keeps rows readable across master key rotations and store
// migrations. Sessions and interactions are not here: their ids are usable only inside cookies
// signed with a key derived from the master key, and oidc-provider needs them back by uid.
export const BEARER_MODELS: ReadonlySet<string> = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'ClientCredentials', 'DeviceCode',
  'BackchannelAuthenticationRequest', 'PushedAuthorizationRequest', 'InitialAccessToken', 'RegistrationAccessToken',
]);

const DIGEST_PREFIX = 'sha256:';

/** The stored id of a bearer model's presented id. `:` is outside oidc-provider's id alphabet. */
export function bearerDigest(id: string): string {
  return DIGEST_PREFIX + createHash('sha256').update(id, 'utf8').digest('base64url');
}

/** True for an id that is already a stored digest (rows read by uid or user code carry it). */
export function isBearerDigest(id: string): boolean {
  return id.startsWith(DIGEST_PREFIX) && id.length === DIGEST_PREFIX.length + 43;
}
