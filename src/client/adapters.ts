// Writ tools in the shapes agent frameworks expect, as plain objects (no framework package is
// needed): the Vercel AI SDK's `tool()` shape and LangChain.js's DynamicStructuredTool interface.
// Each call gets its own capability from `capability(tool)`, so the model never holds a token.

import type { WritClient } from './client.ts';

/** A tool as `GET /v1/tools` lists it. */
export interface ToolDescription {
  name: string;
  description?: string;
  input_schema?: Record<string, unknown>;
}

/** Returns a capability (token string, or `exchange`'s result) for one call of `tool`. */
export type CapabilitySource = (tool: string, input: Record<string, unknown>) => Promise<string | { token: string; tokenType: 'Bearer' | 'DPoP' }>;

/** Vercel AI SDK: `{ description, parameters, execute }`, keyed by a model-safe tool name. */
export interface AiSdkTool {
  description: string;
  /** JSON Schema of the input (wrap with the SDK's `jsonSchema()` if your version wants it). */
  parameters: Record<string, unknown>;
  execute(input: Record<string, unknown>): Promise<unknown>;
}

/** LangChain.js: the fields of a `DynamicStructuredTool` (`name`, `description`, `schema`, `func`, `invoke`). */
export interface LangChainTool {
  name: string;
  description: string;
  /** JSON Schema; LangChain accepts JSON Schema for structured tools. */
  schema: Record<string, unknown>;
  func(input: Record<string, unknown>): Promise<string>;
  invoke(input: Record<string, unknown>): Promise<string>;
}

const EMPTY_SCHEMA = { type: 'object', properties: {}, additionalProperties: false };

/** Model providers accept `^[a-zA-Z0-9_-]{1,64}$` tool names; Writ's use dots. */
export const modelToolName = (tool: string) => tool.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);

export function toAiSdkTools(client: WritClient, tools: ToolDescription[], capability: CapabilitySource): Record<string, AiSdkTool> {
  return Object.fromEntries(tools.map((t) => [modelToolName(t.name), {
    description: t.description ?? t.name,
    parameters: t.input_schema ?? EMPTY_SCHEMA,
    execute: async (input: Record<string, unknown>) => client.execute(t.name, input, await capability(t.name, input)),
  } satisfies AiSdkTool]));
}

export function toLangChainTools(client: WritClient, tools: ToolDescription[], capability: CapabilitySource): LangChainTool[] {
  return tools.map((t) => {
    // LangChain tools answer strings to the model.
    const func = async (input: Record<string, unknown>) => JSON.stringify(await client.execute(t.name, input, await capability(t.name, input)));
    return { name: modelToolName(t.name), description: t.description ?? t.name, schema: t.input_schema ?? EMPTY_SCHEMA, func, invoke: func };
  });
}
