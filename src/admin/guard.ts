import type { Context, Next } from 'koa';
import { safeEqual } from '../core/secrets.ts';
import { WritError } from '../errors/index.ts';

// One gate in front of everything under /admin/v1, whichever router serves it: a router's own
// `use` runs only for its own routes, so a second admin router would otherwise be open.
// Case-insensitive and on the decoded path, because the routers match paths that way too.
const ADMIN_PATH = /^\/+admin\/+v1(\/|$)/i;

function isAdminPath(path: string): boolean {
  if (ADMIN_PATH.test(path)) return true;
  try {
    return ADMIN_PATH.test(decodeURIComponent(path));
  } catch {
    return false;
  }
}

/** `Authorization: Bearer $WRIT_ADMIN_TOKEN`, compared in constant time. */
export function adminGuard(adminToken: string) {
  return async (ctx: Context, next: Next) => {
    if (!isAdminPath(ctx.path)) return next();
    const header = ctx.get('authorization');
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token || !safeEqual(token, adminToken)) {
      ctx.set('www-authenticate', 'Bearer realm="writ-admin"');
      throw new WritError('unauthorized', 'a valid admin bearer token is required');
    }
    return next();
  };
}
