import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../core/log.ts';
import { isWritError, WritError } from '../errors/index.ts';
import { html } from './html.ts';
import { renderPage } from './html.ts';
import { isBrowserSurface } from './cross-site.ts';

/** Request id, one access-log line per request (path only: query strings can carry codes). */
export function requestLog(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    const started = performance.now();
    const request_id = randomUUID();
    ctx.state.request_id = request_id;
    ctx.state.logger = logger.child({ request_id });
    ctx.set('x-request-id', request_id);
    try {
      await next();
    } finally {
      logger.info('request', { request_id, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round((performance.now() - started) * 10) / 10 });
    }
  };
}

/**
 * The store is down rather than the request wrong: a closed or unreachable database (node:sqlite's
 * closed handle, SQLite busy/locked/I-O/cannot-open, MongoDB network and server selection).
 */
export function isStoreUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; errcode?: unknown; name?: unknown; message?: unknown };
  if (e.code === 'ERR_INVALID_STATE' && typeof e.message === 'string' && /database is not open|statement has been finalized/.test(e.message)) return true;
  // SQLITE_BUSY 5, SQLITE_LOCKED 6, SQLITE_IOERR 10 (and its extended codes), SQLITE_CANTOPEN 14
  if (e.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number' && [5, 6, 10, 14].includes(e.errcode & 0xff)) return true;
  return typeof e.name === 'string' && /^Mongo(Network|ServerSelection|NotConnected|Topology|PoolClosed)/.test(e.name);
}

const wantsHtml = (ctx: Context) => /^\/(interaction|account|connect|console|sso)(\/|$)/.test(ctx.path);

/**
 * Every error leaves as `{ error, error_description }` (or an HTML page for people), with no
 * stack and no internal detail; the cause goes to the log.
 */
export function errorBoundary(logger: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      let error: WritError;
      if (isWritError(err)) error = err;
      else if (isStoreUnavailable(err)) {
        error = new WritError('temporarily_unavailable', 'the service cannot reach its store; try again shortly', { cause: err });
        ctx.set('retry-after', '1');
      }
      else if (err && typeof err === 'object' && 'status' in err && typeof (err as { status: unknown }).status === 'number' && (err as { expose?: boolean }).expose) {
        const e = err as { status: number; message: string };
        error = new WritError(e.status === 404 ? 'not_found' : 'invalid_request', e.message, { status: e.status });
      } else {
        error = new WritError('server_error', 'an unexpected error occurred', { cause: err });
      }
      const log = (ctx.state.logger as Logger | undefined) ?? logger;
      if (error.status >= 500) log.error('request failed', { error_code: error.code, err: error.cause ?? error, debug: error.debug });
      else log.info('request refused', { error_code: error.code, description: error.description, debug: error.debug });
      ctx.status = error.status;
      if (wantsHtml(ctx)) {
        const page = renderPage({ title: 'Error', body: html`<h1>This request could not be completed</h1><p class="error"><code>${error.code}</code> — ${error.description}</p>` });
        ctx.set(page.headers);
        ctx.body = page.body;
      } else {
        ctx.set('cache-control', 'no-store');
        ctx.body = error.toOAuthBody();
      }
    }
  };
}

/** A path under the pages that nothing answered: the HTML not-found page, not the bare default. */
export function pagesNotFound(prefixes: readonly string[]) {
  return async (ctx: Context, next: Next) => {
    await next();
    if (ctx.status === 404 && ctx.body === undefined && isBrowserSurface(ctx.path, prefixes)) throw new WritError('not_found', 'there is no such page');
  };
}

/** For the pages' routers: a method a page does not answer gets the HTML error page, never a bare 405 or a 501. */
export const pageMethodErrors = {
  throw: true,
  methodNotAllowed: () => new WritError('invalid_request', 'this page does not answer that method', { status: 405 }),
  notImplemented: () => new WritError('invalid_request', 'this page does not answer that method', { status: 405 }),
};

/** Headers every response carries. */
export async function securityHeaders(ctx: Context, next: Next) {
  ctx.set('x-content-type-options', 'nosniff');
  ctx.set('x-frame-options', 'DENY');
  ctx.set('referrer-policy', 'no-referrer');
  await next();
  if (!ctx.response.get('content-security-policy')) ctx.set('content-security-policy', "frame-ancestors 'none'");
}
