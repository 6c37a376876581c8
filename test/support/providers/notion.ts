// A local Notion: OAuth as Notion does it (authorize with `owner=user`; `POST /v1/oauth/token`
// with HTTP Basic client authentication and a JSON body — a form body is accepted too; tokens
// that never expire and no refresh token; `POST /v1/oauth/revoke`) and the pages API (`POST
// /v1/pages`, `GET /v1/pages/{id}`) that needs a `Notion-Version` header and answers Notion's
// error objects. Access is per workspace: a token reaches the pages shared in its user's
// workspace and nothing else. Consent: the shared sign-in form (see base.ts).
import { randomUUID } from 'node:crypto';
import {
  AuthorizationDesk, basicCredentials, bearer, listen, readRequestBody, record, sendJson,
  type LocalServer, type OAuthClient, type ProviderCall,
} from './base.ts';

export interface NotionPage { id: string; parent_id: string | undefined; workspace_id: string; title: string; created_by_bot: string | undefined; created_for: string | undefined }

export interface NotionWorkspace { id: string; name: string; members: string[]; pages: Array<{ id: string; title: string }> }

export interface LocalNotion extends LocalServer {
  desk: AuthorizationDesk;
  calls: ProviderCall[];
  pages: Map<string, NotionPage>;
  revoked: string[];
}

const notionError = (status: number, code: string, message: string) => ({ object: 'error', status, code, message, request_id: randomUUID() });

