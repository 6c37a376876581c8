import Router from '@koa/router';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { WritError } from '../errors/index.ts';
import type { RevocationFeed } from './feed.ts';

const query = z.strictObject({
  since: z.string().regex(/^\d{1,15}$/).default('0'),
  wait: z.coerce.number().int().min(0).max(30).default(0),
});

/** One page of the feed, as answered (and described in the OpenAPI document). */
export const revocationPageResponse = z.object({
  revoked: z.array(z.object({ id: z.string(), type: z.string(), at: z.string() })),
  cursor: z.string(),
});

/** `GET /v1/revocations?since=CURSOR&wait=N`: public, cacheable, long-polled. */
export function revocationRoutes(feed: RevocationFeed): Router {
  const router = new Router();
  router.get('/v1/revocations', async (ctx) => {
    const parsed = query.safeParse(ctx.query);
    if (!parsed.success) throw new WritError('invalid_request', `${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
    const abort = new AbortController();
    ctx.req.once('close', () => abort.abort());
    const page = await feed.page(Number(parsed.data.since), parsed.data.wait, abort.signal);
    const body = JSON.stringify(page satisfies z.output<typeof revocationPageResponse>);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    ctx.set('etag', etag);
    ctx.set('cache-control', 'public, max-age=1');
    ctx.type = 'application/json';
    if (ctx.get('if-none-match') === etag) { ctx.status = 304; return; }
    ctx.body = body;
  });
  return router;
}
