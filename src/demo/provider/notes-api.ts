// The protected resource: a tiny notes API. Every call must carry an access token this provider
// issued for the API (RFC 6750 §2.1 bearer header), still valid and with the needed scope.
import { randomUUID } from 'node:crypto';
import type { Next } from 'koa';
import { z } from 'zod';
import { BodyTooLarge, readBody } from './body.ts';
import { applyFault, type FaultSwitch } from './faults.ts';
import type { OidcAccessToken, OidcContext, OidcProvider } from './oidc.ts';

export interface Note {
  id: string;
  title: string;
  body: string;
  owner: string;
  created_at: string;
}

const NewNote = z.strictObject({
  title: z.string().min(1).max(200),
  body: z.string().max(10_000),
});

const BODY_LIMIT = 64 * 1024;
const REALM = 'demo-notes';

interface Caller {
  token: OidcAccessToken;
  value: string;
  scopes: Set<string>;
}

export interface NotesApiDeps {
  provider: OidcProvider;
  /** Resource indicator the API's access tokens are issued for (their `aud`). */
  resource: string;
  notes: Map<string, Note>;
  faults: FaultSwitch;
  /** Every API request, with its raw request target. */
  onCall(method: string, target: string): void;
}

export function notesApi(deps: NotesApiDeps) {
  return async function api(ctx: OidcContext, next: Next): Promise<void> {
    if (ctx.path !== '/api' && !ctx.path.startsWith('/api/')) return next();
    deps.onCall(ctx.method, ctx.req.url ?? ctx.originalUrl);
    ctx.set('Cache-Control', 'no-store');

    const fault = deps.faults.take();
    if (fault && applyFault(ctx, fault)) return;

    const caller = await authenticate(ctx, deps);
    if (!caller) return;

    const route = `${ctx.method} ${ctx.path.replace(/^\/api\/notes\/[^/]+$/, '/api/notes/:id')}`;
    switch (route) {
      case 'GET /api/whoami':
        ctx.body = { sub: caller.token.accountId, scope: [...caller.scopes].join(' '), client_id: caller.token.clientId };
        break;
      case 'GET /api/notes':
        if (!requireScope(ctx, caller, 'notes:read')) return;
        ctx.body = { notes: [...deps.notes.values()].filter((n) => n.owner === caller.token.accountId) };
        break;
      case 'GET /api/notes/:id': {
        if (!requireScope(ctx, caller, 'notes:read')) return;
        const note = deps.notes.get(safeDecode(ctx.path.slice('/api/notes/'.length)));
        // Another user's note answers exactly like a missing one.
        if (!note || note.owner !== caller.token.accountId) {
          problem(ctx, 404, 'not_found', 'no such note');
          return;
        }
        ctx.body = note;
        break;
      }
      case 'POST /api/notes': {
        if (!requireScope(ctx, caller, 'notes:write')) return;
        const input = await readNote(ctx);
        if (!input) return;
        const note: Note = {
          id: `note_${randomUUID()}`,
          title: input.title,
          body: input.body,
          owner: caller.token.accountId,
          created_at: new Date().toISOString(),
        };
        deps.notes.set(note.id, note);
        ctx.status = 201;
        ctx.set('Location', `/api/notes/${note.id}`);
        ctx.body = note;
        break;
      }
      default:
        problem(ctx, 404, 'not_found', 'no such endpoint');
        return;
    }

    // A provider that reflects credentials: the caller must not pass this body on verbatim.
    if (fault?.kind === 'echo_token' && ctx.body && typeof ctx.body === 'object') {
      ctx.body = { ...(ctx.body as object), received_token: caller.value };
    }
  };
}

async function authenticate(ctx: OidcContext, deps: NotesApiDeps): Promise<Caller | undefined> {
  const header = ctx.get('Authorization');
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  if (!header) {
    // RFC 6750 §3.1: a request without credentials gets the challenge but no error code.
    ctx.set('WWW-Authenticate', `Bearer realm="${REALM}"`);
    problem(ctx, 401, 'invalid_token', 'a bearer access token is required');
    return undefined;
  }
  if (!match?.[1]) {
    ctx.set('WWW-Authenticate', `Bearer realm="${REALM}", error="invalid_request"`);
    problem(ctx, 400, 'invalid_request', 'the Authorization header is not a bearer token');
    return undefined;
  }
  const value = match[1];
  const token = await deps.provider.AccessToken.find(value);
  // find() answers undefined for unknown, expired and revoked tokens alike. A token minted for
  // another resource, or whose grant was withdrawn, is refused the same way.
  const audiences = token ? [token.aud ?? []].flat() : [];
  const grant = token && audiences.includes(deps.resource) ? await deps.provider.Grant.find(token.grantId) : undefined;
  if (!token || !grant) {
    ctx.set('WWW-Authenticate', `Bearer realm="${REALM}", error="invalid_token", error_description="the access token is invalid or has expired"`);
    problem(ctx, 401, 'invalid_token', 'the access token is invalid or has expired');
    return undefined;
  }
  return { token, value, scopes: new Set((token.scope ?? '').split(' ').filter(Boolean)) };
}

function requireScope(ctx: OidcContext, caller: Caller, scope: string): boolean {
  if (caller.scopes.has(scope)) return true;
  // RFC 6750 §3.1: insufficient_scope, naming the scope that would do.
  ctx.set('WWW-Authenticate', `Bearer realm="${REALM}", error="insufficient_scope", scope="${scope}"`);
  problem(ctx, 403, 'insufficient_scope', `this call needs the ${scope} scope`);
  return false;
}

async function readNote(ctx: OidcContext): Promise<z.infer<typeof NewNote> | undefined> {
  if (!ctx.is('application/json')) {
    problem(ctx, 415, 'invalid_request', 'send the note as application/json');
    return undefined;
  }
  try {
    return NewNote.parse(JSON.parse(await readBody(ctx.req, BODY_LIMIT)));
  } catch (err) {
    if (err instanceof BodyTooLarge) problem(ctx, 413, 'invalid_request', 'the note is too large');
    else problem(ctx, 400, 'invalid_request', 'a note is { "title": string (1-200), "body": string }');
    return undefined;
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return ''; // malformed percent-encoding names no note
  }
}

function problem(ctx: OidcContext, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.body = { error, error_description: description };
}
