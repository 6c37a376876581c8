// What each command does. Definitions (names, options, descriptions) live in spec.ts.

import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import type { CheckpointDocument } from '../audit/checkpoints.ts';
import { admin, CliError, connection, exitFor, type Connection } from './admin-api.ts';
import { table, type Output } from './output.ts';
import { EXIT } from './spec.ts';

export interface RunContext {
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  out: Output;
  env: NodeJS.ProcessEnv;
}

type Handler = (ctx: RunContext) => Promise<number>;

const str = (ctx: RunContext, name: string): string | undefined => {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
};
const need = (ctx: RunContext, name: string, what = `--${name}`): string => {
  const v = str(ctx, name);
  if (!v) throw new CliError(EXIT.usage, `missing ${what}`);
  return v;
};
const list = (ctx: RunContext, name: string): string[] => {
  const v = ctx.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
};
const conn = (ctx: RunContext): Connection => connection(ctx.values, ctx.env);
/** `--arg amount=4200 --arg to=a@b.c` → each field pinned by `eq`, a number where the value reads as one. */
function callArguments(args: string[]): Record<string, { eq: string | number }> {
  return Object.fromEntries(args.map((a) => {
    const at = a.indexOf('=');
    if (at < 1) throw new CliError(EXIT.usage, `--arg ${a}: write field=value`);
    const value = a.slice(at + 1);
    return [a.slice(0, at), { eq: value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value }];
  }));
}
const orgPath = (ctx: RunContext) => `/orgs/${encodeURIComponent(need(ctx, 'org'))}`;
const seg = encodeURIComponent;

/** POST/GET/DELETE and print: the common shape of the admin commands. */
async function show(ctx: RunContext, method: string, path: string, body: unknown, human: (json: any) => string): Promise<number> {
  const { json } = await admin(conn(ctx), method, path, body);
  ctx.out.result(json ?? { ok: true }, () => human(json));
  return EXIT.ok;
}

function readJsonFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CliError(EXIT.usage, `cannot read JSON from ${path}: ${(err as Error).message}`);
  }
}

// The agent SDK, the policy parser and the checkpoint verifier are loaded by the commands that use
// them, so every other command starts without them (an admin call is a fetch and a table).
const sdk = () => import('../client/index.ts');
const policyFiles = () => import('../policy/index.ts');

const sdkClient = async (ctx: RunContext) => new (await sdk()).WritClient({
  issuer: conn(ctx).url, clientId: need(ctx, 'client-id', '--client-id (or WRIT_CLIENT_ID)'), clientSecret: need(ctx, 'client-secret', 'WRIT_CLIENT_SECRET'),
});

async function sdkFailure(err: unknown): Promise<never> {
  const { ExecutorError, TokenExchangeError, WritClientError } = await sdk();
  if (err instanceof ExecutorError) {
    const link = err.connectUrl ?? err.reconnectUrl;
    throw new CliError(exitFor(err.status ?? 500), `${err.code}: ${err.message}${link ? `\n  ${link}` : ''}${err.retryAfter !== undefined ? ` (retry after ${err.retryAfter}s)` : ''}`, err.code);
  }
  if (err instanceof TokenExchangeError) throw new CliError(exitFor(err.status ?? 400), `${err.code}: ${err.message}`, err.code);
  if (err instanceof WritClientError) throw new CliError(EXIT.failed, `${err.code}: ${err.message}`, err.code);
  throw err;
}

const overlap = (ctx: RunContext) => {
  const v = str(ctx, 'overlap');
  if (v === undefined) return {};
  if (!/^\d{1,7}$/.test(v)) throw new CliError(EXIT.usage, '--overlap is a number of seconds');
  return { overlap_seconds: Number(v) };
};

