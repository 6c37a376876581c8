// Capability tokens: pure minting, attenuation and verification for both formats.
export * from './claims.ts';
export * from './errors.ts';
export * from './access.ts';
export * from './jwt.ts';
export * from './keys.ts';
export { BoundedMap, type BoundedMapOptions } from './bounded-map.ts';
export { DEFAULT_BISCUIT_LIMITS, readBiscuitEnvelope, type BiscuitEnvelope, type BiscuitLimits } from './envelope.ts';
export {
  BISCUIT_TOKEN_TYPE,
  attenuateBiscuit,
  attenuationBlock,
  authorityBlock,
  authorizeBiscuit,
  authorizeOpenedBiscuit,
  authorityFactsStats,
  globParts,
  mintBiscuitCapability,
  openBiscuit,
  UnknownRootKeyError,
  verifierCode,
  type Attenuation,
  type BiscuitAuthorizeOptions,
  type BiscuitFacts,
  type BiscuitRequest,
  type MintedBiscuit,
  type OpenedBiscuit,
  type OpenOptions,
  type RootKeyResolver,
} from './biscuit.ts';
