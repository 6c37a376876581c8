import { createHash, type KeyObject } from 'node:crypto';
import {
  isCapabilityError, keySourceOf, verifyCapability,
  type BiscuitRootKey, type JwtSigningKey, type VerifiedCapability,
} from '../capability/index.ts';
import type { Clock } from '../core/clock.ts';
import { WritError } from '../errors/index.ts';

/**
 * What a subject token proves, whatever its format: the verified capability's fields the exchange
 * decides on, or the same fields read from one of the server's delegated access tokens.
 */
export interface Subject extends Pick<VerifiedCapability, 'org_id' | 'principal' | 'sub' | 'auth_event_id' | 'rights' | 'exp' | 'cnf' | 'single_use'> {
  kind: 'delegated' | 'capability';
  format: 'access_token' | VerifiedCapability['format'];
  /** Agents that hold it, acting agent first. For a delegated token: the client it was issued to. */
  chain: string[];
  /** An identifier of the subject token that is safe to record (never the token itself). */
  ref: string;
  /** RFC 8693 §4.4: who may act on it, when the token says. */
  may_act?: { sub: string } | undefined;
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

/**
 * The one capability verification, as the server itself applies it: its own keys, and the
 * audiences it issues to for the capability's org (RFC 7519 §4.1.3). A holder may re-delegate a
 * capability minted for any of them; where the new token may be spent is decided again for it.
 */
export function verifyOwnCapability(token: string, deps: CapabilityCheckDeps, format?: VerifiedCapability['format']): Promise<VerifiedCapability> {
  return verifyCapability(token, {
    issuer: deps.issuer, clock: deps.clock, keys: keySourceOf(deps.keys),
    audiences: (aud, org_id) => deps.isAudience(org_id, aud),
    ...(format !== undefined && { format }),
  });
}

const notValid = (why: string, cause?: unknown) => new WritError('invalid_grant', `the subject token is not valid: ${why}`, { cause });

/** The exchange's view of a verified capability presented as a subject. */
export function subjectOf(capability: VerifiedCapability): Subject {
  return {
    kind: 'capability', format: capability.format, org_id: capability.org_id, principal: capability.principal, sub: capability.sub,
    chain: capability.actor_chain, auth_event_id: capability.auth_event_id, rights: capability.rights, exp: capability.exp,
    ref: capability.jti, single_use: capability.single_use, cnf: capability.cnf,
  };
}

/** Verifies one of Writ's own capabilities presented as a subject (sub-agent chains). */
export async function capabilitySubject(token: string, format: VerifiedCapability['format'], deps: CapabilityCheckDeps): Promise<Subject> {
  let capability: VerifiedCapability;
  try {
    capability = await verifyOwnCapability(token, deps, format);
  } catch (err) {
    if (isCapabilityError(err)) throw notValid(err.code === 'expired' ? 'it has expired' : err.description, err);
    throw notValid('it could not be verified', err);
  }
  // A holder's attenuation blocks are Datalog checks whose effect on rights cannot be read back
  // as facts; exchanging such a token could widen it, so only unattenuated Biscuits are exchanged.
  if (capability.revocation_ids.length > 1) {
    throw notValid('an attenuated Biscuit can be presented where it is accepted, not exchanged for another token');
  }
  return subjectOf(capability);
}
