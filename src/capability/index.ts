// Capability tokens: pure minting, attenuation and verification for both formats.
export * from './claims.ts';
export * from './errors.ts';
export * from './access.ts';
export * from './jwt.ts';
export * from './keys.ts';
export {
  BISCUIT_TOKEN_TYPE,
  attenuateBiscuit,
  attenuationBlock,
  authorityBlock,
  authorizeBiscuit,
  authorizeOpenedBiscuit,
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
  type RootKeyResolver,
} from './biscuit.ts';
