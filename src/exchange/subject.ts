import { createHash } from 'node:crypto';
import {
  openBiscuit, verifyJwtCapability, isCapabilityError, actorChain,
  type BiscuitRootKey, type CapabilityClaims, type JwtSigningKey,
} from '../capability/index.ts';
import type { Clock } from '../core/clock.ts';
import type { ToolAccessDetail } from '../core/rights.ts';
import { WritError } from '../errors/index.ts';
import type { KeyObject } from 'node:crypto';

/** What a subject token proves, whatever its format. */
export interface Subject {
  kind: 'delegated' | 'capability';
  format: 'access_token' | 'jwt' | 'biscuit';
  org_id: string;
  principal: 'user' | 'org';
  /** User id, or the org id for org-level delegation. */
  sub: string;
  /** Agents that hold it, acting agent first. For a delegated token: the client it was issued to. */
  chain: string[];
  auth_event_id: string;
  rights: ToolAccessDetail[];
  /** Epoch seconds. */
  exp: number;
  /** An identifier of the subject token that is safe to record (never the token itself). */
  ref: string;
  /** RFC 8693 §4.4: who may act on it, when the token says. */
  may_act?: { sub: string } | undefined;
  single_use?: boolean | undefined;
  /** RFC 9449: the DPoP key the subject is bound to; the exchange must prove the same key. */
  cnf?: { jkt: string } | undefined;
}

export interface CapabilityKeys {
  readonly capabilitySigningKey: JwtSigningKey;
  readonly biscuitRootKey: BiscuitRootKey;
  jwtVerificationKey(kid: string): KeyObject | undefined;
  biscuitRootKeyById(kid: number | undefined): BiscuitRootKey | undefined;
}

/** A reference to an opaque token that can be recorded: a digest, never the value. */
export function tokenReference(prefix: string, token: string): string {
  return `${prefix}_${createHash('sha256').update(token).digest('base64url').slice(0, 22)}`;
}

/**
 * Is this an audience the server issues capabilities to, for this org? The executor, and resource
 * servers an admin registered (for every org, or for this one). Nothing else: not the issuer, not
 * a value a token brings with it.
 */
export type AudienceCheck = (org_id: string, audience: string) => Promise<boolean>;

export interface CapabilityCheckDeps { issuer: string; clock: Clock; keys: CapabilityKeys; isAudience: AudienceCheck }

class NotOurAudience extends Error {}

/**
 * Verifies a JWT capability whose audience is one this server issues to (RFC 7519 §4.1.3: a token
 * not for an audience the recipient accepts is rejected). The verifier checks one audience, and
 * the accepted set depends on the verified org; so the signature, issuer and times are verified
 * first, then the signed `aud` must be in that set. The claim is never its own reference.
 */
export async function verifyCapabilityJwt(token: string, deps: CapabilityCheckDeps): Promise<CapabilityClaims> {
  const claims = await verifyJwtCapability(token, {
    issuer: deps.issuer, keys: (kid) => deps.keys.jwtVerificationKey(kid), clock: deps.clock,
  });
  if (!(await deps.isAudience(claims.org_id, claims.aud))) throw new NotOurAudience('it is not for an audience this server issues to');
  return claims;
}

/** The same rule for a Biscuit: its signed `intended_audience` must be one the server issues to. */
export async function checkBiscuitAudience(facts: { org_id: string; aud: string }, deps: CapabilityCheckDeps): Promise<void> {
  if (!(await deps.isAudience(facts.org_id, facts.aud))) throw new NotOurAudience('it is not for an audience this server issues to');
}

const notValid = (why: string, cause?: unknown) => new WritError('invalid_grant', `the subject token is not valid: ${why}`, { cause });

/** Verifies one of Writ's own capabilities presented as a subject (sub-agent chains). */
export async function capabilitySubject(token: string, format: 'jwt' | 'biscuit', deps: CapabilityCheckDeps): Promise<Subject> {
  try {
    if (format === 'jwt') {
      // A holder may re-delegate a capability minted for any audience the server issues to; where
      // the new token may be spent is decided again for it.
      const claims = await verifyCapabilityJwt(token, deps);
      return {
        kind: 'capability', format, org_id: claims.org_id, principal: claims.principal, sub: claims.sub,
        chain: actorChain(claims.act), auth_event_id: claims.auth_event_id, rights: claims.authorization_details,
        exp: claims.exp, ref: claims.jti, single_use: claims.single_use, cnf: claims.cnf,
        may_act: (claims as { may_act?: { sub: string } }).may_act,
      };
    }
    const opened = openBiscuit(token, (kid) => deps.keys.biscuitRootKeyById(kid)?.publicKey);
    const facts = opened.facts;
    opened.biscuit.free();
    // A holder's attenuation blocks are Datalog checks whose effect on rights cannot be read back
    // as facts; exchanging such a token could widen it, so only unattenuated Biscuits are exchanged.
    if (facts.revocation_ids.length > 1) {
      throw notValid('an attenuated Biscuit can be presented where it is accepted, not exchanged for another token');
    }
    if (facts.exp * 1000 <= deps.clock.now()) throw notValid('it has expired');
    await checkBiscuitAudience(facts, deps);
    return {
      kind: 'capability', format, org_id: facts.org_id, principal: facts.principal, sub: facts.sub, chain: facts.actor_chain,
      auth_event_id: facts.auth_event_id, rights: facts.authorization_details, exp: facts.exp, ref: facts.jti,
      single_use: facts.single_use, cnf: facts.cnf,
    };
  } catch (err) {
    if (err instanceof WritError && err.code === 'invalid_grant') throw err;
    if (err instanceof NotOurAudience) throw notValid(err.message);
    if (isCapabilityError(err)) throw notValid(err.code === 'expired' ? 'it has expired' : err.description, err);
    throw notValid('it could not be verified', err);
  }
}
