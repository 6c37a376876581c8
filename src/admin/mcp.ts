import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import { WritError } from '../errors/index.ts';
import type { DirectoryStore } from '../storage/ports/directory.ts';
import type { McpOrgSettings, McpStore } from '../storage/ports/mcp.ts';
import { readJson } from '../web/body.ts';
import { validate } from './validate.ts';

// `/admin/v1/orgs/{org}/mcp`: whether the org accepts external MCP clients (any, a list of client
// ids or hosts, or none) and the ceiling they get. Behind the admin router's bearer check.

const TOOL = /^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/i;

export const mcpSettingsBody = z.object({
  accept: z.enum(['none', 'any', 'listed']).describe('none: refused; any: every client; listed: only the clients in `clients`'),
  clients: z.array(z.string().min(1).max(2000)).max(500).default([]).describe('client ids (a metadata document URL or a registered id) or hosts, for `listed`'),
  tools: z.array(z.string().regex(TOOL, 'a tool name, connector.tool')).max(500).default([]).describe('the ceiling of every external MCP client in this org'),
}).strict();

export interface McpAdminDeps {
  directory: DirectoryStore;
  settings: McpStore;
  audit: AuditLog;
  clock: Clock;
}

const NONE: Omit<McpOrgSettings, 'updated_at'> = { accept: 'none', clients: [], tools: [] };

export function mcpAdminRoutes(deps: McpAdminDeps): Router {
  const router = new Router({ prefix: '/admin/v1/orgs/:org' });

  async function orgId(ctx: Context): Promise<string> {
    const found = await deps.directory.getOrg(String(ctx.params.org));
    if (!found) throw new WritError('not_found', 'no such org');
    return found.id;
  }

  router.get('/mcp', async (ctx) => {
    ctx.body = (await deps.settings.getSettings(await orgId(ctx))) ?? NONE;
  });

  router.put('/mcp', async (ctx) => {
    const org_id = await orgId(ctx);
    const body = validate(mcpSettingsBody, await readJson(ctx.req));
    if (body.accept === 'listed' && body.clients.length === 0) throw new WritError('invalid_request', 'accept: listed needs at least one client');
    const settings: McpOrgSettings = { ...body, updated_at: new Date(deps.clock.now()).toISOString() };
    await deps.settings.putSettings(org_id, settings);
    // Every external client's agent in the org takes the new ceiling at once (as/mcp-clients.ts names them mcp_…).
    for (const agent of await deps.directory.listAgents(org_id)) {
      if (agent.client_id.startsWith('mcp_') && agent.tools.join(' ') !== settings.tools.join(' ')) {
        await deps.directory.updateAgent(org_id, agent.client_id, { tools: settings.tools }, settings.updated_at);
      }
    }
    await deps.audit.record(org_id, { type: 'mcp.settings_updated', actor: { kind: 'admin' }, subject: {}, details: { accept: settings.accept, clients: settings.clients, tools: settings.tools } });
    ctx.body = settings;
  });

  return router;
}
