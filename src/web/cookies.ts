import { randomBytes } from 'node:crypto';
import type { Context } from 'koa';

// Writ's own cookies for people: HttpOnly, SameSite=Lax (a cross-site POST does not carry them),
// path `/`, and the `__Host-` prefix where they are Secure, so a sibling subdomain cannot plant one.

export interface CookieOptions {
  /** True when the issuer is https. */
  secure: boolean;
  maxAgeSeconds?: number;
}

export function cookieName(base: string, secure: boolean): string {
  return secure ? `__Host-${base}` : base;
}

export function setCookie(ctx: Context, name: string, value: string, options: CookieOptions): void {
  // TLS may end at a proxy in front of Writ: the browser still speaks https to the issuer.
  if (options.secure) ctx.cookies.secure = true;
  ctx.cookies.set(name, value, {
    httpOnly: true, sameSite: 'lax', secure: options.secure, path: '/', overwrite: true,
    ...(options.maxAgeSeconds === undefined ? {} : { maxAge: options.maxAgeSeconds * 1000 }),
  });
}

export function clearCookie(ctx: Context, name: string, secure: boolean): void {
  setCookie(ctx, name, '', { secure, maxAgeSeconds: 0 });
}

// The pre-session: a random id the browser holds before anyone signs in. The sign-in form's
// CSRF token is bound to it, so a form token is good only in the browser it was served to.
const PRE_SESSION = 'writ_presession';
const PRE_SESSION_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const PRE_SESSION_SECONDS = 3600;

export function readPreSession(ctx: Context, secure: boolean): string | undefined {
  const value = ctx.cookies.get(cookieName(PRE_SESSION, secure));
  return value && PRE_SESSION_SHAPE.test(value) ? value : undefined;
}

/** The browser's pre-session id, minted and set when it has none. */
export function preSession(ctx: Context, secure: boolean): string {
  const existing = readPreSession(ctx, secure);
  if (existing) return existing;
  const value = randomBytes(32).toString('base64url');
  setCookie(ctx, cookieName(PRE_SESSION, secure), value, { secure, maxAgeSeconds: PRE_SESSION_SECONDS });
  return value;
}

export function endPreSession(ctx: Context, secure: boolean): void {
  clearCookie(ctx, cookieName(PRE_SESSION, secure), secure);
}
