// Capability tokens: pure minting, attenuation and verification for both formats.
export * from './claims.ts';
export * from './errors.ts';
export * from './access.ts';
export * from './jwt.ts';
export * from './keys.ts';
export * from './verified.ts';
export * from './sources.ts';
export * from './verify.ts';
export { BoundedMap, type BoundedMapOptions } from './bounded-map.ts';
export { DEFAULT_BISCUIT_LIMITS, readBiscuitEnvelope, type BiscuitEnvelope, type BiscuitLimits } from './envelope.ts';
export { BISCUIT_TOKEN_TYPE, authorityBlock, mintBiscuitCapability, type MintedBiscuit } from './biscuit-mint.ts';
export {
  authorityFactsStats,
  openBiscuit,
  UnknownRootKeyError,
  type BiscuitFacts,
  type OpenedBiscuit,
  type OpenOptions,
} from './biscuit-open.ts';
export { authorizeBiscuit, authorizeOpenedBiscuit, verifierCode, type BiscuitAuthorizeOptions, type BiscuitRequest } from './biscuit-authorise.ts';
export { attenuateBiscuit, attenuationBlock, type Attenuation } from './biscuit-attenuate.ts';
export { globParts } from './biscuit-checks.ts';
export { biscuitWasm, loadBiscuit, type RootKeyResolver } from './biscuit-runtime.ts';
// Writ's own process loads biscuit-wasm at start (warmUpBiscuit), so whoever imports the whole
// capability room gets its synchronous Biscuit functions ready to call. The verifier library never
// imports this module: it loads biscuit-wasm only with its first Biscuit.
await loadBiscuit();
export { warmUpBiscuit } from './biscuit-warm-up.ts';
import { loadBiscuit } from './biscuit-runtime.ts';
