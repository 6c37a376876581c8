// The console's pages as plain functions of data: no I/O here, every value escaped by `html`.

import type { ToolAccessDetail } from '../rights/rights.ts';
import type { Explanation, PolicySet, RuleConstraints, RuleMatch } from '../policy/index.ts';
import type { AgentRecord, AuditRecord, ConnectedAccountRecord, GrantRecord, OrgRecord, UserRecord } from '../storage/index.ts';
import { describeDetail } from '../as/pages.ts';
import { html, table, when as moment, type PageNav, type SafeHtml } from '../web/html.ts';
import { describeActor, type Names } from './chain.ts';
import type { AuditFilters } from './forms.ts';

export type Section = 'overview' | 'people' | 'approvals' | 'policies' | 'audit' | 'mcp' | 'sso';

export interface Frame {
  org: OrgRecord;
  admin: UserRecord;
  /** CSRF token for the console's forms, bound to the session. */
  csrf: string;
  /** CSRF token for the account page's sign-out form. */
  accountCsrf: string;
  /** The server's clock when the page is drawn (epoch ms), for "3 minutes ago". */
  now: number;
}

const SECTIONS: Array<[Section, string, string]> = [
  ['overview', '/console', 'Agents, grants and accounts'],
  ['people', '/console/people', 'Users and agents'],
  ['approvals', '/console/approvals', 'Approvals'],
  ['mcp', '/console/mcp', 'MCP clients'],
  ['policies', '/console/policies', 'Policies'],
  ['audit', '/console/audit', 'Audit log'],
  ['sso', '/console/sso', 'Single sign-on'],
];

/** The header's navigation on every console page; the current page is marked for assistive tech. */
export function nav(frame: Pick<Frame, 'org' | 'admin' | 'accountCsrf'>, current: Section): PageNav {
  return {
    label: 'Console',
    links: [
      ...SECTIONS.map(([key, href, label]) => ({ href, label, current: key === current })),
      { href: '/account', label: 'Your own agents' },
    ],
    signedInAs: `${frame.admin.username}, admin of ${frame.org.name}`,
    signOutCsrf: frame.accountCsrf,
  };
}

export function namesFor(org: OrgRecord, agents: AgentRecord[], users: UserRecord[]): Names {
  const agentNames = new Map(agents.map((a) => [a.client_id, a.name]));
  const userNames = new Map(users.map((u) => [u.id, u.username]));
  return {
    org: org.name,
    agent: (id) => agentNames.get(id) ?? id,
    user: (id) => userNames.get(id) ?? id,
  };
}


// ---- overview -----------------------------------------------------------------------------------

export interface OverviewView {
  frame: Frame;
  agents: AgentRecord[];
  users: UserRecord[];
  grants: GrantRecord[];
  /** Undefined when this store has no vault to list from. */
  accounts: ConnectedAccountRecord[] | undefined;
  reconnectUrl: (account: ConnectedAccountRecord) => string | undefined;
  notice?: string | undefined;
}

