import Router from '@koa/router';
import { Readable } from 'node:stream';
import { toOcsf } from '../audit/export.ts';
import type { Context, Next } from 'koa';
import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import { newId, newSecret } from '../core/ids.ts';
import { hashPassword } from '../as/passwords.ts';
import { toolsOf } from '../rights/rights.ts';
import { digestSecret, safeEqual } from '../core/secrets.ts';
import { WritError } from '../errors/index.ts';
import type { GrantService } from '../grants/service.ts';
import type { KeyManager } from '../keys/manager.ts';
import type { Vault } from '../vault/service.ts';
import type { WritStore } from '../storage/index.ts';
import type { AgentRecord, OrgRecord } from '../storage/ports/directory.ts';
import { readJson } from '../web/body.ts';
import { explain, type PolicySet } from '../policy/index.ts';
import type { z } from 'zod';
import { auditQuery, bulkRevokeQuery, exportQuery, createAgentBody, createOrgBody, createOrgGrantBody, createResourceServerBody, createUserBody, dryRunBody } from './schemas.ts';
import type { auditPageResponse, bulkRevokeResponse, grantListResponse, keyRotationResponse, offboardResponse, orgListResponse, resourceServerListResponse, userListResponse } from './schemas.ts';
import { validate } from './validate.ts';
import { refuseUnknownTools } from '../connectors/tool-names.ts';
import { publicAgent, publicUser } from './lifecycle.ts';

export interface AdminDeps {
  adminToken: string;
  store: WritStore;
  audit: AuditLog;
  grantService: GrantService;
  keys: KeyManager;
  clock: Clock;
  policies: () => PolicySet;
  executorResource: string;
  vault: Vault;
  /** Every tool name the org can run (shipped connectors and its own), for agent ceilings. */
  knownTools: (org_id: string) => Promise<string[]>;
}

/** The deployment-wide audit chain, for changes that belong to no org (key rotation). */
export const SYSTEM_ORG = '_writ';

const ADMIN_ACTOR = { kind: 'admin' } as const;