/** `audit verify --checkpoints`: the log (a file, or the server's export) against checkpoints saved earlier, offline. */
async function verifyOffline(ctx: RunContext, checkpointsFile: string): Promise<number> {
  const document = readJsonFile(checkpointsFile) as CheckpointDocument;
  if (!document || typeof document.org_id !== 'string' || !Array.isArray(document.checkpoints) || !Array.isArray(document.keys?.keys)) {
    throw new CliError(EXIT.usage, `${checkpointsFile} is not a checkpoints document (GET /v1/audit/{org}/checkpoints)`);
  }
  const logFile = str(ctx, 'log');
  let lines: string[];
  if (logFile) {
    try { lines = readFileSync(logFile, 'utf8').split('\n'); } catch (err) { throw new CliError(EXIT.usage, `cannot read ${logFile}: ${(err as Error).message}`); }
  } else {
    const c = conn(ctx);
    const res = await fetch(`${c.url}/admin/v1/orgs/${seg(document.org_id)}/audit/export`, { headers: { authorization: `Bearer ${c.token()}` } }).catch(() => {
      throw new CliError(EXIT.failed, `cannot reach Writ at ${c.url}`);
    });
    if (!res.ok) throw new CliError(exitFor(res.status), `audit export: HTTP ${res.status}`);
    lines = (await res.text()).split('\n');
  }
  let events;
  try { events = lines.filter((l) => l.trim()).map((l) => JSON.parse(l)); } catch { throw new CliError(EXIT.usage, 'the log is not JSON lines of Writ audit events'); }
  const keysFile = str(ctx, 'keys');
  const pinned = keysFile ? (readJsonFile(keysFile) as { keys: Array<Record<string, string>> }).keys : undefined;
  const { verifyEvidence } = await import('../audit/checkpoints.ts');
  const result = await verifyEvidence(events, document, pinned);
  ctx.out.result(result, () => (result.ok
    ? `log intact: ${result.events_checked} events, ${result.checkpoints_checked} signed checkpoints match`
    : `log does NOT match its checkpoints:\n${result.problems.map((p) => `  ${p.reason}: ${p.detail}`).join('\n')}`));
  return result.ok ? EXIT.ok : EXIT.failed;
}

const eventLine = (e: any) => `${e.at}  #${e.seq}  ${e.type}  ${JSON.stringify({ actor: e.actor, subject: e.subject })}`;

async function auditPage(ctx: RunContext, query: URLSearchParams) {
  return (await admin(conn(ctx), 'GET', `${orgPath(ctx)}/audit?${query}`)).json as { events: any[]; next_cursor: string | null };
}

/** Every event, oldest first, by paging the newest-first query (servers without an export endpoint). */
async function* pagedExport(ctx: RunContext): AsyncGenerator<any> {
  const pages: any[][] = [];
  let cursor: string | null = null;
  do {
    const page = await auditPage(ctx, new URLSearchParams({ limit: '1000', ...(cursor ? { cursor } : {}) }));
    pages.push(page.events);
    cursor = page.next_cursor;
  } while (cursor);
  for (const page of pages.reverse()) yield* page.reverse();
}