export function overviewPage(v: OverviewView): SafeHtml {
  const names = namesFor(v.frame.org, v.agents, v.users);
  const active = v.grants.filter((g) => !g.revoked_at);
  const now = v.frame.now;
  const when = (iso: string | undefined) => moment(iso, now);
  return html`
    <h1>${v.frame.org.name}: agents and grants</h1>
    ${v.notice ? html`<p role="status">${v.notice}</p>` : ''}

    <section aria-labelledby="agents">
      <h2 id="agents">Agents and their ceilings</h2>
      <p class="muted">The ceiling is every tool an agent may ever be granted; a grant or a capability never goes beyond it.</p>
      ${v.agents.length === 0 ? html`<p>No agents are registered in this organisation.</p>` : table(v.agents, [
        { label: 'Agent', rowHeader: true, cell: (a) => html`${a.name}<br><code>${a.client_id}</code>` },
        { label: 'Ceiling', cell: (a) => a.tools.map((t, i) => html`${i ? ', ' : ''}<code>${t}</code>`) },
        { label: 'Active grants', cell: (a) => active.filter((g) => g.agent_id === a.client_id).length },
      ], { caption: `${v.agents.length} agent${v.agents.length === 1 ? '' : 's'}` })}
    </section>

    <section aria-labelledby="grants">
      <h2 id="grants">Grants in force</h2>
      ${active.length === 0 ? html`<p>No grants in force: no agent can act for anyone here.</p>` : table(active, [
        { label: 'Agent', rowHeader: true, cell: (g) => html`${names.agent(g.agent_id)}<br><code>${g.id}</code>` },
        { label: 'For', cell: (g) => (g.user_id ? names.user(g.user_id) : html`<em>the organisation</em>`) },
        { label: 'Tools', cell: (g) => html`<ul>${g.authorization_details.map((d) => describeDetail(d, now))}</ul>` },
        { label: 'Since', cell: (g) => html`${when(g.created_at)}${g.expires_at ? html`<br>until ${when(g.expires_at)}` : ''}` },
        { label: 'Action', actions: true, cell: (g) => html`<form method="post" action="/console/grants/${encodeURIComponent(g.id)}/revoke">
            <input type="hidden" name="csrf" value="${v.frame.csrf}">
            <button type="submit" class="danger" aria-label="Revoke grant ${g.id} of ${names.agent(g.agent_id)}">Revoke</button>
          </form>` },
      ], { caption: 'Revoking a grant stops every token derived from it at once.' })}
      <p><a href="/console/audit?type=grant.revoked">Revoked grants in the audit log</a></p>
    </section>

    <section aria-labelledby="accounts">
      <h2 id="accounts">Connected accounts</h2>
      ${accountsSection(v, names)}
    </section>`;
}

function accountsSection(v: OverviewView, names: Names): SafeHtml {
  if (v.accounts === undefined) return html`<p>This deployment keeps no connected accounts.</p>`;
  if (v.accounts.length === 0) return html`<p>No provider accounts are connected in this organisation yet.</p>`;
  const reconnect = (a: ConnectedAccountRecord) => (a.status === 'active' || a.status === 'pending' ? undefined : v.reconnectUrl(a));
  return table(v.accounts, [
    { label: 'Connector', rowHeader: true, cell: (a) => html`${a.connector}<br><code>${a.id}</code>` },
    { label: 'Owner', cell: (a) => (a.owner.kind === 'user' ? names.user(a.owner.user_id) : html`<em>the organisation</em>`) },
    { label: 'Status', cell: (a) => html`<strong>${a.status}</strong>${a.last_error ? html`<br><span class="muted">${a.last_error}</span>` : ''}` },
    { label: 'Scopes', cell: (a) => a.scopes.map((s, i) => html`${i ? ', ' : ''}<code>${s}</code>`) },
    { label: 'Token expires', cell: (a) => moment(a.expires_at, v.frame.now) },
    {
      label: 'Action', actions: true,
      cell: (a) => {
        const link = reconnect(a);
        return a.status === 'active' || a.status === 'pending' ? ''
          : !link ? html`<span class="muted">Needs reconnecting by its owner</span>`
          // Only the owner can attach their own provider account; an admin reconnects the org's.
          : a.owner.kind === 'org' ? html`<a href="${link}">Reconnect ${a.connector}</a>`
          : html`Send ${names.user(a.owner.user_id)} this link to reconnect: <code>${link}</code>`;
      },
    },
  ]);
}

// ---- policies -----------------------------------------------------------------------------------

export interface PoliciesView {
  frame: Frame;
  policies: PolicySet;
  agents: AgentRecord[];
  users: UserRecord[];
  executorResource: string;
  /** The last dry run, with the form values it was asked with. */
  dryRun?: { input: DryRunValues; explanation: Explanation; outside: string[] } | undefined;
  /** Form values to show again after a refusal. */
  input?: DryRunValues | undefined;
  error?: string | undefined;
}

export interface DryRunValues {
  agent_id?: string | undefined;
  user_id?: string | undefined;
  tools?: string | undefined;
  resources?: string | undefined;
  audience?: string | undefined;
}

const list = (xs: readonly string[] | undefined) => (xs ?? []).map((x, i) => html`${i ? ', ' : ''}<code>${x}</code>`);