/** `/admin/v1`: bearer-token protected JSON API for operators. */
export function adminRoutes(deps: AdminDeps): Router {
  const { store, audit, clock } = deps;
  const router = new Router({ prefix: '/admin/v1' });
  const iso = () => new Date(clock.now()).toISOString();

  router.use(async (ctx: Context, next: Next) => {
    const header = ctx.get('authorization');
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token || !safeEqual(token, deps.adminToken)) {
      ctx.set('www-authenticate', 'Bearer realm="writ-admin"');
      throw new WritError('unauthorized', 'a valid admin bearer token is required');
    }
    ctx.set('cache-control', 'no-store');
    await next();
  });

  async function org(ctx: Context): Promise<OrgRecord> {
    const found = await store.directory.getOrg(String(ctx.params.org));
    if (!found) throw new WritError('not_found', 'no such org');
    return found;
  }

  router.post('/orgs', async (ctx) => {
    const body = validate(createOrgBody, await readJson(ctx.req));
    const record: OrgRecord = { id: newId('org'), name: body.name, created_at: iso() };
    await store.directory.createOrg(record);
    await audit.record(record.id, { type: 'org.created', actor: ADMIN_ACTOR, subject: { org_id: record.id }, details: { name: record.name } });
    ctx.status = 201;
    ctx.body = record;
  });
  router.get('/orgs', async (ctx) => { ctx.body = { orgs: await store.directory.listOrgs() } satisfies z.output<typeof orgListResponse>; });
  router.get('/orgs/:org', async (ctx) => { ctx.body = await org(ctx); });

  router.post('/orgs/:org/users', async (ctx) => {
    const { id: org_id } = await org(ctx);
    const body = validate(createUserBody, await readJson(ctx.req));
    const user = {
      id: newId('usr'), org_id, username: body.username, email: body.email, roles: body.roles ?? ['member' as const],
      password_hash: await hashPassword(body.password), created_at: iso(),
    };
    await store.directory.createUser(org_id, user);
    await audit.record(org_id, { type: 'user.created', actor: ADMIN_ACTOR, subject: { user_id: user.id }, details: { username: user.username, roles: user.roles } });
    ctx.status = 201;
    ctx.body = { id: user.id, username: user.username, roles: user.roles, ...(user.email ? { email: user.email } : {}), created_at: user.created_at };
  });
  router.get('/orgs/:org/users', async (ctx) => {
    const { id: org_id } = await org(ctx);
    ctx.body = { users: (await store.directory.listUsers(org_id)).map(publicUser) } satisfies z.output<typeof userListResponse>;
  });

  router.post('/orgs/:org/agents', async (ctx) => {
    const { id: org_id } = await org(ctx);
    const body = validate(createAgentBody, await readJson(ctx.req));
    refuseUnknownTools(body.tools, await deps.knownTools(org_id));
    const method = body.token_endpoint_auth_method ?? 'client_secret_basic';
    const secret = method === 'private_key_jwt' ? undefined : newSecret(32);
    const agent: AgentRecord = {
      client_id: newId('agt'), org_id, name: body.name, redirect_uris: body.redirect_uris ?? [],
      token_endpoint_auth_method: method, client_secret_digest: secret && digestSecret(secret),
      jwks: body.jwks as AgentRecord['jwks'], jwks_uri: body.jwks_uri, tools: [...new Set(body.tools)], created_at: iso(),
    };
    await store.directory.createAgent(org_id, agent);
    await audit.record(org_id, { type: 'agent.created', actor: ADMIN_ACTOR, subject: { agent_id: agent.client_id }, details: { name: agent.name, tools: agent.tools, token_endpoint_auth_method: method } });
    ctx.status = 201;
    // The secret is shown once, here; only its digest is stored.
    ctx.body = { ...publicAgent(agent), ...(secret ? { client_secret: secret } : {}) };
  });
  router.get('/orgs/:org/agents', async (ctx) => {
    const { id: org_id } = await org(ctx);
    ctx.body = { agents: (await store.directory.listAgents(org_id)).map(publicAgent) };
  });
  router.get('/orgs/:org/agents/:client_id', async (ctx) => {
    const { id: org_id } = await org(ctx);
    const agent = await store.directory.getAgent(org_id, String(ctx.params.client_id), { includeDisabled: true });
    if (!agent) throw new WritError('not_found', 'no such agent in this org');
    ctx.body = publicAgent(agent);
  });
  // DELETE /orgs/:org/agents/:client_id is the lifecycle's (admin/lifecycle.ts).

  router.post('/orgs/:org/agents/:client_id/org-grants', async (ctx) => {
    const { id: org_id } = await org(ctx);
    const agent = await store.directory.getAgent(org_id, String(ctx.params.client_id));
    if (!agent) throw new WritError('not_found', 'no such agent in this org');
    const body = validate(createOrgGrantBody, await readJson(ctx.req));
    const outside = toolsOf(body.authorization_details).filter((t) => !agent.tools.includes(t));
    if (outside.length) throw new WritError('invalid_authorization_details', `tools outside the agent's ceiling: ${outside.join(', ')}`);
    const grant = await deps.grantService.create(org_id, { id: newId('grt'), agent_id: agent.client_id, authorization_details: body.authorization_details }, ADMIN_ACTOR);
    ctx.status = 201;
    ctx.body = { id: grant.id, agent_id: grant.agent_id, authorization_details: grant.authorization_details, created_at: grant.created_at };
  });

  router.get('/orgs/:org/grants', async (ctx) => {
    const { id: org_id } = await org(ctx);
    const grants = await store.grants.listGrants(org_id, { include_revoked: true });
    ctx.body = { grants: grants.map(({ org_id: _o, ...g }) => g) } satisfies z.output<typeof grantListResponse>;
  });
  // Bulk revocation: every grant of a user, of an agent, or of the whole org (?all=true).
  router.delete('/orgs/:org/grants', async (ctx) => {
    const { id: org_id } = await org(ctx);
    const q = validate(bulkRevokeQuery, ctx.query);
    const select = q.all ? { all: true as const } : { ...(q.user_id ? { user_id: q.user_id } : {}), ...(q.agent_id ? { agent_id: q.agent_id } : {}) };
    if (!q.all && !q.user_id && !q.agent_id) throw new WritError('invalid_request', 'name user_id, agent_id, or all=true');
    const revoked = await deps.grantService.revoke(org_id, select, ADMIN_ACTOR, 'bulk revocation by an administrator');
    ctx.body = { revoked: revoked.map((g) => g.id) } satisfies z.output<typeof bulkRevokeResponse>;
  });
  router.delete('/orgs/:org/grants/:id', async (ctx) => {
    const { id: org_id } = await org(ctx);
    const id = String(ctx.params.id);
    if (!(await store.grants.getGrant(org_id, id))) throw new WritError('not_found', 'no such grant in this org');
    await deps.grantService.revoke(org_id, { id }, ADMIN_ACTOR, 'revoked by an administrator');
    ctx.status = 204;
  });

  router.get('/orgs/:org/audit', async (ctx) => {
    const { id: org_id } = await org(ctx);
    const q = validate(auditQuery, ctx.query);
    const events = await audit.query(org_id, { ...q, before_seq: q.cursor ? Number(q.cursor) : undefined, limit: q.limit });
    const last = events.at(-1);
    ctx.body = { events, next_cursor: events.length === q.limit && last ? String(last.seq) : null } satisfies z.output<typeof auditPageResponse>;
  });
  // Streams the whole chain, oldest first, as JSON lines (Writ's events, or OCSF API Activity).
  router.get('/orgs/:org/audit/export', async (ctx) => {
    const { id: org_id } = await org(ctx);
    const { format } = validate(exportQuery, ctx.query);
    ctx.type = 'application/x-ndjson';
    ctx.set('content-disposition', `attachment; filename="writ-audit-${org_id}.${format}.jsonl"`);
    ctx.body = Readable.from((async function* () {
      for await (const e of audit.scan(org_id)) yield JSON.stringify(format === 'ocsf' ? toOcsf(e) : e) + '\n';
    })());
  });
  router.post('/orgs/:org/audit/verify', async (ctx) => {
    const { id: org_id } = await org(ctx);
    ctx.body = await audit.verify(org_id);
  });

  router.post('/resource-servers', async (ctx) => {
    const body = validate(createResourceServerBody, await readJson(ctx.req));
    if (body.org_id && !(await store.directory.getOrg(body.org_id))) throw new WritError('not_found', 'no such org');
    if (body.identifier === deps.executorResource) throw new WritError('conflict', 'that identifier is the executor');
    const record = { identifier: body.identifier, name: body.name, org_id: body.org_id, created_at: iso() };
    await store.directory.createResourceServer(record);
    if (record.org_id) await audit.record(record.org_id, { type: 'resource_server.registered', actor: ADMIN_ACTOR, subject: { resource_server: record.identifier } });
    else await audit.record(SYSTEM_ORG, { type: 'resource_server.registered', actor: ADMIN_ACTOR, subject: { resource_server: record.identifier } });
    ctx.status = 201;
    ctx.body = record;
  });
  router.get('/resource-servers', async (ctx) => {
    ctx.body = { resource_servers: [{ identifier: deps.executorResource, name: 'Writ executor', builtin: true }, ...(await store.directory.listResourceServers())] } satisfies z.output<typeof resourceServerListResponse>;
  });

  // "Would agent A get tool T for user U?" — the policy's answer with every rule's reasoning.
  router.post('/orgs/:org/policy/dry-run', async (ctx) => {
    const { id: org_id } = await org(ctx);
    const body = validate(dryRunBody, await readJson(ctx.req));
    const agent = await store.directory.getAgent(org_id, body.agent_id);
    if (!agent) throw new WritError('not_found', 'no such agent in this org');
    const outside = body.tools.filter((t) => !agent.tools.includes(t));
    const explanation = explain(deps.policies(), {
      org_id, agent_id: body.agent_id, principal: body.user_id ? { kind: 'user', id: body.user_id } : { kind: 'org', id: org_id },
      audience: body.audience ?? deps.executorResource, tools: body.tools, ...(body.resources ? { resources: body.resources } : {}),
      ...(body.arguments ? { arguments: Object.fromEntries(body.tools.map((tool) => [tool, body.arguments!])) } : {}),
    });
    ctx.body = { ...explanation, ceiling: { ok: outside.length === 0, outside } };
  });

  // Offboarding: every grant revoked (and everything derived from it), every agent removed, and the
  // org's vault crypto-shredded — its data key destroyed first, so no copy of a credential (or of an
  // org connector's client secret), in a backup or anywhere, can be opened again — then its connectors removed. The org, its users and its audit chain remain: the
  // record of what happened is kept.
  router.post('/orgs/:org/offboard', async (ctx) => {
    const { id: org_id } = await org(ctx);
    const revoked = await deps.grantService.revoke(org_id, { all: true }, ADMIN_ACTOR, 'org offboarded');
    const agents = await store.directory.listAgents(org_id);
    for (const a of agents) await store.directory.deleteAgent(org_id, a.client_id);
    const accounts = (await deps.vault.listAccounts(org_id)).length;
    await deps.vault.destroyOrg(org_id);
    await store.orgConnectors.deleteOrg(org_id);
    // Its identity provider (whose sealed secret the shredding made unreadable), domains, identity
    // links and cross-app targets go: nobody signs in or is asserted through them any more.
    await store.sso.deleteIdentityProvider(org_id);
    await store.sso.putCrossAppPolicy(org_id, { org_id, targets: [], updated_at: iso() });
    await audit.record(org_id, { type: 'org.offboarded', actor: ADMIN_ACTOR, subject: { org_id }, details: { grants_revoked: revoked.length, agents_removed: agents.length, accounts_shredded: accounts } });
    ctx.body = { grants_revoked: revoked.length, agents_removed: agents.length, accounts_shredded: accounts } satisfies z.output<typeof offboardResponse>;
  });

  // After a new master key version joins WRIT_MASTER_KEY (and the processes restart), re-wrap every
  // org's data key under it; credentials themselves are untouched, and reads keep working throughout.
  router.post('/vault/rewrap', async (ctx) => {
    const progress = await deps.vault.rotateMasterKey();
    const signing_keys = await deps.keys.reseal();
    await audit.record(SYSTEM_ORG, { type: 'vault.master_key_rotated', actor: ADMIN_ACTOR, subject: {}, details: { ...progress, signing_keys } });
    ctx.body = { data_keys: progress, signing_keys };
  });

  router.post('/keys/rotate', async (ctx) => {
    const { kids } = await deps.keys.rotate();
    await audit.record(SYSTEM_ORG, { type: 'keys.rotated', actor: ADMIN_ACTOR, subject: {}, details: { kids } });
    ctx.body = { kids } satisfies z.output<typeof keyRotationResponse>;
  });

  return router;
}
