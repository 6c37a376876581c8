import Router from '@koa/router';
import type { Context } from 'koa';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ConnectorCatalog } from '../connectors/catalog.ts';
import { isWritError, WritError } from '../errors/index.ts';
import type { ExchangeRequest, ExchangeResponse } from '../exchange/rfc8693.ts';
import { parseExchangeParams } from '../exchange/params.ts';
import type { Subject } from '../exchange/subject.ts';
import { execute, type ExecutorDeps } from '../executor/pipeline.ts';
import { globMatch, toolsOf } from '../rights/rights.ts';
import type { GrantStore } from '../storage/ports/grants.ts';
import { grantStandsFor } from '../revocation/standing.ts';
import { readJson } from '../web/body.ts';

// The executor as an MCP server (Streamable HTTP, the official SDK's server), protected by Writ
// itself: a token issued for exactly this resource (RFC 8707), refused with 401 and the RFC 9728
// metadata link otherwise. `tools/list` lists what the token's grant covers; `tools/call` mints a
// capability for exactly that call by the token exchange (policy, constraints, single-use, audit)
// and runs the executor's pipeline with it: the MCP client is the agent, the person the principal.
// A call outside the grant answers 403 insufficient_scope naming every scope needed (step-up).

const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const BODY_LIMIT = 1024 * 1024;

export interface McpServerDeps {
  issuer: string;
  /** `<issuer>/mcp`: this server's resource identifier. */
  mcpResource: string;
  executorResource: string;
  catalog: ConnectorCatalog;
  grants: GrantStore;
  executor: ExecutorDeps;
  /** The token presented here, when it was issued for exactly this resource. */
  resolveToken: (token: string, resource: string) => Promise<(Subject & { client_id: string }) | undefined>;
  /** RFC 8693 inside the server. */
  exchange: (req: ExchangeRequest) => Promise<ExchangeResponse>;
  now: () => number;
}

type Caller = Subject & { client_id: string; token: string };

const scopeOf = (tools: string[]) => tools.map((t) => `tool:${t}`).join(' ');

