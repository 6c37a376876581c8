import * as oauth from 'openid-client';
import { createRemoteJWKSet, customFetch as joseFetch, importJWK, type JWTVerifyGetKey } from 'jose';
import type { EgressLookup } from '../connectors/egress.ts';
import { pinnedFetch } from '../connectors/provider-connections.ts';
import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import { newId, newSecret } from '../core/ids.ts';
import { isWritError, WritError } from '../errors/index.ts';
import type { DirectoryStore, Role, UserRecord } from '../storage/ports/directory.ts';
import type { CrossAppPolicy, IdentityProviderRecord, SsoStore } from '../storage/ports/sso.ts';
import { FLOW_SECONDS, type SsoFlow } from './flow.ts';
import type { CrossAppBody, IdentityProviderBody } from './schema.ts';

// Single sign-on per org (OpenID Connect, through openid-client): the org's provider as an admin
// configured it, home-realm discovery, the authorization request (PKCE, state, nonce, max_age),
// the callback's checks (state, iss per RFC 9207, nonce, auth_time, the ID token's issuer and
// audience), and just-in-time provisioning with mapped roles. A user found or made here is always
// one of the org the flow started for.

/** Sealing with the org's data key: the vault satisfies it. */
export interface OrgSecrets {
  sealOrgSecret(org_id: string, purpose: string, id: string, plaintext: string): Promise<string>;
  openOrgSecret(org_id: string, purpose: string, id: string, sealed: string): Promise<string>;
}

export interface SingleSignOnDeps {
  store: SsoStore;
  directory: DirectoryStore;
  audit: AuditLog;
  secrets: OrgSecrets;
  clock: Clock;
  /** Writ's issuer: the callback is `${issuer}/sso/callback`. */
  issuer: string;
  /** Hosts the operator allows on loopback or private addresses (WRIT_ALLOW_PRIVATE_EGRESS). */
  allowPrivateHosts?: readonly string[] | undefined;
  /** How the provider's host names resolve (tests; default the system resolver). */
  lookup?: EgressLookup | undefined;
}

const SECRET_PURPOSE = 'sso-client';
const PASSWORD_OFF = 'sso$no-local-password';
const USERNAME = /^[A-Za-z0-9._@+-]{1,64}$/;
const DISABLED = 'the user is disabled in this organisation; an administrator can enable them again';

/** What the admin API, the CLI and the console show: never a secret. */
export type IdentityProviderView = Omit<IdentityProviderRecord, 'sealed_client_secret' | 'sealed_private_jwk'> & { client_secret_set: boolean; redirect_uri: string; backchannel_logout_uri: string };

function algorithmOf(jwk: { kty: string; crv?: string }): string {
  if (jwk.kty === 'OKP') return 'EdDSA';
  if (jwk.kty === 'EC') return jwk.crv === 'P-384' ? 'ES384' : jwk.crv === 'P-521' ? 'ES512' : 'ES256';
  return 'RS256';
}

function publicHalf(jwk: Record<string, unknown>): Record<string, unknown> {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...pub } = jwk;
  return pub;
}

const claimText = (claims: Record<string, unknown>, name: string): string | undefined => {
  const v = claims[name];
  return typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined;
};

const claimList = (claims: Record<string, unknown>, name: string): string[] => {
  const v = claims[name];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
};

export class SingleSignOn {
  readonly #deps: SingleSignOnDeps;
  readonly #configs = new Map<string, Promise<oauth.Configuration>>();
  readonly #keySets = new Map<string, { uri: string; keys: JWTVerifyGetKey }>();

  constructor(deps: SingleSignOnDeps) {
    this.#deps = deps;
  }

  get redirectUri(): string {
    return `${this.#deps.issuer}/sso/callback`;
  }

  // ---- configuration ---------------------------------------------------------------------

