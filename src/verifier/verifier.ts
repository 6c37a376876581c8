import { systemClock, type Clock } from '../core/clock.ts';
import { constrainableInput, decideAccess, requestedResource, type AccessRequest } from '../capability/access.ts';
import { attenuateBiscuit, type Attenuation } from '../capability/biscuit-attenuate.ts';
import { authorizeOpenedBiscuit, type BiscuitRequest } from '../capability/biscuit-authorise.ts';
import { UnknownRootKeyError, type OpenedBiscuit } from '../capability/biscuit-open.ts';
import { loadBiscuit } from '../capability/biscuit-runtime.ts';
import { CapabilityError } from '../capability/errors.ts';
import { BoundedMap } from '../capability/bounded-map.ts';
import { DEFAULT_BISCUIT_LIMITS, type BiscuitLimits } from '../capability/envelope.ts';
import type { KeySource, RevocationSource } from '../capability/sources.ts';
import type { VerifiedCapability } from '../capability/verified.ts';
import { capabilityFormat, ensureCurrent, openBiscuitInWorkers, openCapability, type VerifyCapabilityOptions } from '../capability/verify.ts';
import type { BiscuitPool } from '../capability/biscuit-pool.ts';
import { tokenCache } from './cache.ts';
import { DpopChecker, type DpopPresentation } from './dpop.ts';
import { MemoryReplayStore, type ReplayStore } from './replay.ts';
import { VerifierError } from './errors.ts';
import { RevocationFeed } from './feed.ts';
import { Keyring } from './keyring.ts';

export type { VerifiedCapability } from '../capability/verified.ts';

export interface VerifierOptions {
  /** The Writ issuer, exactly as in its metadata (`https://writ.example`). */
  issuer: string;
  /** This service's identifier: capabilities must name it as their audience. */
  audience: string;
  /** For the metadata, JWKS and feed requests of the default key and revocation sources. */
  fetch?: typeof fetch;
  /** The issuer's public keys. Default: its RFC 8414 metadata and JWKS, read over `fetch`. */
  keys?: KeySource;
  /** What the issuer has revoked. Default: its revocation feed, followed over `fetch`. */
  revocations?: RevocationSource;
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
  /**
   * Worker threads to open and authorise Biscuits on (`new BiscuitPool()` from the capability
   * module), each replaced once biscuit-wasm's never-returned memory has grown past a bound: memory
   * stays flat and authorisation stays fast however many distinct tokens a long-lived service sees.
   * Without it Biscuits are opened on this thread and opened tokens are kept in the cache.
   */
  biscuitWorkers?: Pick<BiscuitPool, 'open'>;
  /** Where DPoP proof ids are claimed once; share one between processes (default: this process's memory). */
  replayStore?: ReplayStore;
  onError?: (error: unknown) => void;
}

