// Writ tools for the OpenAI Agents SDK (`@openai/agents`): its `tool({ name, description,
// parameters, strict, execute })`. Writ's schemas are plain JSON Schema with optional fields, which
// strict mode would reject, so they go in with `strict: false`.

import type { WritClient } from './client.ts';
import { asText, inputSchemaOf, modelToolName, runWritTool, type AdapterOptions, type CapabilitySource, type ToolDescription } from './adapters.ts';

/** What the adapter hands to the Agents SDK's `tool()`. */
export interface OpenAiAgentsToolSpec {
  name: string;
  description: string;
  parameters: any;
  strict: false;
  execute(input: any): Promise<string>;
  /** `null` lets a thrown refusal end the run (only with `throwOnError`). */
  errorFunction?: null;
}

/** The Agents SDK's helper, passed in: `import { tool } from '@openai/agents'`. */
export interface OpenAiAgentsHelpers<T> extends AdapterOptions {
  tool: (spec: OpenAiAgentsToolSpec) => T;
}

/** FunctionTools for `new Agent({ tools })`. Answers are JSON text. */
export function openAiAgentsTools<T>(client: WritClient, tools: ToolDescription[], capability: CapabilitySource, helpers: OpenAiAgentsHelpers<T>): T[] {
  return tools.map((t) => helpers.tool({
    name: modelToolName(t.name),
    description: t.description ?? t.name,
    parameters: inputSchemaOf(t),
    strict: false,
    execute: async (input: Record<string, unknown>) => asText(await runWritTool(client, t.name, input, capability, helpers)),
    // Otherwise the SDK would swallow a thrown refusal into a generic message.
    ...(helpers.throwOnError ? { errorFunction: null } : {}),
  }));
}
