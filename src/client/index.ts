// `writ/client`: the agent SDK. Token exchange for capabilities, tool execution with typed
// errors and bounded retries, automatic DPoP, and framework-shaped tool adapters.
export { WritClient, TOKEN_EXCHANGE_GRANT, CIBA_GRANT, TOKEN_TYPES } from './client.ts';
export type { WritClientOptions, ExchangeOptions, Capability, ToolAccessDetail, ApprovalRequestOptions, ApprovalRequest, AwaitApprovalOptions } from './client.ts';
export { WritClientError, TokenExchangeError, ExecutorError } from './errors.ts';
export type { ExecutorErrorCode } from './errors.ts';
export { createDpopKey, dpopProof } from './dpop.ts';
export type { DpopKey, ProofRequest } from './dpop.ts';
export { modelToolName, describeRefusal } from './adapters.ts';
export type { ToolDescription, CapabilitySource, AdapterOptions } from './adapters.ts';
export { aiSdkTools } from './ai-sdk.ts';
export type { AiSdkHelpers, AiSdkTool } from './ai-sdk.ts';
export { langChainTools } from './langchain.ts';
export type { LangChainHelpers, LangChainToolFields } from './langchain.ts';
export { openAiAgentsTools } from './openai-agents.ts';
export type { OpenAiAgentsHelpers, OpenAiAgentsToolSpec } from './openai-agents.ts';
