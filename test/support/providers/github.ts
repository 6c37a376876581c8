// A local GitHub (Enterprise Server layout: OAuth at `/login/oauth/*`, REST under `/api/v3`).
// OAuth as GitHub does it: `GET /login/oauth/authorize`; `POST /login/oauth/access_token` with
// client_id and client_secret in the form, answering form-encoded unless `Accept:
// application/json`, and errors as HTTP 200 with `error=`; PKCE S256 checked when a challenge
// was sent; OAuth App tokens (`gho_`) that never expire. The issues API: `GET`/`PATCH
// /repos/{owner}/{repo}/issues/{n}` and `POST /repos/{owner}/{repo}/issues`; a repository the
// token's user cannot see answers 404, as GitHub does for private repositories.
// Consent: the shared sign-in form (see base.ts).
import {
  AuthorizationDesk, bearer, listen, readRequestBody, record, sendJson,
  type LocalServer, type OAuthClient, type ProviderCall,
} from './base.ts';

export interface GitHubIssue { number: number; title: string; body: string; state: 'open' | 'closed'; labels: string[]; user: string; updated_by: string[] }

export interface GitHubRepo { collaborators: string[]; issues: Map<number, GitHubIssue> }

export interface LocalGitHub extends LocalServer {
  /** The API base for `WRIT_CONNECTOR_ENDPOINTS.github.api_base_url`. */
  apiUrl: string;
  desk: AuthorizationDesk;
  calls: ProviderCall[];
  repos: Map<string, GitHubRepo>;
  addRepo(fullName: string, collaborators: string[], issues?: Array<{ number: number; title: string }>): GitHubRepo;
}

const API = '/api/v3';

export async function startGitHub(options: { clients: OAuthClient[] }): Promise<LocalGitHub> {
  const desk = new AuthorizationDesk(options.clients, 'gho_');
  const calls: ProviderCall[] = [];
  const repos = new Map<string, GitHubRepo>();

  const server = await listen(async (req, res, url) => {
    const path = url.pathname;
    if (req.method === 'GET' && path === '/login/oauth/authorize') return desk.renderConsent(res, url, 'Authorize application');
    if (req.method === 'POST' && path === '/consent/login') return desk.approve(req, res, (p) => (p.get('scope') ?? '').split(/[ ,]+/).filter(Boolean));
    if (req.method === 'POST' && path === '/login/oauth/access_token') {
      const form = (await readRequestBody(req)).form;
      const wantsJson = (req.headers.accept ?? '').includes('application/json');
      const reply = (fields: Record<string, string>) => {
        // GitHub answers 200 whether or not the exchange worked.
        if (wantsJson) return sendJson(res, 200, fields);
        res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' });
        res.end(new URLSearchParams(fields).toString());
      };
      const result = desk.redeem({
        code: form.get('code') ?? '', client_id: form.get('client_id') ?? '', client_secret: form.get('client_secret') ?? '',
        redirect_uri: form.get('redirect_uri') ?? undefined, code_verifier: form.get('code_verifier') ?? undefined,
      });
      if (!result.ok) {
        return reply(result.error === 'invalid_client'
          ? { error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.' }
          : { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
      }
      return reply({ access_token: result.token, scope: result.owner.scopes.join(','), token_type: 'bearer' });
    }

    if (path.startsWith(`${API}/repos/`)) {
      const token = bearer(req);
      const owner = token ? desk.tokens.get(token) : undefined;
      const body = req.method === 'POST' || req.method === 'PATCH' ? (await readRequestBody(req)).json : undefined;
      const call = record(calls, req, url, token, owner, body);
      const answer = (status: number, payload: unknown) => { call.status = status; sendJson(res, status, payload); };
      if (!owner) return answer(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      const m = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)\/issues(?:\/(\d+))?$/.exec(path);
      const fullName = m ? `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}` : '';
      const repo = repos.get(fullName);
      // GitHub hides private repositories from those who cannot see them.
      if (!m || !repo || !repo.collaborators.includes(owner.user)) return answer(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
      if (!owner.scopes.includes('repo')) return answer(403, { message: 'Resource not accessible by integration' });
      const input = (body ?? {}) as Partial<GitHubIssue>;
      if (m[3] === undefined && req.method === 'POST') {
        const number = Math.max(0, ...repo.issues.keys()) + 1;
        const issue: GitHubIssue = { number, title: String(input.title ?? ''), body: String(input.body ?? ''), state: 'open', labels: input.labels ?? [], user: owner.user, updated_by: [] };
        repo.issues.set(number, issue);
        return answer(201, issueJson(fullName, issue));
      }
      const issue = m[3] !== undefined ? repo.issues.get(Number(m[3])) : undefined;
      if (!issue) return answer(404, { message: 'Not Found' });
      if (req.method === 'GET') return answer(200, issueJson(fullName, issue));
      if (req.method === 'PATCH') {
        if (input.title !== undefined) issue.title = input.title;
        if (input.body !== undefined) issue.body = input.body;
        if (input.state !== undefined) issue.state = input.state;
        if (input.labels !== undefined) issue.labels = input.labels;
        issue.updated_by.push(owner.user);
        return answer(200, issueJson(fullName, issue));
      }
    }
    sendJson(res, 404, { message: 'Not Found' });
  });

  return {
    ...server, apiUrl: `${server.url}${API}`, desk, calls, repos,
    addRepo(fullName, collaborators, issues = []) {
      const repo: GitHubRepo = { collaborators, issues: new Map(issues.map((i) => [i.number, { ...i, body: '', state: 'open' as const, labels: [], user: collaborators[0] ?? 'ghost', updated_by: [] }])) };
      repos.set(fullName, repo);
      return repo;
    },
  };
}

function issueJson(fullName: string, issue: GitHubIssue) {
  return {
    number: issue.number, title: issue.title, body: issue.body, state: issue.state,
    labels: issue.labels.map((name) => ({ name })), user: { login: issue.user },
    repository_url: `https://api.github.com/repos/${fullName}`, html_url: `https://github.com/${fullName}/issues/${issue.number}`,
  };
}
