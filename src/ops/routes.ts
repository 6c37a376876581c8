// The operator's endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document,
// plus the request counter every response passes through. Plain middleware over a structural
// context, so this room needs neither Koa nor a router.

import type { Metrics } from './metrics.ts';
import { METRICS_CONTENT_TYPE } from './metrics.ts';

/** The part of a Koa context these handlers use. */
export interface OpsContext {
  method: string;
  path: string;
  status: number;
  body: unknown;
  set(field: string, value: string): void;
}
type Next = () => Promise<unknown>;

export interface OpsDeps {
  metrics: Metrics;
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  /** True once signing keys are loaded. */
  keysLoaded(): boolean;
  openapi(): unknown;
}

/**
 * Route classes for the request counter: a fixed, small set, so a scanner probing random paths
 * cannot grow the label space.
 */
export function routeClass(path: string): string {
  if (path.startsWith('/admin/')) return 'admin';
  if (path === '/token') return 'token';
  if (path.startsWith('/authorize') || path.startsWith('/auth/')) return 'authorize';
  if (path === '/introspect' || path === '/token/introspection') return 'introspect';
  if (path === '/revoke' || path === '/token/revocation') return 'revoke';
  if (path === '/jwks') return 'jwks';
  if (path.startsWith('/.well-known/')) return 'discovery';
  if (path.startsWith('/interaction')) return 'interaction';
  if (path.startsWith('/account')) return 'account';
  if (path.startsWith('/connect')) return 'connect';
  if (/^\/v1\/tools\/[^/]+\/execute$/.test(path)) return 'execute';
  if (path === '/v1/tools') return 'tools';
  if (path === '/v1/revocations') return 'revocations';
  if (path === '/healthz' || path === '/readyz') return 'health';
  if (path === '/metrics') return 'metrics';
  if (path === '/openapi.json') return 'openapi';
  if (path === '/par') return 'par';
  if (path.startsWith('/session/end')) return 'logout';
  if (path === '/backchannel') return 'backchannel';
  if (path.startsWith('/reg')) return 'registration';
  if (path.startsWith('/mcp')) return 'mcp';
  if (path.startsWith('/console')) return 'console';
  if (path.startsWith('/scim/')) return 'scim';
  return 'other';
}

/** Counts and times every request once, after the inner handlers (and the error boundary) set its status. */
export function countRequests(metrics: Metrics) {
  return async (ctx: OpsContext, next: Next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      metrics.observeHttpRequest(routeClass(ctx.path), ctx.status, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

export function opsRoutes(deps: OpsDeps) {
  return async (ctx: OpsContext, next: Next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    switch (ctx.path) {
      case '/healthz':
        ctx.set('cache-control', 'no-store');
        ctx.body = { status: 'ok' };
        return;
      case '/readyz': {
        ctx.set('cache-control', 'no-store');
        const checks = { store: 'ok', keys: deps.keysLoaded() ? 'ok' : 'missing' };
        try { await deps.ping(); } catch { checks.store = 'unreachable'; }
        const ready = checks.store === 'ok' && checks.keys === 'ok';
        ctx.status = ready ? 200 : 503;
        ctx.body = { status: ready ? 'ready' : 'not_ready', checks };
        return;
      }
      case '/metrics':
        ctx.set('cache-control', 'no-store');
        ctx.set('content-type', METRICS_CONTENT_TYPE);
        ctx.body = await deps.metrics.render();
        return;
      case '/openapi.json':
        ctx.body = deps.openapi();
        return;
      default:
        return next();
    }
  };
}
