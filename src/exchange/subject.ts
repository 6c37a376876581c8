import { createHash } from 'node:crypto';
import {
  openBiscuit, parseCompactJws, verifyJwtCapability, isCapabilityError, actorChain,
  type BiscuitRootKey, type JwtSigningKey,
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

/** Reads `aud` before verification only to choose what to verify against; nothing else is trusted. */
function unverifiedAudience(token: string): unknown {
  try {
    const { payloadSegment } = parseCompactJws(token);
    return (JSON.parse(Buffer.from(payloadSegment, 'base64url').toString('utf8')) as { aud?: unknown }).aud;
  } catch {
    return undefined;
  }
}

const notValid = (why: string, cause?: unknown) => new WritError('invalid_grant', `the subject token is not valid: ${why}`, { cause });

/** Verifies one of Writ's own capabilities presented as a subject (sub-agent chains). */
export function capabilitySubject(token: string, format: 'jwt' | 'biscuit', deps: { issuer: string; clock: Clock; keys: CapabilityKeys }): Subject {
  try {
    if (format === 'jwt') {
      // The holder may re-delegate a capability minted for any audience: verify it against the
      // audience it names; where it may be spent is decided again for the new token.
      const aud = unverifiedAudience(token);
      if (typeof aud !== 'string') throw notValid('it names no audience');
      const claims = verifyJwtCapability(token, {
        issuer: deps.issuer, audience: aud, keys: (kid) => deps.keys.jwtVerificationKey(kid), clock: deps.clock,
      });
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
    return {
      kind: 'capability', format, org_id: facts.org_id, principal: facts.principal, sub: facts.sub, chain: facts.actor_chain,
      auth_event_id: facts.auth_event_id, rights: facts.authorization_details, exp: facts.exp, ref: facts.jti,
      single_use: facts.single_use, cnf: facts.cnf,
    };
  } catch (err) {
    if (err instanceof WritError && err.code === 'invalid_grant') throw err;
    if (isCapabilityError(err)) throw notValid(err.code === 'expired' ? 'it has expired' : err.description, err);
    throw notValid('it could not be verified', err);
  }
}
