import { systemClock, type Clock } from '../core/clock.ts';
import type { ToolAccessDetail } from '../core/rights.ts';
import { constrainableInput, decideAccess, requestedResource, type AccessRequest } from '../capability/access.ts';
import { attenuateBiscuit, type Attenuation } from '../capability/biscuit-attenuate.ts';
import { authorizeOpenedBiscuit } from '../capability/biscuit-authorise.ts';
import { openBiscuit, UnknownRootKeyError, type OpenedBiscuit } from '../capability/biscuit-open.ts';
import { actorChain } from '../capability/claims.ts';
import { CapabilityError } from '../capability/errors.ts';
import { jwtKeyId, verifyJwtCapability } from '../capability/jwt.ts';
import { BoundedMap } from '../capability/bounded-map.ts';
import { DEFAULT_BISCUIT_LIMITS, type BiscuitLimits } from '../capability/envelope.ts';
import { tokenCache } from './cache.ts';
import { DpopChecker, type DpopPresentation } from './dpop.ts';
import { MemoryReplayStore, type ReplayStore } from './replay.ts';
import { VerifierError } from './errors.ts';
import { RevocationFeed } from './feed.ts';
import { Keyring } from './keyring.ts';

export interface VerifierOptions {
  /** The Writ issuer, exactly as in its metadata (`https://writ.example`). */
  issuer: string;
  /** This service's identifier: capabilities must name it as their audience. */
  audience: string;
  fetch?: typeof fetch;
  clock?: Clock;
  feed?: {
    /** Seconds the issuer may hold a revocation poll open (default 25). */
    wait?: number;
    /** How long `verify` waits for the first read of the feed before refusing (default 10 s). */
    syncTimeoutSec?: number;
  };
  /** Minimum seconds between key refreshes triggered by an unknown key id (default 5). */
  keyRefreshIntervalSec?: number;
  /** Leeway for JWT time claims, in seconds (default 0). */
  clockToleranceSec?: number;
  /** Verified tokens remembered (default 10,000). */
  cacheSize?: number;
  /** Memory the cache of verified tokens may hold, opened Biscuits' wasm memory included (default 64 MiB). */
  cacheBytes?: number;
  /** Largest Biscuit accepted, checked before it is parsed (default 8 KiB and 8 blocks). */
  biscuitLimits?: Partial<BiscuitLimits>;
  /** Where DPoP proof ids are claimed once; share one between processes (default: this process's memory). */
  replayStore?: ReplayStore;
  onError?: (error: unknown) => void;
}

export interface VerifyRequest extends AccessRequest {
  /** RFC 9449: the `DPoP` header, method and URL of the request, when the caller sent one. */
  dpop?: DpopPresentation;
}

export interface VerifiedCapability {
  format: 'jwt' | 'biscuit';
  org_id: string;
  principal: 'user' | 'org';
  /** The user id, or the org id for an org-level capability. */
  sub: string;
  client_id: string;
  /** Acting agent first, then whoever it acts for (RFC 8693 §4.1 `act`, flattened). */
  actor_chain: string[];
  rights: ToolAccessDetail[];
  jti: string;
  auth_event_id: string;
  /** Seconds since the epoch. */
  exp: number;
  cnf?: { jkt: string };
  single_use?: boolean;
}

export interface Verifier {
  verify(token: string, request: VerifyRequest): Promise<VerifiedCapability>;
  /**
   * Who the capability speaks for — signature, issuer, audience, expiry and revocation checked —
   * without deciding any request. For routing (which org's catalog holds the tool) before `verify`.
   */
  identify(token: string): Promise<VerifiedCapability>;
  /** Append a block that only restricts (a holder's offline delegation). */
  attenuate(biscuit: string, attenuation: Attenuation): Promise<string>;
  /** Stop following the revocation feed and drop cached tokens. */
  close(): void;
}

/** One token string, verified once: its description and what revocation must be checked. */
interface CacheEntry {
  result: VerifiedCapability;
  revocationIds: string[];
  opened?: OpenedBiscuit;
  /** Biscuit decisions for a request key, valid for one second of Biscuit's second-precision time. */
  decisions?: BoundedMap<string, number>;
}

const MAX_JWT_LENGTH = 64 * 1024;

