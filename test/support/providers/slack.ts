// A local Slack: OAuth v2 as Slack does it (`/oauth/v2/authorize` with comma-separated scopes;
// `POST /api/oauth.v2.access` with the client secret in the form, answering HTTP 200 with
// `ok: false` and an `error` on failure; bot tokens `xoxb-` with `token_type: bot`, the
// installing user under `authed_user`) and `POST /api/chat.postMessage` answering `{ ok,
// channel, ts, message }` — or `ok: false` with Slack's error code, still HTTP 200.
// Consent: the shared sign-in form (see base.ts); the person who signs in installs the app in
// their workspace, and the token acts as the app's bot user.
import { randomBytes } from 'node:crypto';
import {
  AuthorizationDesk, bearer, listen, readRequestBody, record, sendJson,
  type LocalServer, type OAuthClient, type ProviderCall,
} from './base.ts';

export interface SlackMessage { channel: string; text: string; ts: string; bot_user_id: string; team_id: string }

export interface LocalSlack extends LocalServer {
  desk: AuthorizationDesk;
  calls: ProviderCall[];
  messages: SlackMessage[];
}

export async function startSlack(options: { clients: OAuthClient[]; team: { id: string; name: string }; channels: string[] }): Promise<LocalSlack> {
  const desk = new AuthorizationDesk(options.clients, 'xoxb-', { pkce: false });
  const calls: ProviderCall[] = [];
  const messages: SlackMessage[] = [];
  let clock = 1_700_000_000;

  const server = await listen(async (req, res, url) => {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/oauth/v2/authorize') return desk.renderConsent(res, url, 'Slack');
    if (req.method === 'POST' && path === '/consent/login') {
      return desk.approve(req, res, (p) => (p.get('scope') ?? '').split(',').filter(Boolean), (user) => ({
        team_id: options.team.id, authed_user: `U${Buffer.from(user).toString('hex').slice(0, 8).toUpperCase()}`, bot_user_id: `B${randomBytes(4).toString('hex').toUpperCase()}`,
      }));
    }
    if (req.method === 'POST' && path === '/api/oauth.v2.access') {
      const form = (await readRequestBody(req)).form;
      const result = desk.redeem({ code: form.get('code') ?? '', client_id: form.get('client_id') ?? '', client_secret: form.get('client_secret') ?? '', redirect_uri: form.get('redirect_uri') ?? undefined });
      if (!result.ok) return sendJson(res, 200, { ok: false, error: result.error === 'invalid_client' ? 'invalid_client_id' : 'invalid_code' });
      const e = result.owner.extra;
      return sendJson(res, 200, {
        ok: true, access_token: result.token, token_type: 'bot', scope: result.owner.scopes.join(','), bot_user_id: e.bot_user_id,
        app_id: 'A0WRITAPP', team: options.team, enterprise: null, is_enterprise_install: false, authed_user: { id: e.authed_user },
      });
    }
    if (req.method === 'POST' && path === '/api/chat.postMessage') {
      const token = bearer(req);
      const owner = token ? desk.tokens.get(token) : undefined;
      const body = (await readRequestBody(req)).json as { channel?: string; text?: string } | undefined;
      // The actor Slack sees for a bot token is the bot user.
      const call = record(calls, req, url, token, owner && { ...owner, user: owner.extra.bot_user_id! }, body);
      call.status = 200;
      if (!owner) return sendJson(res, 200, { ok: false, error: 'invalid_auth' });
      if (!owner.scopes.includes('chat:write')) return sendJson(res, 200, { ok: false, error: 'missing_scope', needed: 'chat:write' });
      if (!body?.channel || !options.channels.includes(body.channel)) return sendJson(res, 200, { ok: false, error: 'channel_not_found' });
      const ts = `${clock++}.000100`;
      messages.push({ channel: body.channel, text: String(body.text ?? ''), ts, bot_user_id: owner.extra.bot_user_id!, team_id: owner.extra.team_id! });
      return sendJson(res, 200, { ok: true, channel: body.channel, ts, message: { type: 'message', text: body.text, user: owner.extra.bot_user_id, bot_id: owner.extra.bot_user_id, ts } });
    }
    if (req.method === 'GET' && path === '/api/conversations.list') {
      // Slack's Web API reads GET arguments from the query; the answer is a cursor-paged list.
      const token = bearer(req);
      const owner = token ? desk.tokens.get(token) : undefined;
      const call = record(calls, req, url, token, owner && { ...owner, user: owner.extra.bot_user_id! }, undefined);
      call.status = 200;
      if (!owner) return sendJson(res, 200, { ok: false, error: 'invalid_auth' });
      if (!owner.scopes.some((s) => s === 'channels:read' || s === 'groups:read')) return sendJson(res, 200, { ok: false, error: 'missing_scope', needed: 'channels:read' });
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const channels = options.channels.slice(0, limit).map((id) => ({ id, name: id.toLowerCase(), is_channel: true, is_private: false, is_member: true }));
      return sendJson(res, 200, { ok: true, channels, response_metadata: { next_cursor: '' } });
    }
    sendJson(res, 404, { ok: false, error: 'unknown_method' });
  });
  return { ...server, desk, calls, messages };
}
