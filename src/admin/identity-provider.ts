import Router from '@koa/router';
import type { Context } from 'koa';
import { WritError } from '../errors/index.ts';
import type { DirectoryStore } from '../storage/ports/directory.ts';
import type { SingleSignOn } from '../sso/service.ts';
import { crossAppBody, identityProviderBody } from '../sso/schema.ts';
import { readJson } from '../web/body.ts';
import { validate } from './validate.ts';

export { crossAppBody, identityProviderBody };

// `/admin/v1/orgs/{org}/identity-provider`: the org's OpenID provider for single sign-on, and
// `/admin/v1/orgs/{org}/cross-app-access`: the authorization servers Writ issues ID-JAGs for.
// Behind the admin router's bearer check (mounted under the same prefix, after it).

export interface IdentityProviderAdminDeps {
  directory: DirectoryStore;
  sso: SingleSignOn;
}

const ADMIN_ACTOR = { kind: 'admin' } as const;

export function identityProviderAdminRoutes(deps: IdentityProviderAdminDeps): Router {
  const router = new Router({ prefix: '/admin/v1/orgs/:org' });

  async function orgId(ctx: Context): Promise<string> {
    const found = await deps.directory.getOrg(String(ctx.params.org));
    if (!found) throw new WritError('not_found', 'no such org');
    return found.id;
  }

  router.put('/identity-provider', async (ctx) => {
    const org_id = await orgId(ctx);
    const body = validate(identityProviderBody, await readJson(ctx.req));
    ctx.body = await deps.sso.configure(org_id, body, ADMIN_ACTOR);
  });
  router.get('/identity-provider', async (ctx) => {
    const idp = await deps.sso.provider(await orgId(ctx));
    if (!idp) throw new WritError('not_found', 'this org has no identity provider');
    ctx.body = deps.sso.view(idp);
  });
  router.delete('/identity-provider', async (ctx) => {
    if (!(await deps.sso.remove(await orgId(ctx), ADMIN_ACTOR))) throw new WritError('not_found', 'this org has no identity provider');
    ctx.status = 204;
  });

  router.put('/cross-app-access', async (ctx) => {
    const org_id = await orgId(ctx);
    const body = validate(crossAppBody, await readJson(ctx.req));
    ctx.body = await deps.sso.configureCrossApp(org_id, body, ADMIN_ACTOR);
  });
  router.get('/cross-app-access', async (ctx) => {
    const org_id = await orgId(ctx);
    ctx.body = (await deps.sso.crossApp(org_id)) ?? { org_id, targets: [] };
  });

  return router;
}