export interface VerifyRequest extends AccessRequest {
  /** RFC 9449: the `DPoP` header, method and URL of the request, when the caller sent one. */
  dpop?: DpopPresentation;
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
  opened?: OpenedBiscuit | undefined;
  /** Biscuit decisions for a request key, valid for one second of Biscuit's second-precision time. */
  decisions?: BoundedMap<string, number>;
}

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
  // The HTTP sources are made only when no source of that kind is given.
  const keyring = options.keys ? undefined : new Keyring({
    issuer,
    fetch: fetchImpl,
    refreshIntervalSec: options.keyRefreshIntervalSec ?? 5,
    now: () => clock.now(),
  });
  const feed = options.revocations ? undefined : new RevocationFeed({
    url: `${issuer.replace(/\/$/, '')}/v1/revocations`,
    fetch: fetchImpl,
    wait: options.feed?.wait ?? 25,
    ...(options.onError && { onError: options.onError }),
  });
  const keys: KeySource = options.keys ?? keyring!;
  const dpop = new DpopChecker(clock, options.replayStore ?? new MemoryReplayStore({ now: () => clock.now() }));
  const biscuitLimits: BiscuitLimits = { ...DEFAULT_BISCUIT_LIMITS, ...options.biscuitLimits };
  const verification: VerifyCapabilityOptions = {
    issuer,
    audiences: [options.audience],
    keys,
    clock,
    revocations: options.revocations ?? feed!,
    limits: biscuitLimits,
    ...(options.clockToleranceSec !== undefined && { clockToleranceSec: options.clockToleranceSec }),
    ...(options.biscuitWorkers && { biscuitWorkers: options.biscuitWorkers }),
  };
  const cache = tokenCache<CacheEntry>({
    ...(options.cacheSize !== undefined && { maxEntries: options.cacheSize }),
    ...(options.cacheBytes !== undefined && { maxBytes: options.cacheBytes }),
  });
  let keysLoaded: Promise<void> | undefined;

  async function ready(): Promise<void> {
    if (keyring) {
      keysLoaded ??= keyring.load().catch((error: unknown) => {
        keysLoaded = undefined;
        options.onError?.(error);
        throw new VerifierError('temporarily_unavailable', 'the issuer\'s keys could not be loaded');
      });
      await keysLoaded;
    }
    if (feed && !feed.synced && !(await feed.whenSynced((options.feed?.syncTimeoutSec ?? 10) * 1000))) {
      throw new VerifierError('temporarily_unavailable', 'the revocation feed could not be read');
    }
  }

  /**
   * Signature, issuer, audience, expiry and revocation: everything but the request itself. A Biscuit
   * seen for the first time is authorised for `authorise`, when given, in the same evaluation that
   * reads its facts; that outcome comes back as `authorised`.
   */
  async function opened(token: string, authorise?: BiscuitRequest): Promise<CacheEntry & { authorised?: { refusal?: Error } }> {
    // Malformed and oversized tokens are refused before any work.
    capabilityFormat(token, biscuitLimits);
    await ready();
    let entry: (CacheEntry & { authorised?: { refusal?: Error } }) | undefined = cache.get(token);
    if (!entry) {
      const { capability, biscuit, authorised } = await openCapability(token, verification, authorise);
      entry = { result: deepFreeze(capability), opened: biscuit, ...(capability.format === 'biscuit' && { decisions: new BoundedMap<string, number>({ maxEntries: 64 }) }) };
      cache.set(token, entry);
      if (authorised) entry = { ...entry, authorised };
    }
    // Expiry and revocation are checked on every call, cached or not.
    try {
      await ensureCurrent(entry.result, verification);
    } catch (error) {
      if (!(error instanceof CapabilityError)) throw error;
      if (error.code === 'expired') cache.delete(token);
      // Its signature, issuer and audience were good: say whose capability was refused.
      throw new VerifierError(error.code, error.description, { capability: entry.result });
    }
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
      const nowMs = clock.now();
      const biscuitRequest = (dpopJkt: string | undefined): BiscuitRequest => ({
        now: nowMs,
        tool: request.tool,
        ...(request.resource !== undefined && { resource: request.resource }),
        audience: options.audience,
        ...(request.input !== undefined && { input: request.input }),
        ...(dpopJkt !== undefined && { dpopJkt }),
      });
      // Without a DPoP proof there is nothing to learn before authorising: a fresh Biscuit is
      // opened and authorised in one evaluation (a bound one is refused below before its outcome counts).
      const entry = await opened(token, request.dpop === undefined ? biscuitRequest(undefined) : undefined);
      const { result } = entry;

      let dpopJkt: string | undefined;
      if (result.cnf) {
        // RFC 9449 §7.1: a bound token needs a proof from the bound key.
        if (!request.dpop) throw new VerifierError('dpop_required', 'the capability is bound to a DPoP key');
        dpopJkt = await dpop.check(request.dpop, token);
        if (dpopJkt !== result.cnf.jkt) throw new VerifierError('invalid_dpop_proof', 'the DPoP proof is not from the bound key');
      }

      if (result.format === 'biscuit') {
        // Biscuit time has second precision, so a decision holds for the rest of its second.
        const second = Math.floor(nowMs / 1000);
        const key = requestKey(request, dpopJkt);
        if (entry.decisions!.get(key) !== second) {
          if (entry.authorised) {
            if (entry.authorised.refusal) throw entry.authorised.refusal;
          } else if (entry.opened) {
            authorizeOpenedBiscuit(entry.opened, biscuitRequest(dpopJkt));
          } else {
            // Opened on a worker, where nothing stays open: open and authorise there again.
            const { refusal } = await openBiscuitInWorkers(token, { ...verification, biscuitWorkers: options.biscuitWorkers! }, biscuitRequest(dpopJkt));
            if (refusal) throw refusal;
          }
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
        await loadBiscuit();
        try {
          return attenuateBiscuit(biscuit, (kid) => keys.biscuitRootKey(kid), { clock, limits: biscuitLimits, ...attenuation });
        } catch (error) {
          if (!(error instanceof UnknownRootKeyError) || !(await keys.refresh?.())) throw error;
          return attenuateBiscuit(biscuit, (kid) => keys.biscuitRootKey(kid), { clock, limits: biscuitLimits, ...attenuation });
        }
      } catch (error) {
        refuse(error);
      }
    },
    close() {
      feed?.close();
      cache.clear();
    },
  };
}