/** Cached results are shared between calls, so nobody may change them. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function refuse(error: unknown): never {
  if (error instanceof VerifierError) throw error;
  if (error instanceof CapabilityError) throw VerifierError.from(error);
  throw error;
}

/** The inputs a Biscuit decision depends on, as one string. */
function requestKey(request: VerifyRequest, dpopJkt: string | undefined): string {
  const input = [...constrainableInput(request.input)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([request.tool, requestedResource(request.resource), dpopJkt ?? null, input]);
}

export function createVerifier(options: VerifierOptions): Verifier {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const clock = options.clock ?? systemClock;
  const issuer = options.issuer;
  const keyring = new Keyring({
    issuer,
    fetch: fetchImpl,
    refreshIntervalSec: options.keyRefreshIntervalSec ?? 5,
    now: () => clock.now(),
  });
  const feed = new RevocationFeed({
    url: `${issuer.replace(/\/$/, '')}/v1/revocations`,
    fetch: fetchImpl,
    wait: options.feed?.wait ?? 25,
    ...(options.onError && { onError: options.onError }),
  });
  const dpop = new DpopChecker(clock, options.replayStore ?? new MemoryReplayStore({ now: () => clock.now() }));
  const biscuitLimits: BiscuitLimits = { ...DEFAULT_BISCUIT_LIMITS, ...options.biscuitLimits };
  const cache = tokenCache<CacheEntry>({
    ...(options.cacheSize !== undefined && { maxEntries: options.cacheSize }),
    ...(options.cacheBytes !== undefined && { maxBytes: options.cacheBytes }),
  });
  let keysLoaded: Promise<void> | undefined;

  async function ready(): Promise<void> {
    keysLoaded ??= keyring.load().catch((error: unknown) => {
      keysLoaded = undefined;
      options.onError?.(error);
      throw new VerifierError('temporarily_unavailable', 'the issuer\'s keys could not be loaded');
    });
    await keysLoaded;
    if (!feed.synced && !(await feed.whenSynced((options.feed?.syncTimeoutSec ?? 10) * 1000))) {
      throw new VerifierError('temporarily_unavailable', 'the revocation feed could not be read');
    }
  }

  function checkRevocation(entry: CacheEntry): void {
    const { jti, auth_event_id } = entry.result;
    if (
      feed.isRevoked('jti', jti) ||
      feed.isRevoked('auth_event_id', auth_event_id) ||
      entry.revocationIds.some((id) => feed.isRevoked('biscuit_revocation_id', id))
    ) {
      throw new VerifierError('revoked', 'the capability has been revoked', { capability: entry.result });
    }
  }

  async function openJwt(token: string): Promise<CacheEntry> {
    const kid = jwtKeyId(token);
    if (kid !== undefined && !keyring.jwtKey(kid)) await keyring.refreshForUnknownKey();
    const claims = await verifyJwtCapability(token, {
      issuer,
      audience: options.audience,
      keys: (id) => keyring.jwtKey(id),
      clock,
      ...(options.clockToleranceSec !== undefined && { clockToleranceSec: options.clockToleranceSec }),
      // opened() checks exp next, for cached and new tokens alike, and says whose token expired.
      skipExpiry: true,
    });
    return {
      revocationIds: [],
      result: {
        format: 'jwt',
        org_id: claims.org_id,
        principal: claims.principal,
        sub: claims.sub,
        client_id: claims.client_id,
        actor_chain: claims.act ? actorChain(claims.act) : [claims.client_id],
        rights: claims.authorization_details,
        jti: claims.jti,
        auth_event_id: claims.auth_event_id,
        exp: claims.exp,
        ...(claims.cnf && { cnf: claims.cnf }),
        ...(claims.single_use && { single_use: true }),
      },
    };
  }

  async function openBiscuitEntry(token: string): Promise<CacheEntry> {
    let opened: OpenedBiscuit;
    try {
      opened = openBiscuit(token, (kid) => keyring.biscuitKey(kid), { limits: biscuitLimits });
    } catch (error) {
      if (!(error instanceof UnknownRootKeyError) || !(await keyring.refreshForUnknownKey())) throw error;
      opened = openBiscuit(token, (kid) => keyring.biscuitKey(kid), { limits: biscuitLimits });
    }
    const f = opened.facts;
    if (f.iss !== issuer) {
      opened.biscuit.free();
      throw new VerifierError('invalid_token', 'unexpected issuer');
    }
    return {
      opened,
      revocationIds: f.revocation_ids,
      decisions: new BoundedMap({ maxEntries: 64 }),
      result: {
        format: 'biscuit',
        org_id: f.org_id,
        principal: f.principal,
        sub: f.sub,
        client_id: f.client_id,
        actor_chain: f.actor_chain,
        rights: f.authorization_details,
        jti: f.jti,
        auth_event_id: f.auth_event_id,
        exp: f.exp,
        ...(f.cnf && { cnf: f.cnf }),
        ...(f.single_use && { single_use: true }),
      },
    };
  }

  /** Signature, issuer, audience, expiry and revocation: everything but the request itself. */
  async function opened(token: string): Promise<CacheEntry> {
    if (typeof token !== 'string' || token.length === 0) throw new VerifierError('invalid_token', 'malformed token');
    // Compact JWS has two dots; a Biscuit is one base64url string. Size is refused before any work.
    const isJwt = token.includes('.');
    const maxLength = isJwt ? MAX_JWT_LENGTH : biscuitLimits.maxBytes;
    if (token.length > maxLength) throw new VerifierError('invalid_token', `the token is larger than ${maxLength} bytes`);
    await ready();
    let entry = cache.get(token);
    if (!entry) {
      entry = isJwt ? await openJwt(token) : await openBiscuitEntry(token);
      deepFreeze(entry.result);
      cache.set(token, entry);
    }
    if (entry.result.exp * 1000 <= clock.now() - (options.clockToleranceSec ?? 0) * 1000) {
      cache.delete(token);
      throw new VerifierError('expired', 'the capability has expired', { capability: entry.result });
    }
    // Revocation is checked on every call, cached or not.
    checkRevocation(entry);
    return entry;
  }

  async function identify(token: string): Promise<VerifiedCapability> {
    try {
      return (await opened(token)).result;
    } catch (error) {
      refuse(error);
    }
  }

  async function verify(token: string, request: VerifyRequest): Promise<VerifiedCapability> {
    if (typeof request?.tool !== 'string') throw new TypeError('verify needs the tool being called');
    try {
      const entry = await opened(token);
      const { result } = entry;
      const nowMs = clock.now();

      let dpopJkt: string | undefined;
      if (result.cnf) {
        // RFC 9449 §7.1: a bound token needs a proof from the bound key.
        if (!request.dpop) throw new VerifierError('dpop_required', 'the capability is bound to a DPoP key');
        dpopJkt = await dpop.check(request.dpop, token);
        if (dpopJkt !== result.cnf.jkt) throw new VerifierError('invalid_dpop_proof', 'the DPoP proof is not from the bound key');
      }

      if (entry.opened) {
        // Biscuit time has second precision, so a decision holds for the rest of its second.
        const second = Math.floor(nowMs / 1000);
        const key = requestKey(request, dpopJkt);
        if (entry.decisions!.get(key) !== second) {
          authorizeOpenedBiscuit(entry.opened, {
            now: nowMs,
            tool: request.tool,
            ...(request.resource !== undefined && { resource: request.resource }),
            audience: options.audience,
            ...(request.input !== undefined && { input: request.input }),
            ...(dpopJkt !== undefined && { dpopJkt }),
          });
          entry.decisions!.set(key, second);
        }
      } else {
        decideAccess(result.rights, request);
      }
      return result;
    } catch (error) {
      refuse(error);
    }
  }

  return {
    verify,
    identify,
    async attenuate(biscuit, attenuation) {
      await ready();
      try {
        try {
          return attenuateBiscuit(biscuit, (kid) => keyring.biscuitKey(kid), { clock, limits: biscuitLimits, ...attenuation });
        } catch (error) {
          if (!(error instanceof UnknownRootKeyError) || !(await keyring.refreshForUnknownKey())) throw error;
          return attenuateBiscuit(biscuit, (kid) => keyring.biscuitKey(kid), { clock, limits: biscuitLimits, ...attenuation });
        }
      } catch (error) {
        refuse(error);
      }
    },
    close() {
      feed.close();
      cache.clear();
    },
  };
}