function describeMatch(m: RuleMatch): SafeHtml {
  const parts: SafeHtml[] = [];
  if (m.orgs) parts.push(html`orgs ${list(m.orgs)}`);
  if (m.agents) parts.push(html`agents ${list(m.agents)}`);
  if (m.principal) parts.push(html`principal <code>${m.principal}</code>`);
  if (m.tools) parts.push(html`tools ${list(m.tools)}`);
  if (m.audiences) parts.push(html`audiences ${list(m.audiences)}`);
  return parts.length ? html`${parts.map((p, i) => html`${i ? '; ' : ''}${p}`)}` : html`<em>every request</em>`;
}

function describeConstraints(c: RuleConstraints | undefined): SafeHtml {
  if (!c) return html``;
  const parts: SafeHtml[] = [];
  if (c.max_ttl !== undefined) parts.push(html`lives at most ${c.max_ttl} s`);
  if (c.single_use) parts.push(html`single use`);
  if (c.require_dpop) parts.push(html`DPoP-bound`);
  if (c.resources) parts.push(html`resources ${list(c.resources)}`);
  if (c.arguments) parts.push(html`argument limits on ${list(Object.keys(c.arguments))}`);
  return html`${parts.map((p, i) => html`${i ? '; ' : ''}${p}`)}`;
}

export function policiesPage(v: PoliciesView): SafeHtml {
  const names = namesFor(v.frame.org, v.agents, v.users);
  const input = v.dryRun?.input ?? v.input ?? {};
  return html`
    <h1>Policies in force</h1>
    <section aria-labelledby="rules">
      <h2 id="rules">Rules</h2>
      <p class="muted">Policy version <code>${v.policies.version}</code>, from ${v.policies.files.map((f, i) => html`${i ? ', ' : ''}<code>${f.file}</code> (version ${String(f.version)})`)}.
        Any matching deny rule refuses; every matching allow rule's limits apply at once.</p>
      ${v.policies.rules.length === 0 ? html`<p>No rules are loaded: every token exchange is refused.</p>` : table(v.policies.rules, [
        { label: 'Rule', rowHeader: true, cell: (r) => html`<code>${r.id}</code>` },
        { label: 'Effect', cell: (r) => html`<strong>${r.effect}</strong>` },
        { label: 'What it says', cell: (r) => html`${r.description}<br><span class="muted">when ${describeMatch(r.match)}${r.constraints ? html`; then ${describeConstraints(r.constraints)}` : ''}</span>` },
        { label: 'Source', cell: (r) => html`<code>${r.source.file}:${r.source.line}</code>` },
      ])}
    </section>

    <section aria-labelledby="dry-run">
      <h2 id="dry-run">Dry run</h2>
      <p class="muted">Would this agent get these tools? The answer comes from the rules above, with each rule's reasoning. Nothing is issued.</p>
      ${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
      <form method="post" action="/console/policies/dry-run">
        <input type="hidden" name="csrf" value="${v.frame.csrf}">
        <label for="dry-agent">Agent</label>
        <select id="dry-agent" name="agent_id" required>
          ${v.agents.map((a) => html`<option value="${a.client_id}"${a.client_id === input.agent_id ? html` selected` : ''}>${a.name} (${a.client_id})</option>`)}
        </select>
        <label for="dry-user">Acting for</label>
        <select id="dry-user" name="user_id">
          <option value="">the organisation (org-level grant)</option>
          ${v.users.map((u) => html`<option value="${u.id}"${u.id === input.user_id ? html` selected` : ''}>user ${u.username}</option>`)}
        </select>
        <label for="dry-tools">Tools (separated by spaces or commas)</label>
        <input type="text" id="dry-tools" name="tools" required value="${input.tools ?? ''}" placeholder="notion.pages.create">
        <label for="dry-resources">Resources (optional)</label>
        <input type="text" id="dry-resources" name="resources" value="${input.resources ?? ''}" placeholder="notion:page:*">
        <label for="dry-audience">Audience (optional; the executor when empty)</label>
        <input type="text" id="dry-audience" name="audience" value="${input.audience ?? ''}" placeholder="${v.executorResource}">
        <button type="submit">Explain</button>
      </form>
      ${v.dryRun ? dryRunResult(v.dryRun, names) : ''}
    </section>`;
}

