// A local Google: OAuth 2.0 as Google does it (`/o/oauth2/v2/auth` with space-separated scopes,
// PKCE, `access_type=offline`; `POST /token` with the client secret in the form, answering a
// refresh token on the first consent; access tokens `ya29.` for an hour), Gmail under
// `/gmail/v1` (`users.messages.send` takes the whole RFC 5322 message base64url in `raw` and reads
// its recipients from the To, Cc and Bcc headers; `list`, `get`) and Calendar under
// `/calendar/v3` (`events.insert`, `events.list`). Errors are Google's `{ error: { code, message,
// status } }`. Consent: the shared sign-in form (see base.ts); whoever signs in is the mailbox.
import { randomBytes } from 'node:crypto';
import {
  AuthorizationDesk, bearer, listen, readRequestBody, record, sendJson,
  type LocalServer, type OAuthClient, type ProviderCall, type TokenOwner,
} from './base.ts';

export interface SentMessage { id: string; threadId: string; from: string; to: string[]; cc: string[]; bcc: string[]; subject: string; text: string }
export interface CalendarEvent { id: string; calendarId: string; summary: string; start: unknown; end: unknown; organizer: string }

export interface LocalGoogle extends LocalServer {
  desk: AuthorizationDesk;
  calls: ProviderCall[];
  sent: SentMessage[];
  events: CalendarEvent[];
}

const GMAIL_SEND = 'https://www.googleapis.com/auth/gmail.send';
const GMAIL_READ = 'https://www.googleapis.com/auth/gmail.readonly';

/** RFC 2047 encoded-words back to text. */
const decodeWords = (value: string) => value.replace(/\r\n /g, '').replace(/=\?UTF-8\?B\?([^?]*)\?=/gi, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));

