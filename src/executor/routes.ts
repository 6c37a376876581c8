import Router from '@koa/router';
import { z } from 'zod';
import { readJson } from '../web/body.ts';
import { WritError } from '../errors/index.ts';
import { globMatch } from '../rights/rights.ts';
import { execute, type ExecutorDeps } from './pipeline.ts';

const EXECUTE_BODY_LIMIT = 1024 * 1024;

// What these routes answer, as described in the OpenAPI document (ops/openapi.ts).
export const executorErrorResponse = z.object({
  error: z.looseObject({ code: z.string(), message: z.string(), reconnect_url: z.string().optional(), connect_url: z.string().optional(), retry_after: z.int().optional() }),
});
export const toolListResponse = z.object({
  tools: z.array(z.object({
    name: z.string(), connector: z.string(), description: z.string().optional(), scopes: z.array(z.string()).optional(),
    input_schema: z.record(z.string(), z.unknown()).optional(), allowed: z.boolean().optional(),
  })),
});
export const executeResponse = z.object({ data: z.unknown() });
export const protectedResourceMetadataResponse = z.looseObject({ resource: z.string(), authorization_servers: z.array(z.string()).optional() });

/** `GET /v1/tools`, `POST /v1/tools/:tool/execute` and the RFC 9728 protected-resource metadata. */
export function executorRoutes(deps: ExecutorDeps & { issuer: string }): Router {
  const router = new Router();

  // RFC 9728 §3: metadata at the well-known path derived from the resource identifier.
  const metadata = () => ({
    resource: deps.executorResource,
    authorization_servers: [deps.issuer],
    bearer_methods_supported: ['header'],
    dpop_signing_alg_values_supported: ['EdDSA', 'ES256'],
    resource_name: 'Writ executor',
    resource_documentation: `${deps.issuer}/openapi.json`,
  });
  const path = new URL(deps.executorResource).pathname;
  router.get(`/.well-known/oauth-protected-resource${path}`, (ctx) => { ctx.body = metadata(); });
  router.get('/.well-known/oauth-protected-resource', (ctx) => { ctx.body = metadata(); });

  router.get('/v1/tools', async (ctx) => {
    const auth = ctx.get('authorization');
    const token = /^(?:Bearer|DPoP) (\S+)$/.exec(auth)?.[1];
    const capability = token ? await deps.verifier.identify(token).catch(() => undefined) : undefined;
    if (token && !capability) throw new WritError('invalid_token', 'the capability could not be verified', { status: 401 });
    const tools = await deps.catalog.listTools(capability?.org_id ?? '');
    ctx.set('cache-control', 'no-store');
    ctx.body = {
      tools: tools.map((t) => ({
        name: t.name, connector: t.connector, description: t.definition.description, scopes: t.definition.scopes,
        input_schema: t.definition.input_schema,
        ...(capability ? { allowed: capability.rights.some((d) => d.tools.some((p) => globMatch(p, t.name))) } : {}),
      })),
    } satisfies z.output<typeof toolListResponse>;
  });

  router.post('/v1/tools/:tool/execute', async (ctx) => {
    let body: unknown;
    try {
      body = await readJson(ctx.req, EXECUTE_BODY_LIMIT);
    } catch (err) {
      if (err instanceof WritError) {
        ctx.status = err.status;
        ctx.body = { error: { code: err.code === 'payload_too_large' ? 'invalid_input' : err.code === 'unsupported_media_type' ? 'invalid_input' : err.code, message: err.description } };
        if (err.code === 'payload_too_large') ctx.status = 413;
        return;
      }
      throw err;
    }
    const result = await execute(deps, {
      tool: String(ctx.params.tool), authorization: ctx.get('authorization') || undefined, dpop: ctx.get('dpop') || undefined,
      method: ctx.method, url: `${deps.issuer}${ctx.path}`, body,
    });
    ctx.status = result.status;
    ctx.set('cache-control', 'no-store');
    for (const [k, v] of Object.entries(result.headers ?? {})) ctx.set(k, v);
    if (result.json !== undefined) ctx.type = 'application/json';
    ctx.body = result.json ?? result.body;
  });

  return router;
}