export function mcpRoutes(deps: McpServerDeps): Router {
  const router = new Router();
  const path = new URL(deps.mcpResource).pathname;
  const metadataUrl = `${deps.issuer}/.well-known/oauth-protected-resource${path}`;
  const origin = new URL(deps.issuer).origin;

  // RFC 9728 §3.1: the metadata at the well-known path derived from the resource identifier.
  router.get(`/.well-known/oauth-protected-resource${path}`, async (ctx) => {
    ctx.set('cache-control', 'public, max-age=300');
    ctx.body = {
      resource: deps.mcpResource,
      authorization_servers: [deps.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: (await deps.catalog.listTools('')).map((t) => `tool:${t.name}`),
      resource_name: 'Writ executor (MCP)',
      resource_documentation: `${deps.issuer}/docs/mcp`,
    };
  });

  function challenge(ctx: Context, status: 401 | 403, error: string | undefined, description: string, scope?: string) {
    const params = [
      ...(error ? [`error="${error}"`, `error_description="${description.replace(/"/g, "'")}"`] : []),
      ...(scope ? [`scope="${scope}"`] : []),
      `resource_metadata="${metadataUrl}"`,
    ];
    ctx.status = status;
    ctx.set('www-authenticate', `Bearer ${params.join(', ')}`);
    ctx.set('cache-control', 'no-store');
    ctx.body = { error: error ?? 'invalid_token', error_description: description };
  }

  /** The caller, or the 401 it gets: no token, a token for another resource, a revoked grant. */
  async function authenticate(ctx: Context): Promise<Caller | undefined> {
    const m = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(ctx.get('authorization'));
    if (!m) {
      challenge(ctx, 401, undefined, 'a token for this MCP server is required');
      return undefined;
    }
    const token = m[1]!;
    const subject = await deps.resolveToken(token, deps.mcpResource);
    if (!subject) {
      challenge(ctx, 401, 'invalid_token', 'the token is not valid for this MCP server');
      return undefined;
    }
    const grant = await deps.grants.getGrant(subject.org_id, subject.auth_event_id);
    if (!grant || !grantStandsFor(grant, subject.rights, deps.now())) {
      challenge(ctx, 401, 'invalid_token', 'the authorization behind this token has been revoked');
      return undefined;
    }
    return { ...subject, token };
  }

  const covers = (caller: Caller, tool: string) => caller.rights.some((d) => d.tools.some((p) => globMatch(p, tool)));

  async function callTool(caller: Caller, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    const toolError = (error: Record<string, unknown>): CallToolResult => ({ isError: true, content: [{ type: 'text', text: JSON.stringify({ error }) }] });
    let capability: string;
    try {
      const response = await deps.exchange({
        client: { client_id: caller.chain[0]!, org_id: caller.org_id },
        params: parseExchangeParams({
          subject_token: caller.token, subject_token_type: ACCESS_TOKEN, audience: deps.executorResource,
          authorization_details: JSON.stringify([{ type: 'tool_access', tools: [name] }]),
        }),
      });
      capability = response.access_token;
    } catch (err) {
      if (isWritError(err)) return toolError({ code: err.code, message: err.description });
      throw err;
    }
    const result = await execute(deps.executor, {
      tool: name, authorization: `Bearer ${capability}`, dpop: undefined, method: 'POST',
      url: `${deps.issuer}/v1/tools/${encodeURIComponent(name)}/execute`, body: { input: args },
    });
    if ('data' in result.body) return { content: [{ type: 'text', text: JSON.stringify(result.body.data) }] };
    // The model reads the executor's error as is: its code, message, and reconnect or connect link.
    return toolError(result.body.error);
  }

  function mcpServer(caller: Caller): Server {
    const server = new Server({ name: 'writ-executor', version: '1' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => {
      const tools = (await deps.catalog.listTools(caller.org_id)).filter((t) => covers(caller, t.name));
      return {
        tools: tools.map((t) => ({
          name: t.name, description: t.definition.description,
          inputSchema: { type: 'object' as const, ...(t.definition.input_schema as Record<string, unknown> | undefined) },
        })),
      };
    });
    server.setRequestHandler(CallToolRequestSchema, async (request) => callTool(caller, request.params.name, request.params.arguments ?? {}));
    return server;
  }

  router.post(path, async (ctx) => {
    // The MCP transport's DNS-rebinding protection: a browser page of another origin is refused.
    const from = ctx.get('origin');
    if (from && from !== origin) throw new WritError('forbidden', 'requests from this origin are not accepted');
    const caller = await authenticate(ctx);
    if (!caller) return;
    let body: unknown;
    try {
      body = await readJson(ctx.req, BODY_LIMIT);
    } catch (err) {
      if (isWritError(err)) {
        ctx.status = err.status;
        ctx.body = { jsonrpc: '2.0', id: null, error: { code: -32700, message: err.description } };
        return;
      }
      throw err;
    }
    // Step-up (RFC 6750 §3.1): a call outside the grant asks for every scope needed, held and new.
    const messages = Array.isArray(body) ? body : [body];
    const wanted = messages
      .filter((m): m is { method: string; params: { name?: unknown } } => !!m && typeof m === 'object' && (m as { method?: unknown }).method === 'tools/call')
      .map((m) => m.params?.name)
      .filter((n): n is string => typeof n === 'string');
    const missing = wanted.filter((n) => !covers(caller, n));
    if (missing.length) {
      const known = new Set((await deps.catalog.listTools(caller.org_id)).map((t) => t.name));
      if (missing.every((n) => known.has(n))) {
        challenge(ctx, 403, 'insufficient_scope', `this token does not cover ${missing.join(', ')}`, scopeOf([...new Set([...toolsOf(caller.rights), ...missing])]));
        return;
      }
    }
    ctx.respond = false;
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    const server = mcpServer(caller);
    ctx.res.on('close', () => { void transport.close(); void server.close(); });
    await server.connect(transport);
    await transport.handleRequest(ctx.req, ctx.res, body);
  });

  // Stateless: no server-initiated stream and no session to end (the transport spec allows 405).
  router.get(path, (ctx) => { ctx.status = 405; ctx.set('allow', 'POST'); });
  router.delete(path, (ctx) => { ctx.status = 405; ctx.set('allow', 'POST'); });

  return router;
}