/** The parts of an RFC 5322 message Gmail reads: headers (unfolded) and the decoded plain text. */
export function parseMessage(raw: string): { headers: Map<string, string>; text: string } {
  const at = raw.indexOf('\r\n\r\n');
  if (at < 0) throw new Error('no blank line between headers and body');
  const headers = new Map<string, string>();
  for (const line of raw.slice(0, at).replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line: ${line}`);
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  const body = raw.slice(at + 4);
  const text = /base64/i.test(headers.get('content-transfer-encoding') ?? '') ? Buffer.from(body.replace(/\r\n/g, ''), 'base64').toString('utf8') : body;
  return { headers, text };
}

const googleError = (code: number, status: string, message: string) => ({ error: { code, message, status } });

export async function startGoogle(options: { clients: OAuthClient[] }): Promise<LocalGoogle> {
  const desk = new AuthorizationDesk(options.clients, 'ya29.');
  const calls: ProviderCall[] = [];
  const sent: SentMessage[] = [];
  const events: CalendarEvent[] = [];
  const refreshTokens = new Map<string, TokenOwner>();

  const server = await listen(async (req, res, url) => {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/o/oauth2/v2/auth') return desk.renderConsent(res, url, 'Google');
    if (req.method === 'POST' && path === '/consent/login') return desk.approve(req, res, (p) => (p.get('scope') ?? '').split(' ').filter(Boolean));
    if (req.method === 'POST' && path === '/token') {
      const form = (await readRequestBody(req)).form;
      const client = desk.client(form.get('client_id') ?? '');
      if (form.get('grant_type') === 'refresh_token') {
        if (!client || client.client_secret !== form.get('client_secret')) return sendJson(res, 401, { error: 'invalid_client' });
        const owner = refreshTokens.get(form.get('refresh_token') ?? '');
        if (!owner) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
        // Google does not rotate refresh tokens: the same one keeps working.
        return sendJson(res, 200, { access_token: desk.mint(owner), token_type: 'Bearer', expires_in: 3599, scope: owner.scopes.join(' ') });
      }
      const result = desk.redeem({
        code: form.get('code') ?? '', client_id: form.get('client_id') ?? '', client_secret: form.get('client_secret') ?? '',
        redirect_uri: form.get('redirect_uri') ?? undefined, code_verifier: form.get('code_verifier') ?? undefined,
      });
      if (!result.ok) return sendJson(res, result.error === 'invalid_client' ? 401 : 400, { error: result.error });
      const refresh_token = `1//${randomBytes(16).toString('hex')}`;
      refreshTokens.set(refresh_token, result.owner);
      return sendJson(res, 200, { access_token: result.token, token_type: 'Bearer', expires_in: 3599, scope: result.owner.scopes.join(' '), refresh_token });
    }

    const token = bearer(req);
    const owner = token ? desk.tokens.get(token) : undefined;
    const body = (await readRequestBody(req)).json as Record<string, any> | undefined;
    const call = record(calls, req, url, token, owner, body);
    const answer = (status: number, payload: unknown) => { call.status = status; sendJson(res, status, payload); };
    if (!owner) return answer(401, googleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.'));
    const needs = (scope: string) => owner.scopes.includes(scope) || owner.scopes.includes('https://www.googleapis.com/auth/gmail.modify');

    if (req.method === 'POST' && path === '/gmail/v1/users/me/messages/send') {
      if (!needs(GMAIL_SEND)) return answer(403, googleError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.'));
      if (typeof body?.raw !== 'string') return answer(400, googleError(400, 'INVALID_ARGUMENT', "'raw' RFC822 payload message string or uploading message via /upload/* URL required"));
      let parsed;
      try { parsed = parseMessage(Buffer.from(body.raw, 'base64url').toString('utf8')); } catch (err) {
        return answer(400, googleError(400, 'INVALID_ARGUMENT', `Invalid message: ${(err as Error).message}`));
      }
      const list = (h: string) => (parsed.headers.get(h) ?? '').split(',').map((a) => a.trim()).filter(Boolean);
      const to = list('to');
      if (!to.length) return answer(400, googleError(400, 'INVALID_ARGUMENT', 'Invalid To header'));
      const id = randomBytes(8).toString('hex');
      sent.push({ id, threadId: body.threadId ?? id, from: owner.user, to, cc: list('cc'), bcc: list('bcc'), subject: decodeWords(parsed.headers.get('subject') ?? ''), text: parsed.text });
      return answer(200, { id, threadId: body.threadId ?? id, labelIds: ['SENT'] });
    }
    if (req.method === 'GET' && path === '/gmail/v1/users/me/messages') {
      if (!needs(GMAIL_READ)) return answer(403, googleError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.'));
      const mine = sent.filter((m) => m.from === owner.user);
      return answer(200, { messages: mine.map((m) => ({ id: m.id, threadId: m.threadId })), resultSizeEstimate: mine.length });
    }
    const message = /^\/gmail\/v1\/users\/me\/messages\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && message) {
      if (!needs(GMAIL_READ)) return answer(403, googleError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.'));
      const m = sent.find((s) => s.id === decodeURIComponent(message[1]!) && s.from === owner.user);
      if (!m) return answer(404, googleError(404, 'NOT_FOUND', 'Requested entity was not found.'));
      return answer(200, { id: m.id, threadId: m.threadId, snippet: m.text.slice(0, 100), payload: { headers: [{ name: 'Subject', value: m.subject }, { name: 'To', value: m.to.join(', ') }] } });
    }
    const calendar = /^\/calendar\/v3\/calendars\/([^/]+)\/events$/.exec(path);
    if (calendar) {
      const calendarId = decodeURIComponent(calendar[1]!);
      if (!owner.scopes.some((s) => s.startsWith('https://www.googleapis.com/auth/calendar'))) return answer(403, googleError(403, 'PERMISSION_DENIED', 'Request had insufficient authentication scopes.'));
      if (req.method === 'POST') {
        if (!body?.start || !body?.end) return answer(400, googleError(400, 'INVALID_ARGUMENT', 'Missing end time.'));
        const event: CalendarEvent = { id: randomBytes(10).toString('hex'), calendarId, summary: String(body.summary ?? ''), start: body.start, end: body.end, organizer: owner.user };
        events.push(event);
        return answer(200, { kind: 'calendar#event', id: event.id, status: 'confirmed', summary: event.summary, start: event.start, end: event.end, organizer: { email: owner.user } });
      }
      if (req.method === 'GET') {
        return answer(200, { kind: 'calendar#events', items: events.filter((e) => e.calendarId === calendarId && e.organizer === owner.user).map((e) => ({ id: e.id, summary: e.summary, start: e.start, end: e.end })) });
      }
    }
    answer(404, googleError(404, 'NOT_FOUND', 'Not Found'));
  });
  return { ...server, desk, calls, sent, events };
}