export const HANDLERS: Record<string, Handler> = {
  async demo(ctx) {
    const { runDemo } = await import('../demo/story.ts');
    await runDemo({ auto: ctx.values.auto === true, keep: ctx.values.keep === true, write: (line) => process.stdout.write(`${line}\n`) });
    return EXIT.ok;
  },

  'orgs create': (ctx) => show(ctx, 'POST', '/orgs', { name: ctx.args[0] }, (o) => `created org ${o.id} (${o.name})`),
  'orgs list': (ctx) => show(ctx, 'GET', '/orgs', undefined, (j) => table(j.orgs, ['id', 'name', 'created_at'])),
  'orgs delete': (ctx) => show(ctx, 'DELETE', `/orgs/${seg(ctx.args[0]!)}`, undefined, () => `deleted org ${ctx.args[0]}`),

  'users create': (ctx) => show(ctx, 'POST', `${orgPath(ctx)}/users`, {
    username: ctx.args[0], password: need(ctx, 'password', 'WRIT_USER_PASSWORD'),
    ...(str(ctx, 'email') ? { email: str(ctx, 'email') } : {}), ...(list(ctx, 'role').length ? { roles: list(ctx, 'role') } : {}),
  }, (u) => `created user ${u.id} (${u.username})`),
  'users list': (ctx) => show(ctx, 'GET', `${orgPath(ctx)}/users`, undefined, (j) => table(j.users.map((u: any) => ({ ...u, status: u.disabled_at ? 'disabled' : 'active' })), ['id', 'username', 'roles', 'email', 'status', 'created_at'])),
  'users update': (ctx) => show(ctx, 'PATCH', `${orgPath(ctx)}/users/${seg(ctx.args[0]!)}`, {
    ...(str(ctx, 'username') ? { username: str(ctx, 'username') } : {}), ...(str(ctx, 'email') ? { email: str(ctx, 'email') } : {}),
    ...(str(ctx, 'display-name') ? { display_name: str(ctx, 'display-name') } : {}), ...(list(ctx, 'role').length ? { roles: list(ctx, 'role') } : {}),
    ...(str(ctx, 'password') ? { password: str(ctx, 'password') } : {}),
  }, (u) => `updated user ${u.id} (${u.username})`),
  'users delete': (ctx) => show(ctx, 'DELETE', `${orgPath(ctx)}/users/${seg(ctx.args[0]!)}`, undefined, () => `deleted user ${ctx.args[0]}`),
  'users disable': (ctx) => show(ctx, 'POST', `${orgPath(ctx)}/users/${seg(ctx.args[0]!)}/disable`, {}, (u) => `disabled user ${u.username}; their sessions, grants and connected accounts ended`),
  'users enable': (ctx) => show(ctx, 'POST', `${orgPath(ctx)}/users/${seg(ctx.args[0]!)}/enable`, {}, (u) => `enabled user ${u.username}`),

  'agents create': (ctx) => {
    const tools = list(ctx, 'tool');
    if (!tools.length) throw new CliError(EXIT.usage, 'missing --tool (at least one)');
    const jwks = str(ctx, 'jwks-file');
    return show(ctx, 'POST', `${orgPath(ctx)}/agents`, {
      name: ctx.args[0], tools,
      ...(list(ctx, 'redirect-uri').length ? { redirect_uris: list(ctx, 'redirect-uri') } : {}),
      ...(str(ctx, 'auth-method') ? { token_endpoint_auth_method: str(ctx, 'auth-method') } : {}),
      ...(jwks ? { jwks: readJsonFile(jwks) } : {}),
    }, (a) => `created agent ${a.client_id} (${a.name})${a.client_secret ? `\nclient secret (shown once): ${a.client_secret}` : ''}`);
  },
  'agents list': (ctx) => show(ctx, 'GET', `${orgPath(ctx)}/agents`, undefined, (j) => table(j.agents, ['client_id', 'name', 'token_endpoint_auth_method', 'tools'])),
  'agents delete': (ctx) => show(ctx, 'DELETE', `${orgPath(ctx)}/agents/${seg(ctx.args[0]!)}`, undefined, () => `deleted agent ${ctx.args[0]}; its grants are revoked`),
  'agents update': (ctx) => show(ctx, 'PATCH', `${orgPath(ctx)}/agents/${seg(ctx.args[0]!)}`, {
    ...(str(ctx, 'name') ? { name: str(ctx, 'name') } : {}), ...(list(ctx, 'tool').length ? { tools: list(ctx, 'tool') } : {}),
    ...(list(ctx, 'redirect-uri').length ? { redirect_uris: list(ctx, 'redirect-uri') } : {}),
  }, (a) => `updated agent ${a.client_id} (${a.name})`),
  'agents disable': (ctx) => show(ctx, 'POST', `${orgPath(ctx)}/agents/${seg(ctx.args[0]!)}/disable`, {}, (a) => `disabled agent ${a.client_id}; its grants and capabilities ended`),
  'agents enable': (ctx) => show(ctx, 'POST', `${orgPath(ctx)}/agents/${seg(ctx.args[0]!)}/enable`, {}, (a) => `enabled agent ${a.client_id}`),
  'agents rotate-secret': (ctx) => show(ctx, 'POST', `${orgPath(ctx)}/agents/${seg(ctx.args[0]!)}/secret`, overlap(ctx), (a) =>
    `client_secret: ${a.client_secret}\n(shown once${a.previous_secret_expires_at ? `; the old secret works until ${a.previous_secret_expires_at}` : '; the old secret no longer works'})`),
  'agents rotate-keys': (ctx) => {
    const file = str(ctx, 'jwks-file');
    const uri = str(ctx, 'jwks-uri');
    if (!file === !uri) throw new CliError(EXIT.usage, 'give --jwks-file or --jwks-uri');
    return show(ctx, 'PUT', `${orgPath(ctx)}/agents/${seg(ctx.args[0]!)}/keys`, { ...(file ? { jwks: readJsonFile(file) } : { jwks_uri: uri }), ...overlap(ctx) },
      (a) => `keys of ${a.client_id} replaced${a.previous_jwks ? `; the old keys work until ${a.previous_jwks.expires_at}` : ''}`);
  },

  'scim token': (ctx) => show(ctx, 'POST', `${orgPath(ctx)}/scim/token`, {}, (t) => `SCIM bearer token (shown once; the previous one no longer works):\n${t.token}`),

  'identity-provider set': (ctx) => {
    const method = str(ctx, 'auth-method') ?? 'client_secret_basic';
    const key = str(ctx, 'private-key-file');
    const claims = Object.fromEntries(list(ctx, 'claim').map((c) => {
      const at = c.indexOf('=');
      if (at < 1) throw new CliError(EXIT.usage, `--claim ${c}: write field=claim`);
      return [c.slice(0, at), c.slice(at + 1)];
    }));
    if (key && method !== 'private_key_jwt') throw new CliError(EXIT.usage, '--private-key-file goes with --auth-method private_key_jwt');
    const passwords = str(ctx, 'passwords');
    if (passwords !== undefined && passwords !== 'on' && passwords !== 'off') throw new CliError(EXIT.usage, '--passwords is on or off');
    const body = {
      issuer: need(ctx, 'issuer'), client_id: need(ctx, 'client-id'), token_endpoint_auth_method: method,
      ...(method === 'private_key_jwt' ? { private_key_jwk: readJsonFile(need(ctx, 'private-key-file')) } : { client_secret: need(ctx, 'client-secret', 'WRIT_IDP_CLIENT_SECRET') }),
      ...(list(ctx, 'scope').length ? { scopes: list(ctx, 'scope') } : {}),
      ...(Object.keys(claims).length ? { claims } : {}),
      ...(list(ctx, 'admin-value').length ? { admin_values: list(ctx, 'admin-value') } : {}),
      ...(list(ctx, 'domain').length ? { domains: list(ctx, 'domain') } : {}),
      ...(passwords ? { local_passwords: passwords === 'on' } : {}),
      ...(str(ctx, 'max-age') ? { sensitive_max_age: Number(str(ctx, 'max-age')) } : {}),
      ...(ctx.values['accept-id-jag'] ? { accept_id_jag: true } : {}),
    };
    return show(ctx, 'PUT', `${orgPath(ctx)}/identity-provider`, body, (p) =>
      `single sign-on through ${p.issuer} (client ${p.client_id}); local passwords ${p.local_passwords ? 'on' : 'off'}\nredirect URI to register at the provider: ${p.redirect_uri}`);
  },
  'identity-provider show': (ctx) => show(ctx, 'GET', `${orgPath(ctx)}/identity-provider`, undefined, (p) => table([p], ['issuer', 'client_id', 'token_endpoint_auth_method', 'domains', 'local_passwords', 'accept_id_jag', 'redirect_uri'])),
  'identity-provider remove': (ctx) => show(ctx, 'DELETE', `${orgPath(ctx)}/identity-provider`, undefined, () => 'identity provider removed; local passwords work again'),
  'cross-app set': (ctx) => show(ctx, 'PUT', `${orgPath(ctx)}/cross-app-access`, readJsonFile(need(ctx, 'file')), (p) => `ID-JAGs may be issued for: ${p.targets.map((t: any) => t.audience).join(', ') || 'nobody'}`),
  'cross-app show': (ctx) => show(ctx, 'GET', `${orgPath(ctx)}/cross-app-access`, undefined, (p) => table(p.targets.map((t: any) => ({ ...t, clients: Object.entries(t.clients).map(([a, c]) => `${a}→${c}`).join(' ') })), ['audience', 'clients', 'scopes', 'resources', 'ttl'])),

  'connectors create': (ctx) => show(ctx, 'PUT', `${orgPath(ctx)}/connectors/${seg(ctx.args[0]!)}`, readJsonFile(need(ctx, 'file')), (c) => `registered connector ${c.name}\nredirect URI to register at the provider: ${c.redirect_uri}`),
  'connectors list': (ctx) => show(ctx, 'GET', `${orgPath(ctx)}/connectors`, undefined, (j) => table(j.connectors, ['name', 'origin', 'auth', 'tools'])),
  'connectors delete': (ctx) => show(ctx, 'DELETE', `${orgPath(ctx)}/connectors/${seg(ctx.args[0]!)}`, undefined, () => `deleted connector ${ctx.args[0]}`),

  'accounts create': (ctx) => show(ctx, 'POST', `${orgPath(ctx)}/connected-accounts`, {
    connector: need(ctx, 'connector'), ...(str(ctx, 'user') ? { user_id: str(ctx, 'user') } : { owner: 'org' }),
    ...(str(ctx, 'api-key') ? { api_key: str(ctx, 'api-key') } : {}),
  }, (a) => (a.authorization_url ? `account ${a.id} is ${a.status}; open this link to connect it:\n${a.authorization_url}` : `account ${a.id} is ${a.status} (key ${a.api_key_hint ?? 'stored'})`)),
  'accounts list': (ctx) => show(ctx, 'GET', `${orgPath(ctx)}/connected-accounts`, undefined, (j) => table(j.connected_accounts.map((a: any) => ({ ...a, owner: a.owner?.user_id ?? a.owner?.kind })), ['id', 'connector', 'owner', 'status', 'scopes', 'expires_at'])),
  'accounts delete': (ctx) => show(ctx, 'DELETE', `${orgPath(ctx)}/connected-accounts/${seg(ctx.args[0]!)}`, undefined, () => `disconnected ${ctx.args[0]}`),

  async connect(ctx) {
    const { json } = await admin(conn(ctx), 'POST', `${orgPath(ctx)}/connected-accounts`, { connector: ctx.args[0], ...(str(ctx, 'user') ? { user_id: str(ctx, 'user') } : { owner: 'org' }) });
    if (typeof json?.authorization_url !== 'string') throw new CliError(EXIT.refused, `${ctx.args[0]} does not connect through a link (an API-key connector? use \`writ accounts create\`)`);
    ctx.out.result(json, () => json.authorization_url);
    return EXIT.ok;
  },

  async exchange(ctx) {
    const tools = list(ctx, 'tool');
    if (!tools.length) throw new CliError(EXIT.usage, 'missing --tool');
    const format = str(ctx, 'format') ?? 'jwt';
    if (format !== 'jwt' && format !== 'biscuit') throw new CliError(EXIT.usage, '--format is jwt or biscuit');
    const client = await sdkClient(ctx);
    const cap = await client.exchange({
      subjectToken: need(ctx, 'subject-token', 'WRIT_SUBJECT_TOKEN'), tools, format,
      ...(str(ctx, 'resource') ? { resource: str(ctx, 'resource')! } : {}), ...(str(ctx, 'audience') ? { audience: str(ctx, 'audience')! } : {}),
    }).catch(sdkFailure);
    // --json prints the token endpoint's own answer (RFC 8693 §2.2.1), snake_case like every other document.
    const answer = { access_token: cap.token, issued_token_type: cap.issuedTokenType, token_type: cap.tokenType, expires_in: cap.expiresIn, authorization_details: cap.authorizationDetails };
    ctx.out.result(answer, () => cap.token);
    return EXIT.ok;
  },

  async execute(ctx) {
    let input: Record<string, unknown> = {};
    if (str(ctx, 'input')) {
      try { input = JSON.parse(str(ctx, 'input')!); } catch { throw new CliError(EXIT.usage, '--input is not JSON'); }
      if (!input || typeof input !== 'object' || Array.isArray(input)) throw new CliError(EXIT.usage, '--input must be a JSON object');
    }
    // Execution needs no client authentication: the capability is the credential.
    const client = new (await sdk()).WritClient({ issuer: conn(ctx).url, clientId: 'writ-cli', clientSecret: 'unused' });
    const data = await client.execute(ctx.args[0]!, input, need(ctx, 'capability', 'WRIT_CAPABILITY')).catch(sdkFailure);
    ctx.out.result({ data }, () => JSON.stringify(data, null, 2));
    return EXIT.ok;
  },

  async 'policy validate'(ctx) {
    const { loadPolicies, parsePolicyFile, PolicyFileError } = await policyFiles();
    const dir = resolve(ctx.args[0] ?? ctx.env.WRIT_POLICIES ?? './policies');
    let names: string[];
    try { names = readdirSync(dir).filter((n) => n.endsWith('.yaml') || n.endsWith('.yml')).sort(); } catch { throw new CliError(EXIT.usage, `cannot read policy directory ${dir}`); }
    const problems: string[] = [];
    for (const name of names) {
      const file = join(dir, name);
      if (name.endsWith('.yml')) { problems.push(`${file}: policy files must end in .yaml`); continue; }
      try {
        parsePolicyFile(readFileSync(file, 'utf8'), name);
      } catch (err) {
        if (!(err instanceof PolicyFileError)) throw err;
        for (const i of err.issues) problems.push(`${file}${i.line ? `:${i.line}${i.column ? `:${i.column}` : ''}` : ''}: ${i.path ? `${i.path}: ` : ''}${i.message}`);
      }
    }
    // Cross-file checks (duplicate rule ids, an empty directory) come from loading the set whole.
    if (!problems.length) {
      try { await loadPolicies(dir); } catch (err) {
        if (!(err instanceof PolicyFileError)) throw err;
        for (const i of err.issues) problems.push(`${err.file}${i.line ? `:${i.line}` : ''}: ${i.path ? `${i.path}: ` : ''}${i.message}`);
      }
    }
    if (ctx.out.json) ctx.out.result({ ok: problems.length === 0, files: names.length, problems }, () => '');
    else if (problems.length) process.stderr.write(problems.join('\n') + '\n');
    else ctx.out.result(null, () => `${names.length} policy file${names.length === 1 ? '' : 's'} OK in ${dir}`);
    return problems.length ? EXIT.failed : EXIT.ok;
  },

  async 'policy check'(ctx) {
    const tools = list(ctx, 'tool');
    if (!tools.length) throw new CliError(EXIT.usage, 'missing --tool');
    const { json } = await admin(conn(ctx), 'POST', `${orgPath(ctx)}/policy/dry-run`, {
      agent_id: need(ctx, 'agent'), tools, ...(str(ctx, 'user') ? { user_id: str(ctx, 'user') } : {}),
      ...(list(ctx, 'resource').length ? { resources: list(ctx, 'resource') } : {}), ...(str(ctx, 'audience') ? { audience: str(ctx, 'audience') } : {}),
      ...(list(ctx, 'arg').length ? { arguments: callArguments(list(ctx, 'arg')) } : {}),
    });
    const allowed = json.decision.effect === 'allow' && json.ceiling.ok;
    // The reasons read in the answer's direction: a denial leads with what denies, and what the policy
    // alone would allow follows as such, never as the first reason of a DENY.
    const policyReasons = json.decision.reasons.map((r: string) => (json.decision.effect === 'allow' && !allowed ? `  - the policy alone would allow it: ${r}` : `  - ${r}`));
    ctx.out.result(json, () => [
      `${allowed ? (json.decision.approval ? 'ALLOW AFTER APPROVAL' : 'ALLOW') : 'DENY'} (policy ${json.decision.policy_version})`,
      ...(json.ceiling.ok ? [] : [`  - outside the agent's ceiling: ${json.ceiling.outside.join(', ')}`]),
      ...policyReasons,
    ].join('\n'));
    return allowed ? EXIT.ok : EXIT.failed;
  },

  'mcp settings': (ctx) => {
    const render = (s: any) => `accept: ${s.accept}\nclients: ${s.clients.join(', ') || '-'}\ntools: ${s.tools.join(', ') || '-'}`;
    if (!str(ctx, 'accept')) return show(ctx, 'GET', `${orgPath(ctx)}/mcp`, undefined, render);
    return show(ctx, 'PUT', `${orgPath(ctx)}/mcp`, { accept: str(ctx, 'accept'), clients: list(ctx, 'client'), tools: list(ctx, 'tool') }, render);
  },
  'keys rotate': (ctx) => show(ctx, 'POST', '/keys/rotate', undefined, (j) => `rotated; signing keys now ${j.kids.join(', ')}`),

  async 'audit query'(ctx) {
    const q = new URLSearchParams();
    for (const [opt, param] of [['type', 'type'], ['user', 'user_id'], ['agent', 'agent_id'], ['tool', 'tool'], ['grant', 'grant_id'], ['since', 'since'], ['until', 'until'], ['limit', 'limit'], ['cursor', 'cursor']] as const) {
      if (str(ctx, opt)) q.set(param, str(ctx, opt)!);
    }
    const page = await auditPage(ctx, q);
    ctx.out.result(page, () => [...page.events.map(eventLine), ...(page.next_cursor ? [`(more: --cursor ${page.next_cursor})`] : [])].join('\n') || '(no events)');
    return EXIT.ok;
  },

  async 'audit tail'(ctx) {
    const limit = str(ctx, 'limit') ?? '10';
    const first = await auditPage(ctx, new URLSearchParams({ limit }));
    let last = first.events[0]?.seq ?? 0;
    const print = (events: any[]) => { for (const e of events) process.stdout.write(ctx.out.json ? `${JSON.stringify(e)}\n` : `${eventLine(e)}\n`); };
    print([...first.events].reverse());
    if (!ctx.values.follow) return EXIT.ok;
    const interval = Math.max(0.2, Number(str(ctx, 'interval') ?? 2)) * 1000;
    for (;;) {
      await new Promise((r) => setTimeout(r, interval));
      const page = await auditPage(ctx, new URLSearchParams({ limit: '1000' }));
      const fresh = page.events.filter((e) => e.seq > last).reverse();
      if (fresh.length) { print(fresh); last = fresh.at(-1).seq; }
    }
  },

  async 'audit verify'(ctx) {
    const saved = str(ctx, 'checkpoints');
    if (saved) return verifyOffline(ctx, saved);
    const { json } = await admin(conn(ctx), 'POST', `${orgPath(ctx)}/audit/verify`);
    ctx.out.result(json, () => (json.ok ? `chain intact: ${json.events_checked} events` : `chain BROKEN at event #${json.first_broken.seq} (${json.first_broken.id}): ${json.first_broken.reason}; ${json.events_checked} events before it are intact`));
    return json.ok ? EXIT.ok : EXIT.failed;
  },

  'audit checkpoint': (ctx) => show(ctx, 'POST', `${orgPath(ctx)}/audit/checkpoints`, {}, (c) => `checkpoint of ${c.org_id} at #${c.seq}: ${c.head_hash} (${c.at}, key ${c.kid})`),
  'audit stream': (ctx) => {
    const endpoint = str(ctx, 'endpoint');
    const human = (st: any) => st ? `streaming to ${st.url}: delivered through #${st.cursor}${st.failures ? `, ${st.failures} failures (${st.last_error}), next try ${new Date(st.next_attempt_at).toISOString()}` : ''}` : 'no stream';
    if (ctx.values.remove) return show(ctx, 'DELETE', `${orgPath(ctx)}/audit/stream`, undefined, () => 'stream removed');
    if (endpoint) return show(ctx, 'PUT', `${orgPath(ctx)}/audit/stream`, { url: endpoint, ...(str(ctx, 'from') ? { from: str(ctx, 'from') } : {}) }, human);
    return show(ctx, 'GET', `${orgPath(ctx)}/audit/stream`, undefined, human);
  },

  async 'audit export'(ctx) {
    const format = str(ctx, 'format') ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'ocsf') throw new CliError(EXIT.usage, '--format is jsonl or ocsf');
    const c = conn(ctx);
    await admin(c, 'GET', orgPath(ctx)); // the org exists (exit 3 otherwise)
    const outPath = str(ctx, 'out');
    const sink = outPath ? createWriteStream(outPath, { mode: 0o600 }) : process.stdout;
    const progress = ctx.out.progress('exporting');
    let count = 0;
    const write = async (line: string) => { if (!sink.write(line)) await once(sink, 'drain'); };

    const res = await fetch(`${c.url}/admin/v1${orgPath(ctx)}/audit/export?format=${format}`, { headers: { authorization: `Bearer ${c.token()}` } }).catch(() => {
      throw new CliError(EXIT.failed, `cannot reach Writ at ${c.url}`);
    });
    if (res.ok && res.body) {
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const text = decoder.decode(chunk, { stream: true });
        count += text.split('\n').length - 1;
        await write(text);
        progress.update(count);
      }
    } else if (res.status === 404 || res.status === 405) {
      // No export endpoint on this server: page through the query instead.
      if (format === 'ocsf') throw new CliError(EXIT.refused, 'this server has no audit export endpoint; OCSF needs it (JSON lines work without it)');
      for await (const e of pagedExport(ctx)) { await write(`${JSON.stringify(e)}\n`); progress.update(++count); }
    } else {
      throw new CliError(exitFor(res.status), `audit export: HTTP ${res.status}`);
    }
    progress.done();
    if (outPath) { sink.end(); await once(sink, 'finish'); }
    ctx.out.note(`exported ${count} events${outPath ? ` to ${outPath}` : ''}`);
    return EXIT.ok;
  },

  async migrate(ctx) {
    const from = str(ctx, 'from');
    const to = str(ctx, 'to');
    if (from !== 'sqlite' || (to !== 'mongodb' && to !== 'sqlite')) throw new CliError(EXIT.usage, 'usage: writ migrate --from sqlite --to mongodb (WRIT_DATA_DIR is the source, MONGODB_URI the target)');
    const { loadConfig } = await import('../config/load.ts');
    const { migrateStore } = await import('../app/migrate.ts');
    const config = loadConfig(ctx.env);
    const target = to === 'mongodb'
      ? { store: 'mongodb' as const, uri: config.mongodbUri ?? (() => { throw new CliError(EXIT.usage, 'MONGODB_URI names the target'); })() }
      : { store: 'sqlite' as const, dataDir: str(ctx, 'target-dir') ?? (() => { throw new CliError(EXIT.usage, '--target-dir names the target sqlite data dir'); })() };
    const bar = ctx.out.progress('copying orgs');
    const report = await migrateStore(config, target, (_step, done, total) => bar.update(done, total));
    bar.done();
    ctx.out.result(report, () => [
      ...Object.entries(report.counts).map(([name, c]) => `${name.padEnd(20)} ${String(c.source).padStart(8)} → ${String(c.target).padStart(8)}${c.source === c.target ? '' : '  MISMATCH'}`),
      ...report.audit.map((a) => `audit chain ${a.org_id}: ${a.events} events, ${a.ok ? 'verified' : 'BROKEN'}`),
      report.ok ? 'migration verified' : 'migration did NOT verify',
    ].join('\n'));
    return report.ok ? EXIT.ok : EXIT.failed;
  },
};
