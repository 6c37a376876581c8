import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import { WritError, type ErrorCode } from '../errors/index.ts';
import type { DirectoryStore, UserRecord } from '../storage/ports/directory.ts';
import type { ReplayStore } from '../storage/ports/replay.ts';
import type { IdentityProviderRecord, SsoStore } from '../storage/ports/sso.ts';

// Checking an Identity Assertion JWT Authorization Grant (ID-JAG) an agent presents at /token:
// signed by the org's own identity provider (the one it configured for single sign-on, with ID-JAG
// acceptance switched on), typed `oauth-id-jag+jwt`, for this server (`aud`), for the client that
// presents it (`client_id`), unexpired, naming a user linked to that provider in this org, and never
// seen before (its `jti`, claimed once in the store every process shares). Every refusal is
// `invalid_grant` (RFC 7521 §5.2) and on the org's log.

export const ID_JAG_TYP = 'oauth-id-jag+jwt';
/** Longest life accepted for an assertion, so replay claims stay bounded. */
const MAX_LIFE_SECONDS = 3600;
const ALGORITHMS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'PS256'];

export interface AcceptedAssertion {
  user: UserRecord;
  issuer: string;
  jti: string;
  exp: number;
  scope: string | undefined;
  resource: string | undefined;
}

/** What checking a token an org's provider signed takes: its record, its keys, a once-only store, the log. */
export interface ProviderTokenDeps {
  store: SsoStore;
  replay: ReplayStore;
  audit: AuditLog;
  clock: Clock;
  /** The provider's signing keys (SingleSignOn.keysOf). */
  keys(idp: IdentityProviderRecord): Promise<JWTVerifyGetKey>;
}

export interface IdentityAssertionDeps extends ProviderTokenDeps {
  directory: DirectoryStore;
  /** This server's issuer: the only `aud` accepted. */
  issuer: string;
}

export class IdentityAssertions {
  readonly #deps: IdentityAssertionDeps;

  constructor(deps: IdentityAssertionDeps) {
    this.#deps = deps;
  }

  async accept(org_id: string, client_id: string, assertion: string): Promise<AcceptedAssertion> {
    const refuse = async (reason: string, details: Record<string, unknown> = {}, code: ErrorCode = 'invalid_grant'): Promise<never> => {
      await this.#deps.audit.record(org_id, {
        type: 'id_jag.refused', actor: { kind: 'agent', agent_id: client_id }, subject: { agent_id: client_id },
        details: { direction: 'accept', error: code, reason, ...details },
      });
      throw new WritError(code, reason);
    };
    let claimed: { iss?: unknown; jti?: unknown };
    try {
      if (decodeProtectedHeader(assertion).typ !== ID_JAG_TYP) return refuse(`the assertion is not typed ${ID_JAG_TYP}`);
      claimed = decodeJwt(assertion);
    } catch {
      return refuse('the assertion is not a JWT');
    }
    const idp = await this.#deps.store.getIdentityProvider(org_id);
    if (!idp || !idp.accept_id_jag || claimed.iss !== idp.issuer) {
      return refuse('the assertion\'s issuer is not an identity provider this organisation trusts for ID-JAG', { iss: typeof claimed.iss === 'string' ? claimed.iss.slice(0, 256) : undefined });
    }
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(assertion, await this.#deps.keys(idp), {
        issuer: idp.issuer, audience: this.#deps.issuer, typ: ID_JAG_TYP, algorithms: ALGORITHMS,
        currentDate: new Date(this.#deps.clock.now()), clockTolerance: 30, requiredClaims: ['sub', 'exp', 'jti', 'client_id'],
      }));
    } catch (err) {
      const why = err instanceof joseErrors.JWTExpired ? 'the assertion has expired'
        : err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'aud' ? 'the assertion is for another audience'
          : err instanceof joseErrors.JWTClaimValidationFailed ? `the assertion's ${err.claim} claim does not check out`
            : 'the assertion\'s signature does not check out';
      return refuse(why);
    }
    const exp = payload.exp as number;
    const nowSeconds = Math.floor(this.#deps.clock.now() / 1000);
    if (exp - nowSeconds > MAX_LIFE_SECONDS) return refuse('the assertion lives too long');
    if (payload.client_id !== client_id) return refuse('the assertion was issued for another client');
    if (typeof payload.jti !== 'string' || payload.jti.length > 256) return refuse('the assertion\'s jti is not usable');
    const link = await this.#deps.store.getLink(org_id, idp.issuer, String(payload.sub));
    const user = link && await this.#deps.directory.getUser(org_id, link.user_id);
    if (!user) return refuse('the assertion names no user of this organisation');
    // Last, so that a forged or misdirected assertion never spends its jti.
    const key = `id-jag:${createHash('sha256').update(`${idp.issuer}\0${payload.jti}`).digest('base64url')}`;
    if (!(await this.#deps.replay.claimOnce(key, new Date((exp + 60) * 1000)))) return refuse('the assertion has been used already', { jti: payload.jti });
    return {
      user, issuer: idp.issuer, jti: payload.jti, exp,
      scope: typeof payload.scope === 'string' ? payload.scope : undefined,
      resource: typeof payload.resource === 'string' ? payload.resource : undefined,
    };
  }
}
