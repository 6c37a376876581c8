import { z } from 'zod';

// The admin API's request bodies for approvals, validated at the edge (approvals/admin.ts) and
// described in the OpenAPI document (ops/openapi.ts).

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/);
const id = z.string().min(1).max(128);

export const approvalSettingsBody = z.strictObject({
  webhook_url: z.url({ protocol: /^https?$/ }).max(2048).nullable().optional(),
  allow_admin_api_approval: z.boolean().optional(),
  groups: z.record(name, z.array(id).max(500)).optional(),
  agents: z.record(id, z.strictObject({
    delivery_mode: z.enum(['poll', 'ping']),
    notification_endpoint: z.url({ protocol: /^https$/ }).max(2048).optional(),
  }).refine((a) => a.delivery_mode === 'poll' || a.notification_endpoint !== undefined, { message: 'ping delivery needs an https notification_endpoint' })).optional(),
});

export const approvalDecisionBody = z.strictObject({
  on_behalf_of: id,
  reason: z.string().min(1).max(200).optional(),
});

// What the approvals admin API answers; the OpenAPI document's response schemas are converted
// from these, and test/ops/openapi.test.ts holds real answers to them.

const text = z.string();
const anyObject = z.record(z.string(), z.unknown());

export const approvalResponse = z.object({
  id: text, org_id: text, status: z.enum(['pending', 'approved', 'issued', 'denied', 'expired']), agent_id: text, chain: z.array(text).optional(), user_id: text, grant_id: text,
  held: z.array(z.unknown()).optional(), details: z.array(z.unknown()).describe('One `tool_access` detail: the tool, its resource, every argument as `eq`.'),
  audience: text.optional(), dpop_jkt: text.optional(), binding_message: text.optional(),
  requirement: z.object({ rules: z.array(text), approvers: z.array(z.unknown()), fresh_sign_in: z.int() }).optional(),
  created_at: text, expires_at: text, decided_at: text.optional(), decided_by: anyObject.optional(), reason: text.optional(), last_polled_at: text.optional(),
  webhook_deliveries: z.array(anyObject).optional(),
});
export const approvalListResponse = z.object({ approvals: z.array(approvalResponse) });
export const approvalSettingsResponse = z.object({
  org_id: text, webhook_url: text.optional(), allow_admin_api_approval: z.boolean(), groups: anyObject, agents: anyObject, updated_at: text,
});
