import Router from '@koa/router';
import type { Context } from 'koa';
import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import { WritError } from '../errors/index.ts';
import { mcpSettingsBody, NO_MCP_SETTINGS, setMcpSettings } from '../as/mcp-clients.ts';
import type { DirectoryStore } from '../storage/ports/directory.ts';
import type { McpStore } from '../storage/ports/mcp.ts';
import { readJson } from '../web/body.ts';
import { validate } from './validate.ts';

// `/admin/v1/orgs/{org}/mcp`: whether the org accepts external MCP clients (any, a list of client
// ids or hosts, or none) and the ceiling they get. Behind the admin router's bearer check.

export { mcpSettingsBody };

export interface McpAdminDeps {
  directory: DirectoryStore;
  settings: McpStore;
  audit: AuditLog;
  clock: Clock;
}

export function mcpAdminRoutes(deps: McpAdminDeps): Router {
  const router = new Router({ prefix: '/admin/v1/orgs/:org' });

  async function orgId(ctx: Context): Promise<string> {
    const found = await deps.directory.getOrg(String(ctx.params.org));
    if (!found) throw new WritError('not_found', 'no such org');
    return found.id;
  }

  router.get('/mcp', async (ctx) => {
    ctx.body = (await deps.settings.getSettings(await orgId(ctx))) ?? NO_MCP_SETTINGS;
  });

  router.put('/mcp', async (ctx) => {
    const org_id = await orgId(ctx);
    const body = validate(mcpSettingsBody, await readJson(ctx.req));
    ctx.body = await setMcpSettings(deps, org_id, body, { kind: 'admin' }, new Date(deps.clock.now()).toISOString());
  });

  return router;
}
