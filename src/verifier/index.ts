// Writ's verifier library for downstream services: checks JWT and Biscuit capabilities with the
// issuer's published keys and revocation feed (or any KeySource and RevocationSource). Depends on
// nothing but Node, jose, biscuit-wasm and zod — never on Koa, MongoDB, oidc-provider or Writ's
// server code.
export { createVerifier, type Verifier, type VerifierOptions, type VerifyRequest, type VerifiedCapability } from './verifier.ts';
export type { KeySource, RevocationSource, RevocationType } from '../capability/sources.ts';
export { VerifierError, type VerifierErrorCode } from './errors.ts';
export {
  verifyRequest, type HttpRequestParts, type CapabilityRequirement, type RequirementResolver, type VerifyRequestOptions,
  type RequestVerdict, type CapabilityRefusal,
} from './http.ts';
// The Koa middleware needs no Koa import; Express, Fastify, Hono and MCP have their own entry points.
export { requireCapability, type CapabilityContext, type RequireCapabilityOptions } from './koa.ts';
export { jwkThumbprint, type DpopPresentation } from './dpop.ts';
export { MemoryReplayStore, type ReplayStore } from './replay.ts';
export { DEFAULT_BISCUIT_LIMITS, type BiscuitLimits } from '../capability/envelope.ts';
export { attenuateBiscuit, type Attenuation } from '../capability/biscuit-attenuate.ts';
export type { ToolAccessDetail, ArgumentConstraint } from '../rights/rights.ts';
export { warmUpBiscuit } from '../capability/biscuit-warm-up.ts';
// biscuit-wasm loads with the first Biscuit the verifier sees; attenuateBiscuit, which is
// synchronous, needs it loaded first (or use Verifier.attenuate, which loads it).
export { loadBiscuit } from '../capability/biscuit-runtime.ts';
// Worker threads for Biscuits (`biscuitWorkers`), recycled as biscuit-wasm's memory grows.
export { BiscuitPool, type BiscuitPoolOptions } from '../capability/biscuit-pool.ts';
