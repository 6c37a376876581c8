import Router from '@koa/router';
import { z } from 'zod';
import type { Context } from 'koa';
import type { AuditLog } from '../audit/log.ts';
import type { ConnectorCatalog } from '../connectors/catalog.ts';
import { WritError } from '../errors/index.ts';
import type { WritStore } from '../storage/index.ts';
import type { Vault } from '../vault/service.ts';
import { disconnectAccount } from '../connectors/disconnect.ts';
import { readJson } from '../web/body.ts';
import { validate } from './validate.ts';

export interface AccountAdminDeps {
  store: WritStore;
  vault: Vault;
  catalog: ConnectorCatalog;
  audit: AuditLog;
  issuer: string;
  connectLink: (org_id: string, account_id: string) => string;
}

const ADMIN_ACTOR = { kind: 'admin' } as const;

export const createAccountBody = z.strictObject({
  connector: z.string().min(1).max(64).regex(/^[a-z][a-z0-9_-]*$/),
  user_id: z.string().min(1).max(64).optional(),
  owner: z.literal('org').optional(),
  api_key: z.string().min(1).max(4096).optional().describe('For api_key connectors; write-only, never readable again.'),
}).refine((b) => (b.user_id === undefined) !== (b.owner === undefined), { message: 'name exactly one of user_id or owner: "org"' });

/**
 * Connectors an org registers or configures, and connected accounts: `/admin/v1/orgs/:org/…`.
 * Credentials go in (API keys) and never come out: every answer is the vault's safe view.
 */
export function accountAdminRoutes(deps: AccountAdminDeps): Router {
  const { store, vault, catalog, audit } = deps;
  const router = new Router({ prefix: '/admin/v1/orgs/:org' });

  async function org(ctx: Context): Promise<string> {
    const found = await store.directory.getOrg(String(ctx.params.org));
    if (!found) throw new WritError('not_found', 'no such org');
    return found.id;
  }

  router.put('/connectors/:name', async (ctx) => {
    const org_id = await org(ctx);
    const view = await catalog.registerOrgConnector(org_id, String(ctx.params.name), await readJson(ctx.req));
    await audit.record(org_id, { type: 'connector.configured', actor: ADMIN_ACTOR, subject: { connector: view.name }, details: { tools: view.tools, api_base_url: view.api_base_url } });
    ctx.body = { ...view, redirect_uri: `${deps.issuer}/connect/callback` };
  });
  router.get('/connectors', async (ctx) => {
    const org_id = await org(ctx);
    ctx.body = {
      connectors: [
        ...catalog.shippedConnectors().map((d) => ({ name: d.name, display_name: d.display_name, origin: 'catalog', auth: d.auth.type, tools: Object.keys(d.tools).map((t) => `${d.name}.${t}`) })),
        ...(await catalog.listOrgConnectors(org_id)).map((v) => ({ ...v, origin: 'org' })),
      ],
    };
  });
  router.delete('/connectors/:name', async (ctx) => {
    const org_id = await org(ctx);
    if (!(await catalog.deleteOrgConnector(org_id, String(ctx.params.name)))) throw new WritError('not_found', 'no such org connector');
    await audit.record(org_id, { type: 'connector.configured', actor: ADMIN_ACTOR, subject: { connector: String(ctx.params.name) }, details: { deleted: true } });
    ctx.status = 204;
  });

  router.post('/connected-accounts', async (ctx) => {
    const org_id = await org(ctx);
    const body = validate(createAccountBody, await readJson(ctx.req));
    if (body.user_id && !(await store.directory.getUser(org_id, body.user_id))) throw new WritError('not_found', 'no such user in this org');
    const connector = await catalog.getConnector(org_id, body.connector);
    if (!connector) throw new WritError('not_found', 'no such connector');
    const owner = body.user_id ? { kind: 'user' as const, user_id: body.user_id } : { kind: 'org' as const };
    const ownerSubject = owner.kind === 'user' ? { user_id: owner.user_id } : { principal: 'org' };
    if (connector.definition.auth.type === 'api_key') {
      if (!body.api_key) throw new WritError('invalid_request', `${body.connector} takes an api_key`);
      const pending = await vault.createPendingAccount(org_id, { owner, connector: body.connector });
      const active = await vault.storeCredential(org_id, pending.id, { type: 'api_key', api_key: body.api_key });
      await audit.record(org_id, { type: 'account.connected', actor: ADMIN_ACTOR, subject: { account_id: active.id, connector: body.connector, ...ownerSubject } });
      ctx.status = 201;
      ctx.body = { id: active.id, status: active.status, api_key_hint: active.api_key_hint };
      return;
    }
    if (body.api_key) throw new WritError('invalid_request', `${body.connector} connects through OAuth, not an API key`);
    const pending = await vault.createPendingAccount(org_id, { owner, connector: body.connector });
    await audit.record(org_id, { type: 'account.pending', actor: ADMIN_ACTOR, subject: { account_id: pending.id, connector: body.connector, ...ownerSubject } });
    ctx.status = 201;
    ctx.body = { id: pending.id, status: pending.status, authorization_url: deps.connectLink(org_id, pending.id) };
  });

  router.get('/connected-accounts', async (ctx) => {
    const org_id = await org(ctx);
    ctx.body = {
      connected_accounts: (await vault.listAccounts(org_id)).map((a) => ({
        id: a.id, connector: a.connector, owner: a.owner, status: a.status, scopes: a.scopes, expires_at: a.expires_at,
        updated_at: a.updated_at, ...(a.api_key_hint ? { api_key_hint: a.api_key_hint } : {}),
      })),
    };
  });

  router.delete('/connected-accounts/:id', async (ctx) => {
    const org_id = await org(ctx);
    const account = await vault.getAccount(org_id, String(ctx.params.id));
    if (!account) throw new WritError('not_found', 'no such connected account');
    const result = await disconnectAccount(vault, catalog, org_id, account.id, account.connector);
    await audit.record(org_id, { type: 'account.disconnected', actor: ADMIN_ACTOR, subject: { account_id: account.id, connector: account.connector }, details: { upstream: result?.upstream } });
    ctx.status = 204;
  });

  return router;
}
