import Router from '@koa/router';
import { z } from 'zod';
import type { Context } from 'koa';
import { hashPassword } from '../as/passwords.ts';
import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import { newSecret } from '../core/ids.ts';
import { digestSecret } from '../core/secrets.ts';
import { WritError } from '../errors/index.ts';
import { DEFAULT_OVERLAP_SECONDS, MAX_OVERLAP_SECONDS, type Lifecycle } from '../lifecycle/service.ts';
import type { WritStore } from '../storage/index.ts';
import type { AgentRecord, UserRecord } from '../storage/ports/directory.ts';
import { readJson } from '../web/body.ts';
import { agentKeysBody, updateAgentBody, updateUserBody } from './schemas.ts';
import { validate } from './validate.ts';
import { refuseUnknownTools } from '../connectors/tool-names.ts';
import { orgOfRoute } from './org.ts';
import { isMcpClientAgent } from '../as/mcp-clients.ts';

export interface LifecycleAdminDeps {
  store: WritStore;
  lifecycle: Lifecycle;
  audit: AuditLog;
  clock: Clock;
  /** Every tool name the org can run, for agent ceilings. */
  knownTools: (org_id: string) => Promise<string[]>;
}

const ADMIN_ACTOR = { kind: 'admin' } as const;

export function publicUser({ password_hash, ...u }: UserRecord) {
  return { ...u, local_password: password_hash.startsWith('scrypt$') };
}

export function publicAgent({ client_secret_digest: _secret, previous_secret, previous_jwks, ...a }: AgentRecord) {
  return { ...a, kind: isMcpClientAgent(a.client_id) ? 'mcp_client' : 'agent', ...(previous_secret ? { previous_secret_expires_at: previous_secret.expires_at } : {}), ...(previous_jwks ? { previous_jwks } : {}) };
}

export const overlapBody = z.strictObject({ overlap_seconds: z.number().int().min(0).max(MAX_OVERLAP_SECONDS).optional() });

/**
 * User and agent lifecycle under `/admin/v1/orgs/:org/…`: update, disable, enable, delete, and
 * agents' secret and key rotation; and the org's SCIM token. Every step that ends authority is the
 * lifecycle's, which ends it through the grants' one transaction.
 */
export function lifecycleAdminRoutes(deps: LifecycleAdminDeps): Router {
  const { store, lifecycle } = deps;
  const router = new Router({ prefix: '/admin/v1/orgs/:org' });

  const org = (ctx: Context) => orgOfRoute(store.directory, ctx);

  router.get('/users/:user_id', async (ctx) => {
    const org_id = await org(ctx);
    const user = await store.directory.getUser(org_id, String(ctx.params.user_id), { includeDisabled: true });
    if (!user) throw new WritError('not_found', 'no such user in this org');
    ctx.body = { ...publicUser(user), groups: (await store.directory.listGroupsOfUser(org_id, user.id)).map((g) => ({ id: g.id, display_name: g.display_name })) };
  });
  router.patch('/users/:user_id', async (ctx) => {
    const org_id = await org(ctx);
    const body = validate(updateUserBody, await readJson(ctx.req));
    const { password, ...rest } = body;
    const user = await lifecycle.updateUser(org_id, String(ctx.params.user_id), { ...rest, ...(password ? { password_hash: await hashPassword(password) } : {}) }, ADMIN_ACTOR);
    ctx.body = publicUser(user);
  });
  router.post('/users/:user_id/disable', async (ctx) => {
    const org_id = await org(ctx);
    ctx.body = publicUser(await lifecycle.disableUser(org_id, String(ctx.params.user_id), ADMIN_ACTOR, 'admin'));
  });
  router.post('/users/:user_id/enable', async (ctx) => {
    const org_id = await org(ctx);
    ctx.body = publicUser(await lifecycle.enableUser(org_id, String(ctx.params.user_id), ADMIN_ACTOR, 'admin'));
  });
  router.delete('/users/:user_id', async (ctx) => {
    const org_id = await org(ctx);
    await lifecycle.deleteUser(org_id, String(ctx.params.user_id), ADMIN_ACTOR, 'admin');
    ctx.status = 204;
  });

  router.patch('/agents/:client_id', async (ctx) => {
    const org_id = await org(ctx);
    const body = validate(updateAgentBody, await readJson(ctx.req));
    if (body.tools) refuseUnknownTools(body.tools, await deps.knownTools(org_id));
    ctx.body = publicAgent(await lifecycle.updateAgent(org_id, String(ctx.params.client_id), { ...body, ...(body.tools ? { tools: [...new Set(body.tools)] } : {}) }, ADMIN_ACTOR));
  });
  router.post('/agents/:client_id/disable', async (ctx) => {
    const org_id = await org(ctx);
    ctx.body = publicAgent(await lifecycle.disableAgent(org_id, String(ctx.params.client_id), ADMIN_ACTOR, 'admin'));
  });
  router.post('/agents/:client_id/enable', async (ctx) => {
    const org_id = await org(ctx);
    ctx.body = publicAgent(await lifecycle.enableAgent(org_id, String(ctx.params.client_id), ADMIN_ACTOR, 'admin'));
  });
  router.delete('/agents/:client_id', async (ctx) => {
    const org_id = await org(ctx);
    await lifecycle.deleteAgent(org_id, String(ctx.params.client_id), ADMIN_ACTOR, 'admin');
    ctx.status = 204;
  });
  // A new secret, shown once; the old one keeps working for overlap_seconds (default one hour).
  router.post('/agents/:client_id/secret', async (ctx) => {
    const org_id = await org(ctx);
    const body = validate(overlapBody, await readJson(ctx.req));
    const { agent, client_secret } = await lifecycle.rotateSecret(org_id, String(ctx.params.client_id), body.overlap_seconds ?? DEFAULT_OVERLAP_SECONDS, ADMIN_ACTOR);
    ctx.body = { ...publicAgent(agent), client_secret };
  });
  router.put('/agents/:client_id/keys', async (ctx) => {
    const org_id = await org(ctx);
    const body = validate(agentKeysBody, await readJson(ctx.req));
    const keys = body.jwks ? { jwks: body.jwks as { keys: Record<string, unknown>[] } } : { jwks_uri: body.jwks_uri! };
    ctx.body = publicAgent(await lifecycle.rotateKeys(org_id, String(ctx.params.client_id), keys, body.overlap_seconds ?? DEFAULT_OVERLAP_SECONDS, ADMIN_ACTOR));
  });

  // The org's SCIM bearer token: `<org_id>.<secret>`, shown once; issuing a new one ends the old.
  router.post('/scim/token', async (ctx) => {
    const org_id = await org(ctx);
    const secret = newSecret(32);
    const at = new Date(deps.clock.now()).toISOString();
    await store.scim.putToken({ org_id, digest: digestSecret(secret), created_at: at });
    await deps.audit.record(org_id, { type: 'scim.token_rotated', actor: ADMIN_ACTOR, subject: { org_id } });
    ctx.status = 201;
    ctx.body = { token: `${org_id}.${secret}`, created_at: at };
  });
  router.delete('/scim/token', async (ctx) => {
    const org_id = await org(ctx);
    if (!(await store.scim.deleteToken(org_id))) throw new WritError('not_found', 'this org has no SCIM token');
    await deps.audit.record(org_id, { type: 'scim.token_rotated', actor: ADMIN_ACTOR, subject: { org_id }, details: { deleted: true } });
    ctx.status = 204;
  });

  return router;
}
