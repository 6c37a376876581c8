// Writ tools for the Vercel AI SDK (`ai` 5 and later): the objects its `tool()` helper returns
// (`tool()` only carries types), `{ description, inputSchema, execute }`, with the Writ tool's JSON
// Schema wrapped by the SDK's own `jsonSchema()`. `ai` 5 dropped the older `parameters` key: a tool
// built with it reached the model with an empty schema.

import type { WritClient } from './client.ts';
import { inputSchemaOf, modelToolName, runWritTool, type AdapterOptions, type CapabilitySource, type ToolDescription } from './adapters.ts';

/** One Writ tool in the AI SDK's shape; `Schema` is what the SDK's `jsonSchema()` returns. */
export interface AiSdkTool<Schema> {
  description: string;
  inputSchema: Schema;
  execute(input: Record<string, unknown>): Promise<unknown>;
}

/** The AI SDK's helper, passed in (`import { jsonSchema } from 'ai'`), so `ai` loads only where it is used. */
export interface AiSdkHelpers<Schema> extends AdapterOptions {
  jsonSchema: (schema: any) => Schema;
}

/**
 * `{ [modelToolName]: tool }`, ready for `generateText({ tools })` / `streamText({ tools })`. With
 * `throwOnError` a refusal is thrown from `execute`; the AI SDK then hands the model a tool error.
 */
export function aiSdkTools<Schema>(client: WritClient, tools: ToolDescription[], capability: CapabilitySource, helpers: AiSdkHelpers<Schema>): Record<string, AiSdkTool<Schema>> {
  return Object.fromEntries(tools.map((t) => [modelToolName(t.name), {
    description: t.description ?? t.name,
    inputSchema: helpers.jsonSchema(inputSchemaOf(t)),
    execute: (input) => runWritTool(client, t.name, input, capability, helpers),
  } satisfies AiSdkTool<Schema>]));
}
