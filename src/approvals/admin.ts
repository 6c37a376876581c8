import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import { WritError } from '../errors/index.ts';
import type { DirectoryStore } from '../storage/ports/directory.ts';
import { readJson } from '../web/body.ts';
import type { ApprovalService } from './service.ts';
import type { ApprovalRecord, ApprovalSettings } from './store.ts';
import { checkWebhookUrl } from './webhooks.ts';
import { approvalDecisionBody, approvalSettingsBody, type approvalSettingsResponse } from './schemas.ts';

// The admin API of approvals, under /admin/v1 (the admin guard in front of every admin path):
// each org's approval settings (webhook, groups of approvers, agents' CIBA delivery, whether the
// admin API may decide for a user), the requests themselves, and decisions on a user's behalf —
// refused unless the org's settings allow it, and only for a user the policy lets decide.

export interface ApprovalAdminDeps {
  approvals: ApprovalService;
  directory: DirectoryStore;
  audit: AuditLog;
  clock: Clock;
  allowPrivateHosts?: readonly string[];
}

const ADMIN_ACTOR = { kind: 'admin' } as const;
const statusQuery = z.enum(['pending', 'approved', 'denied', 'expired', 'issued']).optional();

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new WritError('invalid_request', `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`);
}

/** A request as the admin API shows it: everything but the sealed auth_req_id and its digest. */
export function publicApproval(r: ApprovalRecord): Record<string, unknown> {
  const { request_ref, request_sealed, ...rest } = r;
  void request_ref; void request_sealed;
  return rest;
}

export function approvalAdminRoutes(deps: ApprovalAdminDeps): Router {
  const router = new Router({ prefix: '/admin/v1' });

  async function orgOf(ctx: Context): Promise<string> {
    const org = await deps.directory.getOrg(String(ctx.params.org));
    if (!org) throw new WritError('not_found', 'no such org');
    return org.id;
  }

  router.get('/orgs/:org/approval-settings', async (ctx) => {
    ctx.body = await deps.approvals.settings(await orgOf(ctx)) satisfies z.output<typeof approvalSettingsResponse>;
  });

  router.put('/orgs/:org/approval-settings', async (ctx) => {
    const org_id = await orgOf(ctx);
    const body = parse(approvalSettingsBody, await readJson(ctx.req));
    const current = await deps.approvals.settings(org_id);
    const urls = [body.webhook_url, ...Object.values(body.agents ?? {}).map((a) => a.notification_endpoint)].filter((u): u is string => typeof u === 'string');
    for (const url of urls) {
      try { checkWebhookUrl(url, deps.allowPrivateHosts); } catch { throw new WritError('invalid_request', `${url} is not a destination Writ may post to (https, and no private address unless allow-listed)`); }
    }
    for (const [group, members] of Object.entries(body.groups ?? {})) {
      for (const user_id of members) if (!(await deps.directory.getUser(org_id, user_id))) throw new WritError('invalid_request', `groups.${group}: no user ${user_id} in this org`);
    }
    for (const client_id of Object.keys(body.agents ?? {})) {
      if (!(await deps.directory.getAgent(org_id, client_id))) throw new WritError('invalid_request', `agents: no agent ${client_id} in this org`);
    }
    const { webhook_url, ...rest } = body;
    const next: ApprovalSettings = {
      ...current, ...rest,
      webhook_url: webhook_url === null ? undefined : webhook_url ?? current.webhook_url,
      updated_at: new Date(deps.clock.now()).toISOString(),
    };
    await deps.approvals.store.putApprovalSettings(org_id, next);
    await deps.audit.record(org_id, {
      type: 'approval.settings_changed', actor: ADMIN_ACTOR, subject: { org_id },
      details: { webhook_url: next.webhook_url ?? null, allow_admin_api_approval: next.allow_admin_api_approval, groups: Object.keys(next.groups), agents: next.agents },
    });
    ctx.body = next;
  });

  router.get('/orgs/:org/approvals', async (ctx) => {
    const org_id = await orgOf(ctx);
    const status = parse(statusQuery, ctx.query.status);
    ctx.body = { approvals: (await deps.approvals.list(org_id, status ? { status } : {})).map(publicApproval) };
  });

  router.get('/orgs/:org/approvals/:id', async (ctx) => {
    const org_id = await orgOf(ctx);
    const record = await deps.approvals.get(org_id, String(ctx.params.id));
    if (!record) throw new WritError('not_found', 'no such approval request');
    const deliveries = await deps.approvals.store.listDeliveries(org_id, record.id);
    ctx.body = { ...publicApproval(record), webhook_deliveries: deliveries.map(({ body, ...d }) => { void body; return d; }) };
  });

  for (const decision of ['approve', 'deny'] as const) {
    router.post(`/orgs/:org/approvals/:id/${decision}`, async (ctx) => {
      const org_id = await orgOf(ctx);
      const body = parse(approvalDecisionBody, await readJson(ctx.req));
      if (!(await deps.approvals.get(org_id, String(ctx.params.id)))) throw new WritError('not_found', 'no such approval request');
      const user = await deps.directory.getUser(org_id, body.on_behalf_of);
      if (!user) throw new WritError('invalid_request', 'on_behalf_of names no user of this org');
      const record = await deps.approvals.decide(org_id, String(ctx.params.id), user, { kind: 'admin_api', on_behalf_of: user.id }, decision, body.reason);
      ctx.body = publicApproval(record);
    });
  }

  return router;
}
