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
