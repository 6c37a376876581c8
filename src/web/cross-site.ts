import type { Context, Next } from 'koa';
import { WritError } from '../errors/index.ts';

// DESIGN invariant 10: no request from another site changes anything. Every state-changing
// request to the pages people use must come from a page of the issuer's own origin. Browsers
// say where a request comes from (`Origin` on every POST, `Sec-Fetch-Site` in current ones); a
// request that says neither is accepted only when it carries no cookie — a program, not a
// browser, with nothing that could authenticate it.

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** `none` is a request the user started themselves (typed, bookmarked). */
const ALLOWED_FETCH_SITES = new Set(['same-origin', 'none']);

export function isBrowserSurface(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => path === p || path.startsWith(`${p}/`));
}

/** Why the request is refused as cross-site, or undefined when it may proceed. */
export function crossSiteReason(headers: { origin?: string | undefined; fetchSite?: string | undefined; cookie?: string | undefined }, issuerOrigin: string): string | undefined {
  const { origin, fetchSite, cookie } = headers;
  if (fetchSite !== undefined && !ALLOWED_FETCH_SITES.has(fetchSite.toLowerCase())) return `Sec-Fetch-Site: ${fetchSite}`;
  if (origin !== undefined && origin !== issuerOrigin) return 'Origin is not this site';
  if (origin === undefined && fetchSite === undefined && cookie) return 'a request with cookies that names no origin';
  return undefined;
}

/** Refuses (403, before the body is read) a state-changing request to `prefixes` from another site. */
export function refuseCrossSite(issuer: string, prefixes: readonly string[]) {
  const issuerOrigin = new URL(issuer).origin;
  return async (ctx: Context, next: Next) => {
    if (!SAFE_METHODS.has(ctx.method) && isBrowserSurface(ctx.path, prefixes)) {
      const header = (name: string) => { const v = ctx.req.headers[name]; return Array.isArray(v) ? v.join(',') : v; };
      const reason = crossSiteReason({ origin: header('origin'), fetchSite: header('sec-fetch-site'), cookie: header('cookie') }, issuerOrigin);
      if (reason) {
        throw new WritError('forbidden', 'this form was sent from another site; open the page on this site and submit it there', { debug: { reason } });
      }
    }
    await next();
  };
}
