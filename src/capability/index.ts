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
export type { RootKeyResolver } from './biscuit-runtime.ts';
export { warmUpBiscuit } from './biscuit-warm-up.ts';
