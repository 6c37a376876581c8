// `writ/client`: the agent SDK. Token exchange for capabilities, tool execution with typed
// errors and bounded retries, automatic DPoP, and framework-shaped tool adapters.
export { WritClient, TOKEN_EXCHANGE_GRANT, TOKEN_TYPES } from './client.ts';
export type { WritClientOptions, ExchangeOptions, Capability, ToolAccessDetail } from './client.ts';
export { WritClientError, TokenExchangeError, ExecutorError } from './errors.ts';
export type { ExecutorErrorCode } from './errors.ts';
export { createDpopKey, dpopProof } from './dpop.ts';
export type { DpopKey, ProofRequest } from './dpop.ts';
export { toAiSdkTools, toLangChainTools, modelToolName } from './adapters.ts';
export type { AiSdkTool, LangChainTool, ToolDescription, CapabilitySource } from './adapters.ts';
