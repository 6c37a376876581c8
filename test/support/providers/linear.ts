// A local Linear: OAuth as Linear does it (`/oauth/authorize` with comma-separated scopes;
// `POST /oauth/token` with the client secret in the form and PKCE when a challenge was sent;
// access tokens `lin_oauth_` for 24 hours with a rotating refresh token; `scope` answered as a
// JSON array) and the GraphQL API at `POST /graphql`: `issueCreate` and `issue(id:)`.
// Unauthenticated calls answer Linear's AUTHENTICATION_ERROR. Consent: the shared sign-in form
// (see base.ts); whoever signs in is the Linear user the token acts as — a person, or the
// service user an org admin connects for the org.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  AuthorizationDesk, bearer, listen, readRequestBody, record, sendJson,
  type LocalServer, type OAuthClient, type ProviderCall, type TokenOwner,
} from './base.ts';

export interface LinearIssue { id: string; identifier: string; title: string; teamId: string; creator: string }

export interface LocalLinear extends LocalServer {
  desk: AuthorizationDesk;
  calls: ProviderCall[];
  issues: LinearIssue[];
}

export async function startLinear(options: { clients: OAuthClient[]; teams: Array<{ id: string; key: string }> }): Promise<LocalLinear> {
  const desk = new AuthorizationDesk(options.clients, 'lin_oauth_');
  const calls: ProviderCall[] = [];
  const issues: LinearIssue[] = [];
  const refreshTokens = new Map<string, TokenOwner>();
  const tokenAnswer = (access_token: string, owner: TokenOwner) => {
    const refresh_token = `lin_refresh_${randomBytes(16).toString('hex')}`;
    refreshTokens.set(refresh_token, owner);
    return { access_token, token_type: 'Bearer', expires_in: 86399, scope: owner.scopes, refresh_token };
  };

  const server = await listen(async (req, res, url) => {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/oauth/authorize') return desk.renderConsent(res, url, 'Linear');
    if (req.method === 'POST' && path === '/consent/login') return desk.approve(req, res, (p) => (p.get('scope') ?? '').split(',').filter(Boolean));
    if (req.method === 'POST' && path === '/oauth/token') {
      const form = (await readRequestBody(req)).form;
      const client = desk.client(form.get('client_id') ?? '');
      if (form.get('grant_type') === 'refresh_token') {
        const owner = refreshTokens.get(form.get('refresh_token') ?? '');
        refreshTokens.delete(form.get('refresh_token') ?? '');
        if (!client || client.client_secret !== form.get('client_secret')) return sendJson(res, 401, { error: 'invalid_client' });
        if (!owner) return sendJson(res, 400, { error: 'invalid_grant', error_description: 'refresh token is invalid' });
        return sendJson(res, 200, tokenAnswer(desk.mint(owner), owner));
      }
      const result = desk.redeem({
        code: form.get('code') ?? '', client_id: form.get('client_id') ?? '', client_secret: form.get('client_secret') ?? '',
        redirect_uri: form.get('redirect_uri') ?? undefined, code_verifier: form.get('code_verifier') ?? undefined,
      });
      if (!result.ok) return sendJson(res, result.error === 'invalid_client' ? 401 : 400, { error: result.error });
      return sendJson(res, 200, tokenAnswer(result.token, result.owner));
    }
    if (req.method === 'POST' && path === '/graphql') {
      const token = bearer(req);
      const owner = token ? desk.tokens.get(token) : undefined;
      const body = (await readRequestBody(req)).json as { query?: string; variables?: Record<string, any> } | undefined;
      const call = record(calls, req, url, token, owner, body);
      const answer = (status: number, payload: unknown) => { call.status = status; sendJson(res, status, payload); };
      if (!owner) return answer(401, { errors: [{ message: 'Authentication required, not authenticated', extensions: { type: 'authentication error', code: 'AUTHENTICATION_ERROR' } }] });
      const query = body?.query ?? '';
      if (/\bissueCreate\b/.test(query)) {
        if (!owner.scopes.includes('issues:create') && !owner.scopes.includes('write')) return answer(200, { data: null, errors: [{ message: 'Invalid scope: `write` required', extensions: { code: 'FORBIDDEN' } }] });
        const input = (body?.variables?.input ?? {}) as { teamId?: string; title?: string };
        const team = options.teams.find((t) => t.id === input.teamId);
        if (!team) return answer(200, { data: null, errors: [{ message: 'Entity not found: Team', extensions: { code: 'INPUT_ERROR' } }] });
        const issue: LinearIssue = { id: randomUUID(), identifier: `${team.key}-${issues.filter((i) => i.teamId === team.id).length + 1}`, title: String(input.title ?? ''), teamId: team.id, creator: owner.user };
        issues.push(issue);
        return answer(200, { data: { issueCreate: { success: true, issue: { id: issue.id, identifier: issue.identifier, url: `https://linear.app/issue/${issue.identifier}`, title: issue.title } } } });
      }
      if (/\bissue\s*\(/.test(query)) {
        const issue = issues.find((i) => i.id === body?.variables?.id || i.identifier === body?.variables?.id);
        if (!issue) return answer(200, { data: null, errors: [{ message: 'Entity not found: Issue', extensions: { code: 'INPUT_ERROR' } }] });
        return answer(200, { data: { issue: { id: issue.id, identifier: issue.identifier, title: issue.title, description: null, url: `https://linear.app/issue/${issue.identifier}`, state: { name: 'Todo' }, team: { id: issue.teamId, key: issue.identifier.split('-')[0] } } } });
      }
      return answer(400, { errors: [{ message: 'Unknown operation', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }] });
    }
    sendJson(res, 404, { error: 'not_found' });
  });
  return { ...server, desk, calls, issues };
}