  async configure(org_id: string, body: IdentityProviderBody, actor: Record<string, unknown>): Promise<IdentityProviderView> {
    const now = new Date(this.#deps.clock.now()).toISOString();
    const { client_secret, private_key_jwk, ...rest } = body;
    const record: IdentityProviderRecord = {
      ...rest, org_id, created_at: now, updated_at: now,
      sealed_client_secret: client_secret === undefined ? undefined : await this.#deps.secrets.sealOrgSecret(org_id, SECRET_PURPOSE, 'client_secret', client_secret),
      sealed_private_jwk: private_key_jwk === undefined ? undefined : await this.#deps.secrets.sealOrgSecret(org_id, SECRET_PURPOSE, 'private_jwk', JSON.stringify(private_key_jwk)),
      public_jwk: private_key_jwk === undefined ? undefined : publicHalf(private_key_jwk),
    };
    await this.#deps.store.putIdentityProvider(org_id, record);
    this.#configs.delete(org_id);
    await this.#deps.audit.record(org_id, {
      type: 'sso.configured', actor,
      subject: { org_id },
      details: { issuer: record.issuer, client_id: record.client_id, token_endpoint_auth_method: record.token_endpoint_auth_method, domains: record.domains, local_passwords: record.local_passwords, accept_id_jag: record.accept_id_jag },
    });
    return this.view((await this.#deps.store.getIdentityProvider(org_id))!);
  }

  async remove(org_id: string, actor: Record<string, unknown>): Promise<boolean> {
    const removed = await this.#deps.store.deleteIdentityProvider(org_id);
    this.#configs.delete(org_id);
    if (removed) await this.#deps.audit.record(org_id, { type: 'sso.removed', actor, subject: { org_id } });
    return removed;
  }

  view(record: IdentityProviderRecord): IdentityProviderView {
    const { sealed_client_secret, sealed_private_jwk: _k, ...rest } = record;
    return { ...rest, client_secret_set: sealed_client_secret !== undefined, redirect_uri: this.redirectUri, backchannel_logout_uri: `${this.#deps.issuer}/sso/backchannel-logout/${record.org_id}` };
  }

  /**
   * A deleted user's identity links go with them: the provider account they signed in with is then
   * nobody's, and its next sign-in provisions a new user as for anyone the provider vouches for.
   */
  async forgetUser(org_id: string, user_id: string): Promise<number> {
    return this.#deps.store.deleteLinksOf(org_id, user_id);
  }

  async provider(org_id: string): Promise<IdentityProviderRecord | undefined> {
    return this.#deps.store.getIdentityProvider(org_id);
  }

  /** How the org's users sign in: a Writ password unless the org switched it off, its provider when it has one. */
  async methods(org_id: string): Promise<{ passwords: boolean; sso: boolean }> {
    const idp = await this.#deps.store.getIdentityProvider(org_id);
    return { passwords: !idp || idp.local_passwords, sso: idp !== undefined };
  }

  async configureCrossApp(org_id: string, body: CrossAppBody, actor: Record<string, unknown>): Promise<CrossAppPolicy> {
    const policy: CrossAppPolicy = { org_id, targets: body.targets, updated_at: new Date(this.#deps.clock.now()).toISOString() };
    await this.#deps.store.putCrossAppPolicy(org_id, policy);
    await this.#deps.audit.record(org_id, { type: 'cross_app.configured', actor, subject: { org_id }, details: { audiences: policy.targets.map((t) => t.audience) } });
    return policy;
  }

  async crossApp(org_id: string): Promise<CrossAppPolicy | undefined> {
    return this.#deps.store.getCrossAppPolicy(org_id);
  }

  // ---- home-realm discovery --------------------------------------------------------------

  /** The org whose provider signs in this email address, when one claimed its domain. */
  async orgForEmail(email: string): Promise<string | undefined> {
    const at = email.lastIndexOf('@');
    if (at < 1 || email.length > 254) return undefined;
    return this.#deps.store.orgForDomain(email.slice(at + 1).toLowerCase());
  }

  // ---- the OpenID Connect client ---------------------------------------------------------

  /**
   * Every request to an org's provider (discovery, token, userinfo, keys) goes through the egress
   * rules connectors follow: https, and no loopback, private or metadata address unless the
   * operator allows the host. An org admin sets the issuer from the console; it must not be a way in.
   * The connection goes to the addresses the check approved: a name that answers otherwise a moment
   * later (DNS rebinding) is not looked up again.
   */
  readonly #fetch = async (url: string, init: object): Promise<Response> =>
    pinnedFetch(new URL(url), init as RequestInit, { allowPrivateHosts: this.#deps.allowPrivateHosts ?? [], ...(this.#deps.lookup ? { lookup: this.#deps.lookup } : {}) });

  async #config(idp: IdentityProviderRecord): Promise<oauth.Configuration> {
    const key = `${idp.org_id}\0${idp.updated_at}`;
    let cached = this.#configs.get(idp.org_id);
    if (!cached || (cached as unknown as { key?: string }).key !== key) {
      cached = this.#discover(idp);
      (cached as unknown as { key: string }).key = key;
      this.#configs.set(idp.org_id, cached);
      cached.catch(() => this.#configs.delete(idp.org_id));
    }
    return cached;
  }

  async #discover(idp: IdentityProviderRecord): Promise<oauth.Configuration> {
    let auth: oauth.ClientAuth;
    if (idp.token_endpoint_auth_method === 'private_key_jwt') {
      const jwk = JSON.parse(await this.#deps.secrets.openOrgSecret(idp.org_id, SECRET_PURPOSE, 'private_jwk', idp.sealed_private_jwk!)) as Record<string, unknown> & { kty: string; kid?: string };
      const alg = algorithmOf(jwk);
      const key = await importJWK(jwk, alg) as CryptoKey;
      auth = oauth.PrivateKeyJwt({ key, ...(jwk.kid ? { kid: jwk.kid } : {}) });
    } else {
      const secret = await this.#deps.secrets.openOrgSecret(idp.org_id, SECRET_PURPOSE, 'client_secret', idp.sealed_client_secret!);
      auth = idp.token_endpoint_auth_method === 'client_secret_post' ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret);
    }
    const insecure = new URL(idp.issuer).protocol === 'http:';
    try {
      const config = await oauth.discovery(new URL(idp.issuer), idp.client_id, { redirect_uris: [this.redirectUri], response_types: ['code'] }, auth, {
        ...(insecure ? { execute: [oauth.allowInsecureRequests] } : {}),
        timeout: 10, [oauth.customFetch]: this.#fetch,
      });
      config[oauth.customFetch] = this.#fetch;
      return config;
    } catch (err) {
      // An egress refusal (from the fetch, perhaps wrapped by openid-client) says so; anything else is the provider being away.
      const refusal = isWritError(err) ? err : isWritError((err as { cause?: unknown }).cause) ? (err as { cause: unknown }).cause : undefined;
      if (refusal) throw refusal;
      throw new WritError('temporarily_unavailable', 'the organisation\'s identity provider cannot be reached; try again shortly', { cause: err });
    }
  }

  /**
   * The authorization request for one sign-in, and the flow the browser keeps. `sensitive` asks
   * the provider to have authenticated the user within the org's `sensitive_max_age`.
   */
  async begin(org_id: string, options: { next: string; interaction?: string | undefined; sensitive?: boolean; login_hint?: string | undefined }): Promise<{ url: URL; flow: SsoFlow }> {
    const idp = await this.#deps.store.getIdentityProvider(org_id);
    if (!idp) throw new WritError('not_found', 'this organisation has no identity provider');
    const config = await this.#config(idp);
    const code_verifier = oauth.randomPKCECodeVerifier();
    const flow: SsoFlow = {
      org_id, issuer: idp.issuer, state: oauth.randomState(), nonce: oauth.randomNonce(), code_verifier,
      next: options.next, ...(options.interaction ? { interaction: options.interaction } : {}),
      ...(options.sensitive ? { max_age: idp.sensitive_max_age } : {}),
      exp: Math.floor(this.#deps.clock.now() / 1000) + FLOW_SECONDS,
    };
    const params: Record<string, string> = {
      redirect_uri: this.redirectUri, scope: idp.scopes.join(' '), response_type: 'code',
      code_challenge: await oauth.calculatePKCECodeChallenge(code_verifier), code_challenge_method: 'S256',
      state: flow.state, nonce: flow.nonce,
      ...(flow.max_age !== undefined ? { max_age: String(flow.max_age) } : {}),
      ...(options.login_hint ? { login_hint: options.login_hint } : {}),
    };
    return { url: oauth.buildAuthorizationUrl(config, params), flow };
  }

  /**
   * The callback: the provider's answer checked against the flow this browser holds, then the
   * Writ user of the flow's org it signs in (made just in time on first sign-in).
   */
  async complete(flow: SsoFlow, callback: URL, context: { ip?: string | undefined }): Promise<UserRecord> {
    const org_id = flow.org_id;
    const refuse = async (reason: string, cause?: unknown): Promise<never> => {
      await this.#deps.audit.record(org_id, { type: 'sso.signin_refused', actor: { kind: 'anonymous' }, subject: { org_id }, details: { issuer: flow.issuer, reason, ip: context.ip } });
      throw new WritError('access_denied', `single sign-on refused: ${reason}`, { cause });
    };
    const idp = await this.#deps.store.getIdentityProvider(org_id);
    // The provider changed while the user was away: the flow belongs to the one it started with.
    if (!idp || idp.issuer !== flow.issuer) return refuse('the organisation\'s identity provider changed during sign-in');
    const config = await this.#config(idp);
    let claims: Record<string, unknown>;
    try {
      const tokens = await oauth.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: flow.code_verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true,
        ...(flow.max_age !== undefined ? { maxAge: flow.max_age } : {}),
      });
      claims = { ...tokens.claims()! };
      if (config.serverMetadata().userinfo_endpoint) {
        const info = await oauth.fetchUserInfo(config, tokens.access_token, String(claims.sub));
        claims = { ...info, ...claims };
      }
    } catch (err) {
      const e = err as { code?: string; error?: string; message?: string };
      return refuse(e.error ?? e.code ?? 'the provider\'s answer did not check out', err);
    }
    const subject = String(claims.sub);
    const email = claims.email_verified === false ? undefined : claimText(claims, idp.claims.email);
    if (idp.domains.length) {
      const domain = email?.slice(email.lastIndexOf('@') + 1).toLowerCase();
      if (!domain || !idp.domains.includes(domain)) return refuse('the user\'s email domain is not one of this organisation\'s');
    }
    const roles: Role[] = claimList(claims, idp.claims.roles).some((v) => idp.admin_values.includes(v)) ? ['admin'] : ['member'];
    const display_name = claimText(claims, idp.claims.display_name);

    let user: UserRecord | undefined;
    const link = await this.#deps.store.getLink(org_id, idp.issuer, subject);
    if (link) {
      user = await this.#deps.directory.getUser(org_id, link.user_id, { includeDisabled: true });
      if (!user) return refuse('the linked user no longer exists');
      if (user.disabled_at) return refuse(DISABLED);
      // The provider stays authoritative: a role or name changed there changes here at the next sign-in.
      const changes = {
        ...(roles.join() !== user.roles.join() ? { roles } : {}),
        ...(display_name && display_name !== user.display_name ? { display_name } : {}),
      };
      if (Object.keys(changes).length) {
        user = (await this.#deps.directory.updateUser(org_id, user.id, changes, new Date(this.#deps.clock.now()).toISOString())) ?? user;
        await this.#deps.audit.record(org_id, { type: 'user.updated', actor: { kind: 'idp', issuer: idp.issuer }, subject: { user_id: user.id }, details: { fields: Object.keys(changes), roles: user.roles, cause: 'sso' } });
      }
    } else {
      const username = claimText(claims, idp.claims.username) ?? email;
      if (!username || !USERNAME.test(username)) return refuse('the provider gave no usable username');
      // A user of that name who is not linked yet is this person only when the provider vouches for
      // the same email (verified): preferred_username alone is no stable identifier (OIDC Core §5.7).
      // Disabled users too: one the lookup missed would be taken for a new person and provisioned.
      user = await this.#deps.directory.findUserByUsername(org_id, username, { includeDisabled: true });
      if (user && !(claims.email_verified === true && email && user.email?.toLowerCase() === email.toLowerCase())) {
        return refuse('a user of this name already exists in the organisation and the provider does not vouch for their email');
      }
      // Only the person the provider vouches for learns that their user is disabled.
      if (user?.disabled_at) return refuse(DISABLED);
      if (!user) {
        user = {
          id: newId('usr', this.#deps.clock.now()), org_id, username, ...(email ? { email } : {}), ...(display_name ? { display_name } : {}), roles,
          password_hash: `${PASSWORD_OFF}$${newSecret(8)}`, created_at: new Date(this.#deps.clock.now()).toISOString(),
        };
        try {
          await this.#deps.directory.createUser(org_id, user);
        } catch (err) {
          // The name was taken meanwhile (another sign-in, SCIM): nobody is signed in as someone else.
          if ((err as { code?: string }).code === 'conflict') return refuse('a user of this name exists in the organisation and cannot sign in', err);
          throw err;
        }
        await this.#deps.audit.record(org_id, { type: 'user.provisioned', actor: { kind: 'idp', issuer: idp.issuer }, subject: { user_id: user.id }, details: { username, roles, issuer: idp.issuer } });
      }
      await this.#deps.store.createLink(org_id, { org_id, issuer: idp.issuer, subject, user_id: user.id, display_name, created_at: new Date(this.#deps.clock.now()).toISOString() });
    }
    if (user.org_id !== org_id) return refuse('the user belongs to another organisation');
    await this.#deps.audit.record(org_id, { type: 'signin.succeeded', actor: { kind: 'user', user_id: user.id }, subject: { user_id: user.id }, details: { method: 'sso', issuer: idp.issuer, ip: context.ip } });
    return user;
  }

  /**
   * The provider's signing keys, from the JWKS its discovery document names (fetched when a key id
   * is new, at most every 30 s): what its ID-JAGs and logout tokens are checked against.
   */
  async keysOf(idp: IdentityProviderRecord): Promise<JWTVerifyGetKey> {
    const uri = (await this.#config(idp)).serverMetadata().jwks_uri;
    if (!uri) throw new WritError('temporarily_unavailable', 'the organisation\'s identity provider publishes no keys');
    const cached = this.#keySets.get(idp.org_id);
    if (cached?.uri === uri) return cached.keys;
    const keys = createRemoteJWKSet(new URL(uri), { timeoutDuration: 10_000, cooldownDuration: 30_000, [joseFetch]: this.#fetch });
    this.#keySets.set(idp.org_id, { uri, keys });
    return keys;
  }

  /** The provider's end-session URL (RP-initiated logout) returning to Writ's `afterPath`, when it has one. */
  async endSessionUrl(org_id: string, afterPath: string): Promise<string | undefined> {
    const idp = await this.#deps.store.getIdentityProvider(org_id);
    if (!idp) return undefined;
    try {
      const config = await this.#config(idp);
      if (!config.serverMetadata().end_session_endpoint) return undefined;
      return oauth.buildEndSessionUrl(config, { client_id: idp.client_id, post_logout_redirect_uri: `${this.#deps.issuer}${afterPath}` }).href;
    } catch {
      return undefined;
    }
  }
}
