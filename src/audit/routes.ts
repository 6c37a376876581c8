import Router from '@koa/router';
import { z } from 'zod';
import { WritError } from '../errors/index.ts';
import type { Checkpoints } from './checkpoints.ts';

const query = z.strictObject({
  after_seq: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/**
 * `GET /v1/audit/{org}/checkpoints`: public, like the JWKS. An org's auditors (and anyone the org
 * gives its id) fetch the signed checkpoints and the public key and keep them, so a later rewrite
 * of the store is detected against what they hold. Checkpoints reveal sequence numbers and hashes,
 * never an event.
 */
export function checkpointRoutes(checkpoints: Checkpoints, orgExists: (org_id: string) => Promise<boolean>): Router {
  const router = new Router();
  router.get('/v1/audit/:org/checkpoints', async (ctx) => {
    const parsed = query.safeParse(ctx.query);
    if (!parsed.success) throw new WritError('invalid_request', `${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
    const org_id = String(ctx.params.org);
    if (!(await orgExists(org_id))) throw new WritError('not_found', 'no such org');
    ctx.set('cache-control', 'public, max-age=60');
    ctx.body = await checkpoints.document(org_id, parsed.data);
  });
  return router;
}