export async function startNotion(options: { clients: OAuthClient[]; workspaces: NotionWorkspace[] }): Promise<LocalNotion> {
  const desk = new AuthorizationDesk(options.clients, 'ntn_', { pkce: false });
  const calls: ProviderCall[] = [];
  const pages = new Map<string, NotionPage>();
  const revoked: string[] = [];
  for (const w of options.workspaces) for (const p of w.pages) pages.set(p.id, { id: p.id, parent_id: undefined, workspace_id: w.id, title: p.title, created_by_bot: undefined, created_for: undefined });
  const workspaceOf = (user: string) => options.workspaces.find((w) => w.members.includes(user));

  const server = await listen(async (req, res, url) => {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/v1/oauth/authorize') {
      return desk.renderConsent(res, url, 'Notion', (params) => (params.get('owner') === 'user' ? undefined : 'invalid_request'));
    }
    if (req.method === 'POST' && path === '/consent/login') {
      return desk.approve(req, res, () => [], (user) => {
        const w = workspaceOf(user);
        return { workspace_id: w?.id ?? '', workspace_name: w?.name ?? '', bot_id: randomUUID(), user_id: randomUUID() };
      });
    }
    if (req.method === 'POST' && path === '/v1/oauth/token') {
      const client = basicCredentials(req);
      if (!client) return sendJson(res, 401, { error: 'invalid_client', error_description: 'Notion authenticates the integration with HTTP Basic.' });
      const body = await readRequestBody(req);
      const fields = (body.json as Record<string, string> | undefined) ?? Object.fromEntries(body.form);
      if (fields.grant_type !== 'authorization_code') return sendJson(res, 400, { error: 'unsupported_grant_type', error_description: 'Notion tokens do not expire and are not refreshed.' });
      const result = desk.redeem({ code: fields.code ?? '', client_id: client.id, client_secret: client.secret, redirect_uri: fields.redirect_uri });
      if (!result.ok) return sendJson(res, result.error === 'invalid_client' ? 401 : 400, { error: result.error, error_description: 'The authorization code is invalid.' });
      const e = result.owner.extra;
      // Notion's token response: no expires_in, no refresh_token.
      return sendJson(res, 200, {
        access_token: result.token, token_type: 'bearer', bot_id: e.bot_id, workspace_id: e.workspace_id, workspace_name: e.workspace_name,
        workspace_icon: null, owner: { type: 'user', user: { object: 'user', id: e.user_id, name: result.owner.user } }, duplicated_template_id: null, request_id: randomUUID(),
      });
    }
    if (req.method === 'POST' && path === '/v1/oauth/revoke') {
      const client = basicCredentials(req);
      const body = await readRequestBody(req);
      const token = ((body.json as Record<string, string> | undefined) ?? Object.fromEntries(body.form)).token ?? '';
      if (!client || !desk.client(client.id)) return sendJson(res, 401, { error: 'invalid_client' });
      desk.tokens.delete(token);
      revoked.push(token);
      return sendJson(res, 200, {});
    }

    if (path.startsWith('/v1/pages')) {
      const token = bearer(req);
      const owner = token ? desk.tokens.get(token) : undefined;
      const body = req.method === 'POST' ? (await readRequestBody(req)).json : undefined;
      const call = record(calls, req, url, token, owner, body);
      const answer = (status: number, payload: unknown) => { call.status = status; sendJson(res, status, payload); };
      if (!owner) return answer(401, notionError(401, 'unauthorized', 'API token is invalid.'));
      if (!req.headers['notion-version']) return answer(400, notionError(400, 'missing_version', 'Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`.'));
      const reachable = (id: string | undefined) => id !== undefined && pages.get(id)?.workspace_id === owner.extra.workspace_id;
      if (req.method === 'POST' && path === '/v1/pages') {
        const input = body as { parent?: { page_id?: string }; properties?: { title?: Array<{ text?: { content?: string } }> } } | undefined;
        const parent = input?.parent?.page_id;
        if (!reachable(parent)) return answer(404, notionError(404, 'object_not_found', `Could not find page with ID: ${String(parent)}. Make sure the relevant pages and databases are shared with your integration.`));
        const page: NotionPage = {
          id: randomUUID(), parent_id: parent, workspace_id: owner.extra.workspace_id!, title: input?.properties?.title?.[0]?.text?.content ?? '',
          created_by_bot: owner.extra.bot_id, created_for: owner.user,
        };
        pages.set(page.id, page);
        return answer(200, pageObject(page));
      }
      const id = /^\/v1\/pages\/([^/]+)$/.exec(path)?.[1];
      if (req.method === 'GET' && id) {
        if (!reachable(id)) return answer(404, notionError(404, 'object_not_found', `Could not find page with ID: ${id}.`));
        return answer(200, pageObject(pages.get(id)!));
      }
    }
    if (req.method === 'POST' && path === '/v1/search') {
      // Search finds the pages shared with the token's workspace whose title holds the query.
      const token = bearer(req);
      const owner = token ? desk.tokens.get(token) : undefined;
      const body = (await readRequestBody(req)).json as { query?: string; page_size?: number } | undefined;
      const call = record(calls, req, url, token, owner, body);
      const answer = (status: number, payload: unknown) => { call.status = status; sendJson(res, status, payload); };
      if (!owner) return answer(401, notionError(401, 'unauthorized', 'API token is invalid.'));
      if (!req.headers['notion-version']) return answer(400, notionError(400, 'missing_version', 'Notion-Version header failed validation.'));
      const query = (body?.query ?? '').toLowerCase();
      const found = [...pages.values()].filter((p) => p.workspace_id === owner.extra.workspace_id && p.title.toLowerCase().includes(query)).slice(0, body?.page_size ?? 100);
      return answer(200, { object: 'list', results: found.map(pageObject), next_cursor: null, has_more: false, type: 'page_or_database', page_or_database: {} });
    }
    sendJson(res, 404, notionError(404, 'invalid_request_url', 'Invalid request URL.'));
  });
  return { ...server, desk, calls, pages, revoked };
}

function pageObject(page: NotionPage) {
  return {
    object: 'page', id: page.id, created_time: new Date().toISOString(),
    created_by: { object: 'user', id: page.created_by_bot ?? null },
    parent: page.parent_id ? { type: 'page_id', page_id: page.parent_id } : { type: 'workspace', workspace: true },
    properties: { title: { id: 'title', type: 'title', title: [{ type: 'text', text: { content: page.title }, plain_text: page.title }] } },
    url: `https://www.notion.so/${page.id.replace(/-/g, '')}`,
  };
}
