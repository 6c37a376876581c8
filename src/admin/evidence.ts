import Router from '@koa/router';
import type { Context } from 'koa';
import type { Checkpoints } from '../audit/checkpoints.ts';
import type { AuditLog } from '../audit/log.ts';
import type { SiemDelivery } from '../audit/siem.ts';
import type { Clock } from '../core/clock.ts';
import { WritError } from '../errors/index.ts';
import type { WritStore } from '../storage/index.ts';
import { readJson } from '../web/body.ts';
import { checkpointsQuery, siemStreamBody } from './schemas.ts';
import { validate } from './validate.ts';
import { orgOfRoute } from './org.ts';

export interface EvidenceAdminDeps {
  store: WritStore;
  audit: AuditLog;
  checkpoints: Checkpoints;
  siem: SiemDelivery;
  clock: Clock;
}

const ADMIN_ACTOR = { kind: 'admin' } as const;

/** Audit evidence under `/admin/v1/orgs/:org/audit/…`: checkpoints on demand, and the org's SIEM stream. */
export function evidenceAdminRoutes(deps: EvidenceAdminDeps): Router {
  const { store, checkpoints } = deps;
  const router = new Router({ prefix: '/admin/v1/orgs/:org/audit' });

  const org = (ctx: Context) => orgOfRoute(store.directory, ctx);

  // Signs the chain's head now (or returns the checkpoint that already covers it).
  router.post('/checkpoints', async (ctx) => {
    const org_id = await org(ctx);
    const checkpoint = await checkpoints.checkpoint(org_id);
    if (!checkpoint) throw new WritError('conflict', 'the org has no audit events to checkpoint yet');
    ctx.status = 201;
    ctx.body = checkpoint;
  });
  router.get('/checkpoints', async (ctx) => {
    const org_id = await org(ctx);
    ctx.body = await checkpoints.document(org_id, validate(checkpointsQuery, ctx.query));
  });

  router.put('/stream', async (ctx) => {
    const org_id = await org(ctx);
    const body = validate(siemStreamBody, await readJson(ctx.req));
    const at = deps.clock.now();
    const [head] = body.from === 'now' ? await deps.audit.query(org_id, { limit: 1 }) : [];
    const existing = await store.siem.getStream(org_id);
    const iso = new Date(at).toISOString();
    await store.siem.putStream({
      org_id, url: body.url, cursor: body.from ? head?.seq ?? 0 : existing?.cursor ?? 0, failures: 0, next_attempt_at: at,
      created_at: existing?.created_at ?? iso, updated_at: iso,
    });
    await deps.audit.record(org_id, { type: 'audit.stream_configured', actor: ADMIN_ACTOR, subject: { org_id }, details: { url: body.url, from: body.from ?? (existing ? 'cursor' : 'start') } });
    ctx.body = await streamView(org_id);
  });
  router.get('/stream', async (ctx) => {
    ctx.body = await streamView(await org(ctx));
  });
  router.delete('/stream', async (ctx) => {
    const org_id = await org(ctx);
    if (!(await store.siem.deleteStream(org_id))) throw new WritError('not_found', 'this org has no SIEM stream');
    await deps.audit.record(org_id, { type: 'audit.stream_configured', actor: ADMIN_ACTOR, subject: { org_id }, details: { deleted: true } });
    ctx.status = 204;
  });
  // Delivers what is due now instead of waiting for the next interval.
  router.post('/stream/deliver', async (ctx) => {
    const org_id = await org(ctx);
    if (!(await store.siem.getStream(org_id))) throw new WritError('not_found', 'this org has no SIEM stream');
    ctx.body = await deps.siem.deliver(org_id);
  });

  async function streamView(org_id: string) {
    const s = await store.siem.getStream(org_id);
    if (!s) throw new WritError('not_found', 'this org has no SIEM stream');
    const { lease_owner: _o, lease_until: _u, ...view } = s;
    return view;
  }

  return router;
}
