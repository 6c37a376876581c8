// Writ tools for LangChain.js (`@langchain/core` 1.x) and LangGraph: built with LangChain's own
// `tool()` over the Writ tool's JSON Schema, so they are StructuredTools. Agent loops (ToolNode,
// `createAgent`, `createReactAgent`) call `tool.invoke(toolCall)` with the whole ToolCall and
// expect a ToolMessage back; only LangChain's tool class does that unwrapping and wrapping.

import type { WritClient } from './client.ts';
import { asText, inputSchemaOf, modelToolName, runWritTool, type AdapterOptions, type CapabilitySource, type ToolDescription } from './adapters.ts';

/** What the adapter hands to LangChain's `tool(func, fields)`. */
export interface LangChainToolFields {
  name: string;
  description: string;
  schema: Record<string, unknown>;
}

/** LangChain's helper, passed in: `import { tool } from '@langchain/core/tools'`. */
export interface LangChainHelpers<T> extends AdapterOptions {
  tool: (func: (input: any) => Promise<string>, fields: LangChainToolFields) => T;
}

/** StructuredTools for `model.bindTools(…)`, `new ToolNode(…)` and the prebuilt agents. Answers are JSON text. */
export function langChainTools<T>(client: WritClient, tools: ToolDescription[], capability: CapabilitySource, helpers: LangChainHelpers<T>): T[] {
  return tools.map((t) => helpers.tool(
    async (input: Record<string, unknown>) => asText(await runWritTool(client, t.name, input, capability, helpers)),
    { name: modelToolName(t.name), description: t.description ?? t.name, schema: inputSchemaOf(t) },
  ));
}