function dryRunResult(run: NonNullable<PoliciesView['dryRun']>, names: Names): SafeHtml {
  const { decision, rules } = run.explanation;
  const allowed = decision.effect === 'allow' && run.outside.length === 0;
  const c = decision.constraints;
  return html`
    <section aria-labelledby="dry-run-result" role="status">
      <h3 id="dry-run-result">Answer: ${allowed ? 'allowed' : 'denied'} for agent ${names.agent(run.input.agent_id ?? '')}</h3>
      ${run.outside.length ? html`<p class="error">Outside the agent's ceiling: ${list(run.outside)}. Token exchange refuses these before the policy is asked.</p>` : ''}
      <p>Policy says <strong>${decision.effect}</strong>${decision.matched_rules.length ? html`, matched rules ${list(decision.matched_rules)}` : ''}.</p>
      <ul>${decision.reasons.map((r) => html`<li>${r}</li>`)}</ul>
      ${decision.effect === 'allow' ? html`<p>Limits: lives at most ${c.max_ttl} s${c.single_use ? ', single use' : ''}${c.require_dpop ? ', DPoP-bound' : ''}${c.resources ? html`, resources ${list(c.resources)}` : ''}.</p>` : ''}
      ${table(rules, [
        { label: 'Rule', rowHeader: true, cell: (r) => html`<code>${r.id}</code> (${r.effect})` },
        { label: 'Applied', cell: (r) => (r.matched ? html`<strong>yes</strong>${r.tools.length ? html` to ${list(r.tools)}` : ''}` : 'no') },
        { label: 'Checks', cell: (r) => html`<ul>${r.checks.map((x) => html`<li>${x}</li>`)}</ul>` },
        { label: 'Source', cell: (r) => html`<code>${r.source.file}:${r.source.line}</code>` },
      ], { caption: 'Every rule, in order' })}
    </section>`;
}

// ---- audit --------------------------------------------------------------------------------------

export interface AuditView {
  frame: Frame;
  agents: AgentRecord[];
  users: UserRecord[];
  filters: AuditFilters;
  events: AuditRecord[];
  /** Query string of the next (older) page, when there is one. */
  older?: string | undefined;
  eventTypes: readonly string[];
  error?: string | undefined;
}

function toolsOf(e: AuditRecord): string[] {
  const d = e.details as { tools?: unknown; tool?: unknown; authorization_details?: unknown };
  const s = e.subject as { tool?: unknown };
  if (Array.isArray(d.tools)) return d.tools.filter((t): t is string => typeof t === 'string');
  for (const t of [s.tool, d.tool]) if (typeof t === 'string') return [t];
  if (Array.isArray(d.authorization_details)) {
    return (d.authorization_details as ToolAccessDetail[]).flatMap((x) => (Array.isArray(x?.tools) ? x.tools : []));
  }
  return [];
}

function summary(e: AuditRecord): SafeHtml {
  const s = e.subject as Record<string, unknown>;
  const d = e.details as Record<string, unknown>;
  const parts: SafeHtml[] = [];
  const tools = toolsOf(e);
  if (tools.length) parts.push(html`tools ${list(tools)}`);
  if (typeof s.grant_id === 'string') parts.push(html`grant <a href="/console/audit?grant_id=${encodeURIComponent(s.grant_id)}"><code>${s.grant_id}</code></a>`);
  if (typeof s.capability_id === 'string') parts.push(html`capability <code>${s.capability_id}</code>`);
  if (typeof s.account_id === 'string') parts.push(html`account <code>${s.account_id}</code>`);
  // A refusal says so first, with its code and the reason the agent was given.
  const code = typeof d.error === 'string' ? d.error : typeof d.outcome === 'string' && d.outcome !== 'ok' ? d.outcome : undefined;
  const refusal = code || /denied$/.test(e.type)
    ? html`<span class="denied">Refused${code ? html` (<code>${code}</code>)` : ''}${typeof d.reason === 'string' ? html`: ${d.reason}` : ''}</span>`
    : undefined;
  if (!refusal && typeof d.reason === 'string') parts.push(html`reason ${d.reason}`);
  const rest = html`${parts.map((p, i) => html`${i ? '; ' : ''}${p}`)}`;
  return refusal ? html`${refusal}${parts.length ? html`<br>${rest}` : ''}` : rest;
}

export function auditPage(v: AuditView): SafeHtml {
  const names = namesFor(v.frame.org, v.agents, v.users);
  const f = v.filters;
  const local = (iso: string | undefined) => (iso ? iso.slice(0, 16) : '');
  const now = v.frame.now;
  const filtered = Object.entries(f).some(([k, x]) => k !== 'cursor' && x !== undefined);
  return html`
    <h1>Audit log of ${v.frame.org.name}</h1>
    <section aria-labelledby="filters">
      <h2 id="filters">Filters</h2>
      ${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
      <form method="get" action="/console/audit" class="filters">
        <div><label for="f-type">Event type</label>
        <select id="f-type" name="type">
          <option value="">any</option>
          ${v.eventTypes.map((t) => html`<option value="${t}"${t === f.type ? html` selected` : ''}>${t}</option>`)}
        </select></div>
        <div><label for="f-user">User</label>
        <select id="f-user" name="user_id">
          <option value="">any</option>
          ${v.users.map((u) => html`<option value="${u.id}"${u.id === f.user_id ? html` selected` : ''}>${u.username}</option>`)}
        </select></div>
        <div><label for="f-agent">Agent</label>
        <select id="f-agent" name="agent_id">
          <option value="">any</option>
          ${v.agents.map((a) => html`<option value="${a.client_id}"${a.client_id === f.agent_id ? html` selected` : ''}>${a.name} (${a.client_id})</option>`)}
        </select></div>
        <div><label for="f-tool">Tool</label>
        <input type="text" id="f-tool" name="tool" value="${f.tool ?? ''}" placeholder="notion.pages.create"></div>
        <div><label for="f-grant">Grant id</label>
        <input type="text" id="f-grant" name="grant_id" value="${f.grant_id ?? ''}"></div>
        <div><label for="f-since">From (UTC)</label>
        <input type="datetime-local" id="f-since" name="since" value="${local(f.since)}"></div>
        <div><label for="f-until">Until (UTC)</label>
        <input type="datetime-local" id="f-until" name="until" value="${local(f.until)}"></div>
        <div class="actions"><button type="submit">Show events</button>
        ${filtered ? html`<a href="/console/audit">Clear filters</a>` : ''}</div>
      </form>
    </section>

    <section aria-labelledby="events">
      <h2 id="events">Events${f.cursor ? ' (older)' : ''}</h2>
      ${v.events.length === 0 ? html`<p>No events match.</p>` : table(v.events, [
        { label: 'Event', rowHeader: true, cell: (e) => html`<code>${e.type}</code><br>#${e.seq}` },
        { label: 'When', cell: (e) => moment(e.at, now) },
        { label: 'Who, for whom', class: 'who-col', cell: (e) => describeActor(e.actor, e.subject, names) },
        { label: 'Details', cell: summary },
      ], { caption: 'Newest first. Each row says who acted, through which agents, for whom.' })}
      <p>${f.cursor ? html`<a href="/console/audit?${pageQuery(f, undefined)}">Newest events</a> ` : ''}${v.older ? html`<a href="/console/audit?${v.older}" rel="next">Older events</a>` : ''}</p>
    </section>`;
}

/** The filters as a query string, with a different cursor. */
export function pageQuery(f: AuditFilters, cursor: string | undefined): string {
  const q = new URLSearchParams();
  for (const [k, x] of Object.entries({ ...f, cursor })) if (typeof x === 'string') q.set(k, x);
  return q.toString();
}

// ---- signed out, not an admin -------------------------------------------------------------------

export function notAdminPage(org: OrgRecord, user: UserRecord, accountCsrf: string): SafeHtml {
  return html`
    <h1>Only administrators of ${org.name} can open the console</h1>
    <p>You are signed in as ${user.username}, who is not an administrator of this organisation.</p>
    <p><a href="/account">Go to your own page</a> to see and revoke the agents acting for you.</p>
    <form method="post" action="/account/signout"><input type="hidden" name="csrf" value="${accountCsrf}"><button type="submit">Sign out</button></form>`;
}

export function pickOrgPage(): SafeHtml {
  return html`
    <h1>Writ admin console</h1>
    <p>Open this page with your organisation's id, for example <code>/console?org=org_…</code>, to sign in.</p>
    <form method="get" action="/console">
      <label for="org">Organisation id</label>
      <input type="text" id="org" name="org" required autocomplete="organization">
      <button type="submit">Continue</button>
    </form>`;
}
