import { z } from 'zod';
import { TOOL_ACCESS, TOOL_NAME, type ToolAccessDetail } from './rights.ts';

// RFC 9396 authorization_details of type `tool_access`, validated strictly wherever it enters.

const constraintValue = z.union([z.string().max(512), z.number().finite(), z.boolean()]);

export const argumentConstraintSchema = z.strictObject({
  eq: constraintValue.optional(),
  one_of: z.array(z.union([z.string().max(512), z.number().finite()])).min(1).max(64).optional(),
  starts_with: z.string().min(1).max(512).optional(),
  ends_with: z.string().min(1).max(512).optional(),
  max: z.number().finite().optional(),
  min: z.number().finite().optional(),
});

export const toolAccessSchema = z.strictObject({
  type: z.literal(TOOL_ACCESS),
  tools: z.array(z.string().max(128).regex(TOOL_NAME, 'tool names look like connector.tool')).min(1).max(64),
  resources: z.array(z.string().min(1).max(512).regex(/^[^\s"\\]+$/, 'resource patterns have no spaces, quotes or backslashes')).min(1).max(64).optional(),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  constraints: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), argumentConstraintSchema).optional(),
});

export const authorizationDetailsSchema = z.array(toolAccessSchema).min(1).max(16);

export type ParsedToolAccess = z.infer<typeof toolAccessSchema>;

/** Validates one detail; returns a readable reason on failure. */
export function parseToolAccess(value: unknown): { ok: true; detail: ToolAccessDetail } | { ok: false; reason: string } {
  const parsed = toolAccessSchema.safeParse(value);
  if (parsed.success) return { ok: true, detail: parsed.data as ToolAccessDetail };
  const issue = parsed.error.issues[0]!;
  return { ok: false, reason: `${issue.path.join('.') || 'authorization_details'}: ${issue.message}` };
}
