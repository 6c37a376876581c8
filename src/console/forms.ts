import { z } from 'zod';
import { TOOL_NAME } from '../rights/rights.ts';
import { WritError } from '../errors/index.ts';

// The console's inputs, validated once at the edge. HTML forms send every field, empty or not:
// an empty field means "not given".

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blank, schema.optional());

// `<input type="datetime-local">` sends minutes without a zone; the form labels it UTC.
const LOCAL_MINUTES = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;
const instant = z.string().max(40).transform((v, ctx) => {
  const iso = LOCAL_MINUTES.test(v) ? `${v}Z` : v;
  const ms = Date.parse(iso);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(iso) || Number.isNaN(ms)) {
    ctx.addIssue({ code: 'custom', message: 'a date and time like 2025-01-31T14:00' });
    return z.NEVER;
  }
  return new Date(ms).toISOString();
});

const id = z.string().max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'an id');

export const auditFilters = z.strictObject({
  type: optional(z.string().max(64).regex(/^[a-z_.]+$/, 'an event type like grant.revoked')),
  user_id: optional(id),
  agent_id: optional(id),
  tool: optional(z.string().max(128).regex(TOOL_NAME, 'a tool name like notion.pages.create')),
  grant_id: optional(id),
  since: optional(instant),
  until: optional(instant),
  cursor: optional(z.string().regex(/^\d{1,15}$/, 'a cursor from the previous page')),
});
export type AuditFilters = z.infer<typeof auditFilters>;

const list = (max: number, item: z.ZodType<string, string>) =>
  z.string().max(8192).transform((v) => v.split(/[\s,]+/).filter(Boolean)).pipe(z.array(item).max(max));

export const dryRunForm = z.strictObject({
  csrf: z.string().max(128),
  agent_id: id,
  /** Empty: the org itself (an org-level grant). */
  user_id: optional(id),
  tools: list(64, z.string().max(128).regex(TOOL_NAME, 'tool names like notion.pages.create')).pipe(z.array(z.string()).min(1, 'name at least one tool')),
  resources: optional(list(64, z.string().min(1).max(512))),
  audience: optional(z.string().max(2048)),
});
export type DryRunForm = z.infer<typeof dryRunForm>;

/** Parses with a schema or throws `invalid_request` naming the first bad field (never echoing its value). */
export function parse<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path.join('.') || 'form';
  throw new WritError('invalid_request', `${field}: ${issue?.message ?? 'invalid'}`);
}
