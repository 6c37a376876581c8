// What every framework adapter shares: the tool list from `GET /v1/tools`, a fresh capability per
// call, model-safe names, and Writ's refusals turned into text the model can read and act on.
// The adapters never import a framework at run time: the caller passes its helpers in, so an
// agent loads only the framework it uses.

import type { WritClient } from './client.ts';
import { ExecutorError, WritClientError } from './errors.ts';

/** A tool as `GET /v1/tools` lists it. */
export interface ToolDescription {
  name: string;
  description?: string;
  input_schema?: Record<string, unknown>;
}

/** Returns a capability (token string, or `exchange`'s result) for one call of `tool`. */
export type CapabilitySource = (tool: string, input: Record<string, unknown>) => Promise<string | { token: string; tokenType: 'Bearer' | 'DPoP' }>;

export interface AdapterOptions {
  /**
   * Throw Writ's refusals (ExecutorError, TokenExchangeError) out of the tool instead of answering
   * the model with them; most agent loops then stop. Default false.
   */
  throwOnError?: boolean;
}

/** JSON Schema of a tool without declared input: an empty object. */
export const EMPTY_SCHEMA: Record<string, unknown> = { type: 'object', properties: {}, additionalProperties: false };

/** Model providers accept `^[a-zA-Z0-9_-]{1,64}$` tool names; Writ's use dots. */
export const modelToolName = (tool: string) => tool.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);

export const inputSchemaOf = (tool: ToolDescription): Record<string, unknown> => tool.input_schema ?? EMPTY_SCHEMA;

/**
 * Runs one Writ tool call for a framework: mints the capability, executes, and answers either the
 * data or, for a refusal, `{ error: { code, message, … } }` so the loop goes on and the model
 * sees why (a reconnect link, the failed constraint, the missing scope).
 */
export async function runWritTool(client: WritClient, tool: string, input: Record<string, unknown>, capability: CapabilitySource, options: AdapterOptions = {}): Promise<unknown> {
  try {
    return await client.execute(tool, input ?? {}, await capability(tool, input ?? {}));
  } catch (err) {
    if (options.throwOnError || !(err instanceof WritClientError)) throw err;
    return { error: describeRefusal(err) };
  }
}

/** A refusal as the model reads it. Never carries a token: the SDK's messages hold none. */
export function describeRefusal(err: WritClientError): Record<string, unknown> {
  const detail: Record<string, unknown> = { code: err.code, message: err.message };
  if (err instanceof ExecutorError) {
    if (err.connectUrl) detail.connect_url = err.connectUrl;
    if (err.reconnectUrl) detail.reconnect_url = err.reconnectUrl;
    if (err.retryAfter !== undefined) detail.retry_after = err.retryAfter;
    if (err.reason) detail.reason = err.reason;
  }
  return detail;
}

/** Frameworks whose tools answer strings get JSON. */
export const asText = (value: unknown): string => typeof value === 'string' ? value : JSON.stringify(value ?? null);
