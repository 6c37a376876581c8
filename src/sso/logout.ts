import { createHash } from 'node:crypto';
import { decodeJwt, jwtVerify } from 'jose';
import { WritError } from '../errors/index.ts';
import type { OidcStore } from '../storage/ports/oidc.ts';
import type { ProviderTokenDeps } from './id-jag.ts';

// The provider's own logout (OpenID Connect Back-Channel Logout 1.0): when a person signs out at
// the org's identity provider, it POSTs a logout token to `/sso/backchannel-logout/{org}`. Writ
// checks it (signed by that provider's keys, `iss` the provider, `aud` Writ's client id there, the
// back-channel logout event, no `nonce`, recent, a `jti` used once, a `sub` linked to a user of this
// org) and ends that person's sessions at the authorization server, so the next agent
// authorization asks them to sign in again.

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const MAX_AGE_SECONDS = 300;

export interface BackchannelLogoutDeps extends ProviderTokenDeps {
  oidc: Pick<OidcStore, 'destroySessionsOf'>;
}

export class BackchannelLogout {
  readonly #deps: BackchannelLogoutDeps;

  constructor(deps: BackchannelLogoutDeps) {
    this.#deps = deps;
  }

  /** Ends the sessions the logout token names; throws `invalid_request` for a token that does not check out. */
  async accept(org_id: string, logoutToken: string): Promise<{ sessions_ended: number }> {
    const idp = await this.#deps.store.getIdentityProvider(org_id);
    const refuse = (reason: string): never => { throw new WritError('invalid_request', reason); };
    if (!idp) return refuse('this organisation has no identity provider');
    let claimed: Record<string, unknown>;
    try { claimed = decodeJwt(logoutToken); } catch { return refuse('the logout token is not a JWT'); }
    if (claimed.iss !== idp.issuer) return refuse('the logout token is not from this organisation\'s identity provider');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(logoutToken, await this.#deps.keys(idp), {
        issuer: idp.issuer, audience: idp.client_id, currentDate: new Date(this.#deps.clock.now()), clockTolerance: 30,
        maxTokenAge: MAX_AGE_SECONDS, requiredClaims: ['iat', 'jti', 'events', 'sub'],
      }));
    } catch {
      return refuse('the logout token does not check out');
    }
    const events = payload.events as Record<string, unknown> | undefined;
    if (!events || typeof events !== 'object' || !(EVENT in events)) return refuse('the logout token carries no back-channel logout event');
    if ('nonce' in payload) return refuse('a logout token has no nonce');
    const key = `logout:${createHash('sha256').update(`${idp.issuer}\0${String(payload.jti)}`).digest('base64url')}`;
    if (!(await this.#deps.replay.claimOnce(key, new Date((this.#deps.clock.now() + (MAX_AGE_SECONDS + 60) * 1000))))) return refuse('the logout token has been used already');
    const link = await this.#deps.store.getLink(org_id, idp.issuer, String(payload.sub));
    // Someone Writ never signed in: nothing to end, and nothing to tell the provider either.
    if (!link) return { sessions_ended: 0 };
    const sessions_ended = await this.#deps.oidc.destroySessionsOf(link.user_id);
    await this.#deps.audit.record(org_id, {
      type: 'sso.logged_out', actor: { kind: 'idp', issuer: idp.issuer }, subject: { user_id: link.user_id },
      details: { sessions_ended, ...(typeof payload.sid === 'string' ? { sid: payload.sid.slice(0, 256) } : {}) },
    });
    return { sessions_ended };
  }
}
